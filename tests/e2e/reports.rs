//! Campaign analytics and agent performance against figures computed by
//! hand from a seeded virtual-time campaign (manual clock), on both
//! backends. The 30-day abandonment rate is checked against history
//! written straight into the store: a call 40 days old is outside it.

use chrono::{DateTime, Duration, Utc};
use pinline::dialer::engine::PresenceView;
use pinline::domain::agent::AgentStatus;
use pinline::events::EventKind;
use pinline::store::{self, models};
use pinline_tests::dialer::{Floor, lead, test_start};
use pinline_tests::{Backend, engine_tests};
use serde_json::{Value, json};

engine_tests!(campaign_and_agent_figures_match_the_hand_count);

const WRAP: &str = "mutation($i:SubmitWrapUpInput!){submitWrapUp(input:$i){wrapUp{id}}}";

fn at(v: &Value) -> DateTime<Utc> {
    v.as_str().expect("a time").parse().expect("RFC 3339")
}

/// A finished historical call straight into the store.
async fn history(f: &Floor, answered: DateTime<Utc>, outcome: &str) {
    let t = answered.naive_utc();
    let cc = &f.cc;
    let org = store::campaigns::get(&f.srv.app.db, &f.campaign)
        .await
        .expect("db")
        .expect("campaign")
        .organization_id;
    let row = models::Call {
        id: store::new_id(),
        organization_id: org,
        contact_center_id: cc.clone(),
        campaign_id: Some(f.campaign.clone()),
        lead_id: None,
        agent_id: None,
        target_agent_id: None,
        origin: "DIALER".into(),
        phone: "+12025550999".into(),
        caller_id: "+14155550100".into(),
        state: "ENDED".into(),
        outcome: Some(outcome.into()),
        answered_by: Some("HUMAN".into()),
        muted: false,
        on_hold: false,
        created_at: t - Duration::seconds(5),
        dialed_at: Some(t - Duration::seconds(5)),
        answered_at: Some(t),
        connected_at: None,
        ended_at: Some(t + Duration::seconds(10)),
        updated_at: t + Duration::seconds(10),
        hold_ms: 0,
        talk_ms: 0,
        held_at: None,
    };
    store::calls::save(&f.srv.app.db, &row, &[], None)
        .await
        .expect("history saved");
}

