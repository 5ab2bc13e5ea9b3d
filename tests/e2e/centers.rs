//! The engine split by contact center: each center's agents, calls and
//! campaigns live in an engine of their own; an agent who moves takes
//! their connections and pinned leg along, and may not leave a call.

use pinline_tests::dialer::{Floor, lead};
use pinline_tests::{Backend, engine_tests};
use serde_json::{Value, json};

engine_tests!(
    an_agent_moves_between_contact_centers_each_running_its_own_engine,
    an_agent_placed_before_their_center_runs_keeps_their_connection
);

const FLOOR: &str =
    "query($cc:ID!){agentFloor(contactCenterId:$cc){agent{id} status pinnedLeg{state}}}";
const STATUS: &str = "mutation($cc:ID!,$s:AgentStatus!){setAgentStatus(input:{contactCenterId:$cc,status:$s}){presence{status}}}";
const LIVE: &str = "query($cc:ID!){liveCalls(contactCenterId:$cc){id agent{id}}}";

async fn floor_of(f: &Floor, cc: &str) -> Vec<(String, String, String)> {
    let v = f.srv.ok(Some(&f.sup), FLOOR, json!({"cc": cc})).await;
    v["agentFloor"]
        .as_array()
        .expect("floor")
        .iter()
        .map(|p: &Value| {
            (
                p["agent"]["id"].as_str().unwrap_or_default().to_owned(),
                p["status"].as_str().unwrap_or_default().to_owned(),
                p["pinnedLeg"]["state"]
                    .as_str()
                    .unwrap_or("NONE")
                    .to_owned(),
            )
        })
        .collect()
}

async fn an_agent_moves_between_contact_centers_each_running_its_own_engine(backend: Backend) {
    let mut f = Floor::new(
        backend,
        json!({}),
        vec![lead("+12025550612", "human", 1, 600)],
        2,
    )
    .await;
    let (east, _) = f
        .second_contact_center("+12025550611", json!({"dialMode": "PROGRESSIVE"}))
        .await;
    let (main, one) = (f.cc.clone(), f.agents[1].id.clone());
    f.set_status(1, "AVAILABLE").await;
    f.advance(1).await;
    assert_eq!(
        floor_of(&f, &main).await,
        [(one.clone(), "AVAILABLE".into(), "IDLE".into())]
    );
    // To East: out of the first center's floor, in East's with a pinned
    // leg of its own there.
    f.agent_ok(1, STATUS, json!({"cc": east, "s": "AVAILABLE"}))
        .await;
    assert_eq!(floor_of(&f, &main).await, []);
    f.advance(1).await;
    assert_eq!(
        floor_of(&f, &east).await,
        [(one.clone(), "AVAILABLE".into(), "IDLE".into())]
    );
    // East's engine dials East's lead for them.
    let east_call = f.until_connected(1).await;
    // On a call in East: they may not move back.
    assert_eq!(
        f.agent_err(1, STATUS, json!({"cc": main, "s": "AVAILABLE"}))
            .await,
        "CONFLICT"
    );
    // The first center's engine goes on with its own agent meanwhile.
    f.start_campaign().await;
    f.set_status(0, "AVAILABLE").await;
    let main_call = f.until_connected(0).await;
    let live = |v: Value| v["liveCalls"].clone();
    assert_eq!(
        live(f.srv.ok(Some(&f.sup), LIVE, json!({"cc": main})).await),
        json!([{"id": main_call, "agent": {"id": f.agents[0].id}}])
    );
    assert_eq!(
        live(f.srv.ok(Some(&f.sup), LIVE, json!({"cc": east})).await),
        json!([{"id": east_call, "agent": {"id": one}}])
    );
    f.finish().await;
}

/// An agent whose status names a center not running here yet (on
/// PostgreSQL: a center just made, its lease not taken yet) keeps their
/// open connection there once it runs: past the session grace they are
/// still there, not taken for gone (OFFLINE).
async fn an_agent_placed_before_their_center_runs_keeps_their_connection(backend: Backend) {
    let mut f = Floor::new(backend, json!({}), vec![], 2).await;
    let (east, _) = f
        .second_contact_center("+12025550621", json!({"dialMode": "PROGRESSIVE"}))
        .await;
    let agent = f.agents[1].id.clone();
    f.agent_ok(1, STATUS, json!({"cc": east, "s": "AVAILABLE"}))
        .await;
    f.advance(90).await;
    // On the floor (it lists no OFFLINE agent): AVAILABLE, or on East's
    // campaign's call or its wrap-up.
    let floor: Vec<String> = floor_of(&f, &east)
        .await
        .into_iter()
        .map(|(id, _, _)| id)
        .collect();
    assert_eq!(floor, [agent]);
    f.finish().await;
}
