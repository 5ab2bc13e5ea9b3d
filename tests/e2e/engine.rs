//! The dialer engine on a manual clock, through the API (and the engine's
//! clock and connection hooks): pinned legs, routing with the tone first,
//! abandonment, the last check before dialing, outcomes and retries, the
//! wrap-up limit, preview, callbacks for a named agent, manual calls.

use pinline_tests::dialer::{Floor, lead};
use pinline_tests::{Backend, engine_tests};
use serde_json::json;

engine_tests!(
    the_pinned_leg_follows_presence,
    a_human_answer_reaches_the_idle_agent_tone_first,
);

async fn the_pinned_leg_follows_presence(backend: Backend) {
    let mut f = Floor::new(backend, json!({}), vec![], 1).await;
    let p = f.set_status(0, "AVAILABLE").await;
    assert_eq!(p["status"], "AVAILABLE");
    assert_eq!(p["pinnedLeg"]["state"], "CONNECTING");
    f.advance(1).await;
    let p = f.presence(0).await;
    assert_eq!(p["pinnedLeg"]["state"], "IDLE", "{p}");
    let leg = p["pinnedLeg"]["id"].clone();

    // BREAK tears it down; AVAILABLE brings a new one.
    let p = f.set_status(0, "BREAK").await;
    assert_eq!(
        (p["status"].as_str(), &p["pinnedLeg"]),
        (Some("BREAK"), &json!(null))
    );
    let p = f.set_status(0, "AVAILABLE").await;
    assert_ne!(p["pinnedLeg"]["id"], leg);
    // OFFLINE too.
    let p = f.set_status(0, "OFFLINE").await;
    assert_eq!(p["pinnedLeg"], json!(null));
    // Logout ends it and leaves the agent OFFLINE.
    f.set_status(0, "AVAILABLE").await;
    f.agent_ok(0, "mutation { logout }", json!({})).await;
    let p = f
        .srv
        .app
        .engine
        .presence(&f.agents[0].id)
        .await
        .expect("engine")
        .expect("known");
    assert_eq!(p.status.as_str(), "OFFLINE");
    assert!(p.pinned_leg.is_none());

    // No live connection for the grace period: OFFLINE, leg gone.
    let token = f.srv.login_demo("agent1").await;
    f.agents[0].token = token;
    f.set_status(0, "AVAILABLE").await;
    f.srv.app.engine.connection(&f.agents[0].id, false);
    f.advance(29).await;
    assert_eq!(
        f.presence(0).await["status"],
        "AVAILABLE",
        "still inside the grace period"
    );
    f.advance(2).await;
    let p = f.presence(0).await;
    assert_eq!(
        (p["status"].as_str(), &p["pinnedLeg"]),
        (Some("OFFLINE"), &json!(null)),
        "{p}"
    );
    // Illegal moves are CONFLICT.
    f.srv.app.engine.connection(&f.agents[0].id, true);
    let code = f
        .agent_err(
            0,
            "mutation($cc:ID!){setAgentStatus(input:{contactCenterId:$cc,status:ON_CALL}){presence{status}}}",
            json!({"cc": f.cc}),
        )
        .await;
    assert_eq!(code, "CONFLICT");
    f.finish().await;
}

async fn a_human_answer_reaches_the_idle_agent_tone_first(backend: Backend) {
    let mut f = Floor::new(
        backend,
        json!({}),
        vec![lead("+12025550101", "human", 3, 30)],
        1,
    )
    .await;
    f.start_campaign().await;
    f.set_status(0, "AVAILABLE").await;
    f.advance(2).await;
    let calls = f.calls_seen();
    assert_eq!(calls.len(), 1, "one call for one idle agent");
    assert_eq!(
        f.presence(0).await["status"],
        "AVAILABLE",
        "ringing: not on the call yet"
    );
    f.advance(3).await;
    let call = f.active_call(0).await;
    assert_eq!(call["state"], "CONNECTED", "{call}");
    assert_eq!(
        (call["origin"].as_str(), call["dialer"].as_bool()),
        (Some("DIALER"), Some(true))
    );
    assert_eq!(
        call["lead"]["customProperties"][0],
        json!({"key": "plan", "value": "gold"})
    );
    let p = f.presence(0).await;
    assert_eq!(
        (p["status"].as_str(), p["pinnedLeg"]["state"].as_str()),
        (Some("ON_CALL"), Some("BRIDGED"))
    );
    let steps = f.steps_of(&calls[0]);
    let tone = steps.iter().position(|s| s == "TONE").expect("tone");
    let connected = steps
        .iter()
        .position(|s| s == "CONNECTED")
        .expect("connected");
    assert!(tone < connected, "{steps:?}");
    assert_eq!(&steps[..3], ["DIALING", "RINGING", "TONE"], "{steps:?}");

    // The lead hangs up after 30 s: wrap-up, leg back to idle.
    f.advance(30).await;
    let p = f.presence(0).await;
    assert_eq!(
        (p["status"].as_str(), p["pinnedLeg"]["state"].as_str()),
        (Some("WRAP_UP"), Some("IDLE")),
        "{p}"
    );
    assert_eq!(p["wrapUpCall"]["id"].as_str(), Some(calls[0].as_str()));
    let c = f.call(&calls[0]).await;
    assert_eq!(
        (c["state"].as_str(), c["outcome"].as_str()),
        (Some("ENDED"), Some("COMPLETED")),
        "{c}"
    );
    let steps = f.steps_of(&calls[0]);
    assert!(
        steps.ends_with(&["ENDED".into(), "WRAP_UP_REQUIRED".into()]),
        "{steps:?}"
    );
    // No new call reaches an agent in wrap-up.
    f.advance(10).await;
    assert_eq!(f.calls_seen().len(), 1);
    let w = f.wrap_up(0, &calls[0], "INTERESTED").await;
    assert_eq!(w["presence"]["status"], "AVAILABLE");
    // Retried: the stored one comes back, nothing new.
    let again = f.wrap_up(0, &calls[0], "INTERESTED").await;
    assert_eq!(again["wrapUp"]["id"], w["wrapUp"]["id"]);
    let l = f.lead_by_phone("+12025550101").await;
    assert_eq!(
        (l["status"].as_str(), l["attempts"].as_i64()),
        (Some("FINISHED"), Some(1)),
        "{l}"
    );
    f.finish().await;
}
