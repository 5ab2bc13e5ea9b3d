//! The dialer's live events over a standard `graphql-transport-ws`
//! connection: the agent sees their pinned leg go IDLE and a call connect
//! and end; the supervisor's `callEvents` sees the same call; another
//! organization's admin sees nothing and may not subscribe to ours.

use std::time::Duration;

use pinline_tests::dialer::{Floor, lead};
use pinline_tests::ws::WsClient;
use pinline_tests::{Backend, engine_tests};
use serde_json::{Value, json};

engine_tests!(agents_and_supervisors_see_the_call_live);

const AGENT_EVENTS: &str = "subscription { agentEvents { __typename
  ... on PinnedLegChanged { pinnedLeg { state } }
  ... on PresenceChanged { presence { status wrapUpCall { id } activeCall { id } pinnedLeg { state } } }
  ... on CallEvent { step at call { id state origin } } } }";

async fn client(f: &Floor, token: &str) -> WsClient {
    WsClient::signed_in(&f.srv.ws_url(), token).await
}

/// Every payload on `id` until nothing comes for `quiet`.
async fn drain(ws: &mut WsClient, id: &str, quiet: Duration) -> Vec<Value> {
    let mut out = Vec::new();
    while let Ok(v) = ws.next_data(id, quiet).await {
        out.push(v);
    }
    out
}

async fn agents_and_supervisors_see_the_call_live(backend: Backend) {
    let mut f = Floor::new(
        backend,
        json!({}),
        vec![lead("+12025550161", "human", 2, 10)],
        1,
    )
    .await;
    // Another organization, with its own contact center.
    let (_, boss) = pinline::bootstrap::create_org(
        &f.srv.app.db,
        "Other Co",
        "boss@other.test",
        "other-password",
    )
    .await
    .expect("org");
    let boss = f.srv.login(&boss.email, "other-password").await;
    let other_cc = f
        .srv
        .ok(
            Some(&boss),
            "mutation{createContactCenter(input:{name:\"Theirs\",dialerEnabled:true}){contactCenter{id}}}",
            json!({}),
        )
        .await["createContactCenter"]["contactCenter"]["id"]
        .as_str()
        .expect("cc")
        .to_owned();

    let mut agent = client(&f, &f.agents[0].token).await;
    agent.subscribe("a", AGENT_EVENTS).await;
    let mut sup = client(&f, &f.sup).await;
    sup.subscribe(
        "c",
        &format!(
            "subscription {{ callEvents(contactCenterId: \"{}\") {{ step call {{ id state }} }} }}",
            f.cc
        ),
    )
    .await;
    let mut other = client(&f, &boss).await;
    other
        .subscribe(
            "mine",
            &format!(
                "subscription {{ callEvents(contactCenterId: \"{other_cc}\") {{ step call {{ id }} }} }}"
            ),
        )
        .await;
    other
        .subscribe(
            "presence",
            &format!(
                "subscription {{ agentPresence(contactCenterId: \"{other_cc}\") {{ status }} }}"
            ),
        )
        .await;
    // Ours is not theirs to watch.
    other
        .subscribe(
            "ours",
            &format!(
                "subscription {{ callEvents(contactCenterId: \"{}\") {{ step }} }}",
                f.cc
            ),
        )
        .await;
    let refused = other
        .next_data("ours", Duration::from_secs(5))
        .await
        .expect("an answer");
    assert_eq!(
        refused["errors"][0]["extensions"]["code"], "NOT_FOUND",
        "{refused}"
    );
    // Let the server register the subscriptions.
    tokio::time::sleep(Duration::from_millis(300)).await;

    f.start_campaign().await;
    f.set_status(0, "AVAILABLE").await;
    f.advance(1).await;
    f.advance(5).await;
    let call = f.active_call(0).await;
    let call_id = call["id"].as_str().expect("a call").to_owned();
    f.advance(10).await;
    assert_eq!(f.call(&call_id).await["state"], "ENDED");

    let seen = drain(&mut agent, "a", Duration::from_secs(2)).await;
    let events: Vec<&Value> = seen.iter().map(|v| &v["data"]["agentEvents"]).collect();
    let idle = events
        .iter()
        .position(|e| e["__typename"] == "PinnedLegChanged" && e["pinnedLeg"]["state"] == "IDLE");
    let step_at = |step: &str| {
        events
            .iter()
            .position(|e| e["step"] == step && e["call"]["id"] == call_id.as_str())
    };
    let (connected, ended) = (step_at("CONNECTED"), step_at("ENDED"));
    assert!(
        idle.is_some() && idle < connected && connected < ended,
        "the leg goes IDLE, then the call connects, then ends: {events:#?}"
    );
    // Each presence change is sent once: one ON_CALL (status, call and
    // leg changed together), and no presence twice in a row.
    let presences: Vec<&Value> = events
        .iter()
        .filter(|e| e["__typename"] == "PresenceChanged")
        .map(|e| &e["presence"])
        .collect();
    let on_call: Vec<&&Value> = presences
        .iter()
        .filter(|p| p["status"] == "ON_CALL")
        .collect();
    assert_eq!(on_call.len(), 1, "{presences:#?}");
    assert!(
        presences.windows(2).all(|w| w[0] != w[1]),
        "a presence sent twice: {presences:#?}"
    );
    // On the call, no wrap-up is owed yet; once it ended, this call's is.
    assert_eq!(on_call[0]["activeCall"]["id"], call_id.as_str());
    assert_eq!(on_call[0]["wrapUpCall"], Value::Null, "{:#}", on_call[0]);
    assert_eq!(on_call[0]["pinnedLeg"]["state"], "BRIDGED");
    let wrap = presences
        .iter()
        .find(|p| p["status"] == "WRAP_UP")
        .expect("wrap-up");
    assert_eq!(wrap["wrapUpCall"]["id"], call_id.as_str());
    // TONE at the bridge, CONNECTED when the 150-ms tone is over.
    let at_of = |step: &str| {
        let e = events
            .iter()
            .find(|e| e["step"] == step && e["call"]["id"] == call_id.as_str())
            .unwrap_or_else(|| panic!("{step}"));
        chrono::DateTime::parse_from_rfc3339(e["at"].as_str().expect("at")).expect("time")
    };
    assert_eq!((at_of("CONNECTED") - at_of("TONE")).num_milliseconds(), 150);
    assert!(at_of("ANSWERED") <= at_of("TONE"));

    let steps: Vec<String> = drain(&mut sup, "c", Duration::from_secs(1))
        .await
        .iter()
        .filter(|v| v["data"]["callEvents"]["call"]["id"] == call_id.as_str())
        .filter_map(|v| v["data"]["callEvents"]["step"].as_str().map(str::to_owned))
        .collect();
    assert_eq!(
        &steps[..5],
        ["DIALING", "RINGING", "ANSWERED", "TONE", "CONNECTED"],
        "{steps:?}"
    );
    assert!(
        steps.contains(&"ENDED".to_owned()),
        "supervisor missed ENDED: {steps:?}"
    );

    for id in ["mine", "presence"] {
        let leaked = drain(&mut other, id, Duration::from_secs(1)).await;
        assert!(
            leaked.is_empty(),
            "another organization saw {id}: {leaked:?}"
        );
    }
    f.finish().await;
}
