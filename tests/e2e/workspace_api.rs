//! What the agent workspace reads besides the live stream: the running
//! campaign of a contact center (the dialer banner), a call's dispositions
//! (the wrap-up panel) and a lead's history (the screen pop).

use pinline_tests::dialer::{Floor, lead};
use pinline_tests::engine_tests;
use serde_json::json;

engine_tests!(
    the_running_campaign_shows_while_it_runs,
    a_call_carries_its_dispositions_and_its_leads_history,
    only_a_browser_pinned_leg_takes_an_sdp_offer,
);

const CONNECT: &str = "mutation($sdp:String!){connectPinnedLeg(input:{sdpOffer:$sdp}){sdpAnswer}}";

/// With the `sim` provider the pinned leg is SIMULATED: the page has
/// nothing to open (the browser leg itself is tested in tests/sip).
async fn only_a_browser_pinned_leg_takes_an_sdp_offer(backend: pinline_tests::Backend) {
    let f = Floor::new(backend, json!({}), vec![], 1).await;
    let refused = |why: &'static str| {
        let f = &f;
        async move {
            let body = f
                .srv
                .gql(Some(&f.agents[0].token), CONNECT, json!({"sdp": "v=0"}))
                .await;
            assert_eq!(
                pinline_tests::error_code(&body).as_deref(),
                Some("CONFLICT")
            );
            assert!(body.to_string().contains(why), "{why}: {body}");
        }
    };
    refused("you have no pinned audio leg").await;
    let p = f.set_status(0, "AVAILABLE").await;
    assert_eq!(p["pinnedLeg"]["kind"], "SIMULATED", "{p}");
    refused("simulated, not a browser one").await;
    f.finish().await;
}

const RUNNING: &str = "query($id:ID!){contactCenter(id:$id){runningCampaign{id name dialMode}}}";

async fn the_running_campaign_shows_while_it_runs(backend: pinline_tests::Backend) {
    let f = Floor::new(
        backend,
        json!({}),
        vec![lead("+12025550401", "human", 1, 600)],
        1,
    )
    .await;
    let running = f.agent_ok(0, RUNNING, json!({"id": f.cc})).await;
    assert_eq!(running["contactCenter"]["runningCampaign"], json!(null));
    f.start_campaign().await;
    let running = f.agent_ok(0, RUNNING, json!({"id": f.cc})).await;
    assert_eq!(
        running["contactCenter"]["runningCampaign"]["id"],
        json!(f.campaign)
    );
    assert_eq!(
        running["contactCenter"]["runningCampaign"]["name"],
        "Engine test"
    );
    f.lifecycle("pauseCampaign", &f.campaign).await;
    let running = f.agent_ok(0, RUNNING, json!({"id": f.cc})).await;
    assert_eq!(
        running["contactCenter"]["runningCampaign"],
        json!(null),
        "paused"
    );
    f.finish().await;
}

const CALL: &str = "query($id:ID!){call(id:$id){id dispositions{code label category} \
     lead{history(first:5){id wrapUp{notes}}}}}";

async fn a_call_carries_its_dispositions_and_its_leads_history(backend: pinline_tests::Backend) {
    let dispositions = json!([
        {"code": "SOLD", "label": "Sold", "category": "FINAL"},
        {"code": "NOPE", "label": "Not now", "category": "CONTACT"},
    ]);
    let mut f = Floor::new(
        backend,
        json!({"dispositions": dispositions}),
        vec![lead("+12025550402", "human", 1, 600)],
        1,
    )
    .await;
    f.start_campaign().await;
    f.set_status(0, "AVAILABLE").await;
    let first = f.until_connected(0).await;
    let c = f.agent_ok(0, CALL, json!({"id": first})).await;
    assert_eq!(
        c["call"]["dispositions"], dispositions,
        "the campaign's set"
    );
    assert_eq!(
        c["call"]["lead"]["history"],
        json!([{"id": first, "wrapUp": null}]),
        "the call in progress is the lead's history so far"
    );
    f.hang_up(0, &first).await;
    f.wrap_up(0, &first, "NOPE").await;

    // The agent calls the lead back by hand: a second attempt, newest first.
    let lead_id = f.lead_by_phone("+12025550402").await["id"].clone();
    let placed = f
        .agent_ok(
            0,
            "mutation($cc:ID!,$l:ID!){placeCall(input:{contactCenterId:$cc,leadId:$l}){call{id}}}",
            json!({"cc": f.cc, "l": lead_id}),
        )
        .await;
    let second = placed["placeCall"]["call"]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let c = f.agent_ok(0, CALL, json!({"id": second})).await;
    assert_eq!(
        c["call"]["lead"]["history"],
        json!([{"id": second, "wrapUp": null}, {"id": first, "wrapUp": {"notes": "ok"}}])
    );
    let one = f
        .agent_ok(
            0,
            "query($id:ID!){call(id:$id){lead{history(first:1){id}}}}",
            json!({"id": second}),
        )
        .await;
    assert_eq!(one["call"]["lead"]["history"], json!([{"id": second}]));
    for bad in [0, 51] {
        let code = f
            .agent_err(
                0,
                "query($id:ID!,$n:Int!){call(id:$id){lead{history(first:$n){id}}}}",
                json!({"id": second, "n": bad}),
            )
            .await;
        assert_eq!(code, "VALIDATION", "first: {bad}");
    }

    // A call outside any campaign offers the default set.
    f.hang_up(0, &second).await;
    f.wrap_up(0, &second, "SOLD").await;
    let manual = f
        .agent_ok(
            0,
            "mutation($cc:ID!){placeCall(input:{contactCenterId:$cc,phone:\"+12025550499\"}){call{id dispositions{code}}}}",
            json!({"cc": f.cc}),
        )
        .await;
    let codes: Vec<String> = manual["placeCall"]["call"]["dispositions"]
        .as_array()
        .expect("list")
        .iter()
        .filter_map(|d| d["code"].as_str().map(str::to_owned))
        .collect();
    let defaults: Vec<String> = pinline::domain::campaign::default_dispositions()
        .iter()
        .map(|d| d.code.clone())
        .collect();
    assert_eq!(codes, defaults);
    f.finish().await;
}
