//! The supervisors' live floor over the API: the calls in progress of a
//! contact center (`liveCalls`), for supervisors of that contact center only.

use pinline_tests::dialer::{Floor, lead};
use pinline_tests::engine_tests;
use serde_json::json;

engine_tests!(live_calls_list_the_calls_in_progress_for_their_supervisors);

const LIVE: &str =
    "query($cc:ID!){liveCalls(contactCenterId:$cc){id state dialer agent{id} lead{phone}}}";

async fn live_calls_list_the_calls_in_progress_for_their_supervisors(
    backend: pinline_tests::Backend,
) {
    let mut f = Floor::new(
        backend,
        json!({}),
        vec![lead("+12025550501", "human", 1, 600)],
        1,
    )
    .await;
    let none = f.srv.ok(Some(&f.sup), LIVE, json!({"cc": f.cc})).await;
    assert_eq!(none["liveCalls"], json!([]));
    f.start_campaign().await;
    f.set_status(0, "AVAILABLE").await;
    let call = f.until_connected(0).await;
    let live = f.srv.ok(Some(&f.sup), LIVE, json!({"cc": f.cc})).await;
    assert_eq!(
        live["liveCalls"],
        json!([{"id": call, "state": "CONNECTED", "dialer": true,
                "agent": {"id": f.agents[0].id}, "lead": {"phone": "+12025550501"}}])
    );
    // Agents cannot read the floor.
    assert_eq!(f.agent_err(0, LIVE, json!({"cc": f.cc})).await, "FORBIDDEN");
    // A supervisor of another contact center cannot read this one.
    let admin = f.srv.login_demo("admin").await;
    let other = f
        .srv
        .ok(
            Some(&admin),
            "mutation{createContactCenter(input:{name:\"Elsewhere\"}){contactCenter{id}}}",
            json!({}),
        )
        .await["createContactCenter"]["contactCenter"]["id"]
        .clone();
    let code = f
        .srv
        .err_code(Some(&f.sup), LIVE, json!({"cc": other}))
        .await;
    assert!(code == "FORBIDDEN" || code == "NOT_FOUND", "{code}");
    // Admins see every contact center of the organization.
    let theirs = f.srv.ok(Some(&admin), LIVE, json!({"cc": f.cc})).await;
    assert_eq!(theirs["liveCalls"][0]["id"], json!(call));

    f.hang_up(0, &call).await;
    let after = f.srv.ok(Some(&f.sup), LIVE, json!({"cc": f.cc})).await;
    assert_eq!(
        after["liveCalls"],
        json!([]),
        "an ended call leaves the floor"
    );
    f.finish().await;
}
