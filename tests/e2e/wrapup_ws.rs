//! `wrapUpEvents(campaignId)` over a `graphql-transport-ws` connection:
//! the campaign's supervisor (and an integrator's token) get the wrap-up
//! with its marks, call and lead; an agent is refused, another
//! organization gets NOT_FOUND, and a subscriber to another campaign of
//! the organization gets nothing.

use std::time::Duration;

use pinline_tests::dialer::{Floor, lead};
use pinline_tests::ws::WsClient;
use pinline_tests::{Backend, engine_tests};
use serde_json::json;

engine_tests!(wrap_up_events_reach_authorized_subscribers_only);

async fn client(f: &Floor, token: &str) -> WsClient {
    WsClient::signed_in(&f.srv.ws_url(), token).await
}

fn query(campaign: &str) -> String {
    format!(
        "subscription {{ wrapUpEvents(campaignId: \"{campaign}\") {{ corrected wrapUp {{ id dispositionCode notes doNotCall doNotText invalidNumber }} call {{ id }} lead {{ id phone }} }} }}"
    )
}

async fn wrap_up_events_reach_authorized_subscribers_only(backend: Backend) {
    let phone = "+12025550801";
    let mut f = Floor::new(backend, json!({}), vec![lead(phone, "human", 1, 600)], 1).await;
    let admin = f.srv.login_demo("admin").await;
    let integrator = f
        .srv
        .ok(
            Some(&admin),
            "mutation{createApiToken(input:{name:\"crm\",role:SUPERVISOR}){token}}",
            json!({}),
        )
        .await["createApiToken"]["token"]
        .as_str()
        .expect("token")
        .to_owned();
    let other_campaign = f.campaign("Other").await;
    let boss = f.other_org_admin().await;

    let mut sup = client(&f, &f.sup).await;
    sup.subscribe("w", &query(&f.campaign)).await;
    let mut api = client(&f, &integrator).await;
    api.subscribe("w", &query(&f.campaign)).await;
    let mut elsewhere = client(&f, &f.sup).await;
    elsewhere.subscribe("w", &query(&other_campaign)).await;
    let mut agent = client(&f, &f.agents[0].token).await;
    agent.subscribe("w", &query(&f.campaign)).await;
    let refused = agent
        .next_data("w", Duration::from_secs(5))
        .await
        .expect("an answer");
    assert_eq!(
        refused["errors"][0]["extensions"]["code"], "FORBIDDEN",
        "{refused}"
    );
    let mut other = client(&f, &boss).await;
    other.subscribe("w", &query(&f.campaign)).await;
    let refused = other
        .next_data("w", Duration::from_secs(5))
        .await
        .expect("an answer");
    assert_eq!(
        refused["errors"][0]["extensions"]["code"], "NOT_FOUND",
        "{refused}"
    );
    tokio::time::sleep(Duration::from_millis(300)).await;

    f.start_campaign().await;
    f.set_status(0, "AVAILABLE").await;
    let call = f.until_connected(0).await;
    f.hang_up(0, &call).await;
    f.advance(1).await;
    f.agent_ok(
        0,
        "mutation($c:ID!){submitWrapUp(input:{callId:$c,dispositionCode:\"NOT_INTERESTED\",notes:\"no <thanks>\",doNotCall:true,doNotText:true}){wrapUp{id}}}",
        json!({"c": call}),
    )
    .await;
    for ws in [&mut sup, &mut api] {
        let got = ws
            .next_data("w", Duration::from_secs(5))
            .await
            .expect("the wrap-up");
        let e = &got["data"]["wrapUpEvents"];
        assert_eq!(e["call"]["id"], call.as_str(), "{got}");
        assert_eq!(e["lead"]["phone"], phone);
        assert_eq!(e["corrected"], false);
        assert_eq!(
            (
                &e["wrapUp"]["doNotCall"],
                &e["wrapUp"]["doNotText"],
                &e["wrapUp"]["notes"]
            ),
            (&json!(true), &json!(true), &json!("no <thanks>"))
        );
    }
    assert!(
        elsewhere
            .next_data("w", Duration::from_secs(1))
            .await
            .is_err(),
        "another campaign's subscriber saw it"
    );
    f.finish().await;
}