async fn campaign_and_agent_figures_match_the_hand_count(backend: Backend) {
    let (a, e, b, c, d) = (
        "+12025550401",
        "+12025550402",
        "+12025550403",
        "+12025550404",
        "+12025550405",
    );
    let mut f = Floor::new(
        backend,
        json!({"dialMode": "PROGRESSIVE"}),
        vec![
            lead(a, "human", 1, 600),
            lead(e, "human", 1, 600),
            lead(b, "machine", 1, 5),
            lead(c, "no_answer", 0, 0),
            lead(d, "human", 5, 30),
        ],
        1,
    )
    .await;
    // History: two live answers (one abandoned) 10 days ago count in the
    // 30 days; an abandoned one 40 days ago does not.
    let now = test_start();
    history(&f, now - Duration::days(10), "COMPLETED").await;
    history(&f, now - Duration::days(10), "ABANDONED").await;
    history(&f, now - Duration::days(40), "ABANDONED").await;

    f.start_campaign().await;
    f.set_status(0, "AVAILABLE").await;
    // A: connected, 10 s on hold, hung up 20 s later, wrapped up 5 s after.
    let call_a = f.until_connected(0).await;
    f.advance(3).await;
    let hold = "mutation($c:ID!,$h:Boolean!){holdCall(input:{callId:$c,onHold:$h})}";
    f.agent_ok(0, hold, json!({"c": call_a, "h": true})).await;
    f.advance(10).await;
    f.agent_ok(0, hold, json!({"c": call_a, "h": false})).await;
    f.advance(20).await;
    f.hang_up(0, &call_a).await;
    f.advance(5).await;
    f.agent_ok(
        0,
        WRAP,
        json!({"i": {"callId": call_a, "dispositionCode": "INTERESTED"}}),
    )
    .await;
    // E: connected, hung up after 30 s, wrapped up 8 s after.
    let call_e = f.until_connected(0).await;
    f.advance(30).await;
    f.hang_up(0, &call_e).await;
    f.advance(8).await;
    f.agent_ok(
        0,
        WRAP,
        json!({"i": {"callId": call_e, "dispositionCode": "NOT_INTERESTED"}}),
    )
    .await;
    // B (machine) and C (no answer) come and go; when D is placed the
    // agent steps away and D is abandoned.
    let mut d_call = None;
    for _ in 0..120 {
        f.advance(1).await;
        let seen = f.calls_seen();
        for id in seen {
            if f.call(&id).await["events"].to_string().contains("DIAL")
                && store::calls::get(&f.srv.app.db, &id)
                    .await
                    .expect("db")
                    .is_some_and(|r| r.phone == d)
            {
                d_call = Some(id);
            }
        }
        if d_call.is_some() {
            break;
        }
    }
    let d_call = d_call.expect("D was dialed");
    f.set_status(0, "BREAK").await;
    f.advance(10).await;
    assert_eq!(f.call(&d_call).await["outcome"], "ABANDONED");

    // By hand, from the calls as stored.
    let q = "query($id:ID!){call(id:$id){outcome connectedAt endedAt wrapUp{createdAt}}}";
    let ca = f.srv.ok(Some(&f.sup), q, json!({"id": call_a})).await["call"].clone();
    let ce = f.srv.ok(Some(&f.sup), q, json!({"id": call_e})).await["call"].clone();
    let secs = |x: &Value, from: &str, to: &str| {
        (at(&x[to]) - at(&x[from])).num_milliseconds() as f64 / 1000.0
    };
    let talk_a = secs(&ca, "connectedAt", "endedAt") - 10.0;
    let talk_e = secs(&ce, "connectedAt", "endedAt");
    let wrap_a =
        (at(&ca["wrapUp"]["createdAt"]) - at(&ca["endedAt"])).num_milliseconds() as f64 / 1000.0;
    let wrap_e =
        (at(&ce["wrapUp"]["createdAt"]) - at(&ce["endedAt"])).num_milliseconds() as f64 / 1000.0;
    assert_eq!((wrap_a, wrap_e), (5.0, 8.0));

    let report = f
        .srv
        .ok(
            Some(&f.sup),
            "query($c:ID!,$from:DateTime!,$to:DateTime!){campaignReport(campaignId:$c,from:$from,to:$to){
                attempts liveAnswers machineAnswers connects abandoned wrapUps contacts conversions
                abandonRate abandonRateToday abandonRate30d machineRate conversionRate
                avgTalkSeconds avgHoldSeconds avgWrapSeconds callsPerHour contactsPerHour
                outcomes{key count} dispositions{key count} categories{key count}
                hours{hour attempts liveAnswers connects abandoned contacts} leadsByStatus{key count}}}",
            json!({"c": f.campaign, "from": now.to_rfc3339(), "to": (now + Duration::hours(1)).to_rfc3339()}),
        )
        .await["campaignReport"]
        .clone();
    let n = |k: &str| report[k].as_i64().unwrap_or(-1);
    let x = |k: &str| report[k].as_f64().unwrap_or(-1.0);
    assert_eq!(
        [
            n("attempts"),
            n("liveAnswers"),
            n("machineAnswers"),
            n("connects"),
            n("abandoned")
        ],
        [5, 3, 1, 2, 1],
        "{report}"
    );
    assert_eq!([n("wrapUps"), n("contacts"), n("conversions")], [2, 2, 1]);
    let close = |got: f64, want: f64, what: &str| {
        assert!(
            (got - want).abs() < 1e-9,
            "{what}: {got} ≠ {want}\n{report}"
        )
    };
    close(x("abandonRate"), 1.0 / 3.0, "abandonment in the range");
    close(x("abandonRateToday"), 1.0 / 3.0, "abandonment today");
    // 30 days: today's 1 of 3, and 1 of the 2 ten days ago.
    close(x("abandonRate30d"), 2.0 / 5.0, "abandonment over 30 days");
    close(x("machineRate"), 1.0 / 4.0, "machine rate");
    close(x("conversionRate"), 0.5, "conversion rate");
    close(x("avgHoldSeconds"), 5.0, "hold per connect");
    close(
        x("avgTalkSeconds"),
        (talk_a + talk_e) / 2.0,
        "talk per connect",
    );
    close(x("avgWrapSeconds"), 6.5, "wrap per wrap-up");
    close(x("callsPerHour"), 5.0, "one dialing hour");
    close(x("contactsPerHour"), 2.0, "contacts per hour");
    let counts = |k: &str| {
        report[k]
            .as_array()
            .expect("counts")
            .iter()
            .map(|c| {
                (
                    c["key"].as_str().unwrap_or("").to_owned(),
                    c["count"].as_i64().unwrap_or(0),
                )
            })
            .collect::<Vec<_>>()
    };
    let own = |v: &[(&str, i64)]| {
        v.iter()
            .map(|(k, c)| ((*k).to_owned(), *c))
            .collect::<Vec<_>>()
    };
    assert_eq!(
        counts("outcomes"),
        own(&[
            ("ABANDONED", 1),
            ("COMPLETED", 2),
            ("MACHINE", 1),
            ("NO_ANSWER", 1)
        ])
    );
    assert_eq!(
        counts("dispositions"),
        own(&[("INTERESTED", 1), ("NOT_INTERESTED", 1)])
    );
    assert_eq!(counts("categories"), own(&[("CONTACT", 1), ("FINAL", 1)]));
    assert_eq!(report["hours"].as_array().map(Vec::len), Some(1));
    assert_eq!(report["hours"][0]["attempts"], 5);
    assert_eq!(report["hours"][0]["contacts"], 2);
    // The same figures whether the range is read from the hourly rollup
    // (whole hours), from the raw rows (inside one hour) or from both
    // (ragged edges).
    let same = "query($c:ID!,$from:DateTime!,$to:DateTime!){campaignReport(campaignId:$c,from:$from,to:$to){
        attempts liveAnswers connects abandoned contacts conversions avgTalkSeconds avgHoldSeconds avgWrapSeconds}}";
    let mut seen = Vec::new();
    for (from, to) in [
        (now, now + Duration::hours(1)),
        (now, now + Duration::minutes(50)),
        (now - Duration::minutes(30), now + Duration::minutes(90)),
    ] {
        let r = f
            .srv
            .ok(
                Some(&f.sup),
                same,
                json!({"c": f.campaign, "from": from.to_rfc3339(), "to": to.to_rfc3339()}),
            )
            .await["campaignReport"]
            .clone();
        seen.push(r);
    }
    assert!(seen.windows(2).all(|w| w[0] == w[1]), "{seen:#?}");
    assert_eq!(seen[0]["attempts"], 5);
    // The live figures: all time (with the history), and the last hour.
    let stats = f
        .srv
        .ok(
            Some(&f.sup),
            "query($c:ID!){campaignStats(campaignId:$c){attempts connects contacts callsLastHour contactsLastHour abandonRateToday abandonRate30d}}",
            json!({"c": f.campaign}),
        )
        .await["campaignStats"]
        .clone();
    assert_eq!(
        [
            &stats["attempts"],
            &stats["connects"],
            &stats["contacts"],
            &stats["callsLastHour"],
            &stats["contactsLastHour"]
        ],
        [&json!(8), &json!(2), &json!(2), &json!(5), &json!(2)],
        "{stats}"
    );
    close(
        stats["abandonRate30d"].as_f64().unwrap_or(-1.0),
        2.0 / 5.0,
        "live 30 days",
    );
    // A range before today's calls holds none of them.
    let before = f
        .srv
        .ok(
            Some(&f.sup),
            "query($c:ID!,$from:DateTime!,$to:DateTime!){campaignReport(campaignId:$c,from:$from,to:$to){attempts abandonRate}}",
            json!({"c": f.campaign, "from": (now - Duration::days(11)).to_rfc3339(), "to": (now - Duration::days(9)).to_rfc3339()}),
        )
        .await["campaignReport"]
        .clone();
    assert_eq!(before, json!({"attempts": 2, "abandonRate": 0.5}));
    let bad = f
        .srv
        .err_code(
            Some(&f.sup),
            "query($c:ID!,$t:DateTime!){campaignReport(campaignId:$c,from:$t,to:$t){attempts}}",
            json!({"c": f.campaign, "t": now.to_rfc3339()}),
        )
        .await;
    assert_eq!(bad, "VALIDATION");
    assert_eq!(
        f.agent_err(
            0,
            "query($c:ID!){campaignReport(campaignId:$c){attempts}}",
            json!({"c": f.campaign})
        )
        .await,
        "FORBIDDEN"
    );

    // Agent 0's time Available, from the presence events the engine sent.
    f.collect();
    let mine: Vec<PresenceView> = f
        .seen
        .iter()
        .filter_map(|ev| match &ev.kind {
            EventKind::Presence(p) if p.agent_id == f.agents[0].id => Some((**p).clone()),
            _ => None,
        })
        .collect();
    let mut idle = 0i64;
    for w in mine.windows(2) {
        if w[0].status == AgentStatus::Available && w[1].since > w[0].since {
            idle += (w[1].since - w[0].since).num_milliseconds();
        }
    }
    let idle = idle as f64 / 1000.0;
    let perf = f
        .srv
        .ok(
            Some(&f.sup),
            "query($cc:ID!,$from:DateTime!,$to:DateTime!){agentPerformance(contactCenterId:$cc,from:$from,to:$to){
                timeZone total{callsHandled}
                agents{agent{id} total{callsHandled talkSeconds holdSeconds wrapUpSeconds idleSeconds occupancy avgHandleSeconds dispositions{key count}}
                       days{date figures{callsHandled}}}}}",
            json!({"cc": f.cc, "from": now.to_rfc3339(), "to": (now + Duration::hours(1)).to_rfc3339()}),
        )
        .await["agentPerformance"]
        .clone();
    let me = &perf["agents"][0];
    assert_eq!(me["agent"]["id"], f.agents[0].id.as_str(), "{perf}");
    let t = &me["total"];
    assert_eq!(t["callsHandled"], 2);
    let handle = talk_a + talk_e + 10.0 + 13.0;
    close(
        t["talkSeconds"].as_f64().unwrap_or(-1.0),
        talk_a + talk_e,
        "agent talk",
    );
    close(
        t["holdSeconds"].as_f64().unwrap_or(-1.0),
        10.0,
        "agent hold",
    );
    close(
        t["wrapUpSeconds"].as_f64().unwrap_or(-1.0),
        13.0,
        "agent wrap",
    );
    close(
        t["idleSeconds"].as_f64().unwrap_or(-1.0),
        idle,
        "agent idle",
    );
    assert!(idle > 0.0);
    close(
        t["occupancy"].as_f64().unwrap_or(-1.0),
        handle / (handle + idle),
        "occupancy",
    );
    close(
        t["avgHandleSeconds"].as_f64().unwrap_or(-1.0),
        handle / 2.0,
        "handle time",
    );
    assert_eq!(me["days"][0]["date"], "2026-11-24");
    assert_eq!(perf["total"]["callsHandled"], 2);
    f.finish().await;
}
