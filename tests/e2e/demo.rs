//! The demo seed shows the dialer working: the supervisor starts the demo
//! campaign, the demo agents go Available, and dialer calls reach them
//! within a minute — at a US afternoon and at a US night alike (the demo's
//! leads are spread over zones around the world).

use chrono::{DateTime, Utc};
use pinline::events::EventKind;
use pinline_tests::dialer::{demo_agent, first_contact_center};
use pinline_tests::{Backend, TestServer, engine_tests};
use serde_json::json;

engine_tests!(
    the_demo_dials_in_a_us_afternoon,
    the_demo_dials_in_a_us_night
);

async fn the_demo_dials_in_a_us_afternoon(backend: Backend) {
    demo_dials_at(backend, "2026-11-24T19:00:00Z").await
}

async fn the_demo_dials_in_a_us_night(backend: Backend) {
    // 04:00 in New York, 01:00 in Los Angeles, 23:00 in Honolulu: every
    // US lead is outside its calling window.
    demo_dials_at(backend, "2026-11-25T09:00:00Z").await
}

async fn demo_dials_at(backend: Backend, at: &str) {
    let start: DateTime<Utc> = at.parse().expect("time");
    let srv = TestServer::start_with(backend, |c| c.manual_clock_start = Some(start)).await;
    srv.seed_demo().await;
    let sup = srv.login_demo("supervisor").await;
    let cc = first_contact_center(&srv, &sup).await;
    let data = srv
        .ok(
            Some(&sup),
            "{ campaigns { edges { node { id name } } } }",
            json!({}),
        )
        .await;
    let campaign = data["campaigns"]["edges"]
        .as_array()
        .expect("campaigns")
        .iter()
        .map(|e| &e["node"])
        .find(|n| n["name"] == pinline::bootstrap::DEMO_CAMPAIGN)
        .expect("the demo campaign")["id"]
        .as_str()
        .expect("id")
        .to_owned();
    srv.ok(
        Some(&sup),
        "mutation($c:ID!){startCampaign(input:{campaignId:$c}){campaign{state}}}",
        json!({"c": campaign}),
    )
    .await;
    let mut events = srv.app.events.subscribe();
    let mut agents = Vec::new();
    for i in 1..=5 {
        let agent = demo_agent(&srv, i).await;
        let p = srv
            .ok(
                Some(&agent.token),
                "mutation($cc:ID!){setAgentStatus(input:{contactCenterId:$cc,status:AVAILABLE}){presence{status}}}",
                json!({"cc": cc}),
            )
            .await;
        assert_eq!(p["setAgentStatus"]["presence"]["status"], "AVAILABLE");
        agents.push(agent.id);
    }
    for _ in 0..60 {
        srv.app
            .engine
            .advance(chrono::Duration::seconds(1))
            .await
            .expect("engine runs");
    }
    let mut placed = 0;
    let mut connected: Vec<(String, Option<String>)> = Vec::new();
    use futures::FutureExt;
    use futures::StreamExt;
    while let Some(Some(e)) = events.next().now_or_never() {
        if let EventKind::Call { step, call, .. } = &e.kind {
            match step.as_str() {
                "DIALING" => placed += 1,
                "CONNECTED" => connected.push((call.origin.clone(), call.agent_id.clone())),
                _ => {}
            }
        }
    }
    assert!(placed >= 5, "{placed} calls placed in a minute at {at}");
    assert!(
        !connected.is_empty(),
        "no call reached an agent in a minute at {at} ({placed} placed)"
    );
    for (origin, agent) in &connected {
        assert_eq!(origin, "DIALER");
        assert!(agent.as_ref().is_some_and(|a| agents.contains(a)));
    }
    srv.finish().await;
}
