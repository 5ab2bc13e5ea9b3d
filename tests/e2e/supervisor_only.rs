//! The supervisor surface is the server's to guard, whatever a web app
//! shows: an agent's token runs none of the supervisor queries or
//! subscriptions, and a supervisor sees only their own contact centers'
//! floor.

use std::time::Duration;

use pinline_tests::dialer::{Floor, lead};
use pinline_tests::engine_tests;
use pinline_tests::ws::WsClient;
use serde_json::json;

engine_tests!(agents_run_no_supervisor_query_or_subscription);

async fn agents_run_no_supervisor_query_or_subscription(backend: pinline_tests::Backend) {
    let f = Floor::new(
        backend,
        json!({}),
        vec![lead("+12025550601", "human", 1, 600)],
        1,
    )
    .await;
    let (cc, c) = (f.cc.clone(), f.campaign.clone());
    let range = r#"from:"2026-11-24T00:00:00Z",to:"2026-11-25T00:00:00Z""#;
    let queries = [
        format!(r#"{{ agentFloor(contactCenterId:"{cc}") {{ status }} }}"#),
        format!(r#"{{ liveCalls(contactCenterId:"{cc}") {{ id }} }}"#),
        format!(r#"{{ campaignStats(campaignId:"{c}") {{ attempts }} }}"#),
        format!(r#"{{ campaignReport(campaignId:"{c}") {{ __typename }} }}"#),
        format!(r#"{{ agentPerformance(contactCenterId:"{cc}") {{ __typename }} }}"#),
        format!(
            r#"{{ complianceTrail(campaignId:"{c}",{range}) {{ edges {{ node {{ verdict }} }} }} }}"#
        ),
        format!(r#"{{ leads(campaignId:"{c}") {{ edges {{ node {{ id }} }} }} }}"#),
        format!(r#"{{ followUpRules(campaignId:"{c}") {{ id }} }}"#),
        "{ listEntries(list:DO_NOT_CALL) { edges { node { phone } } } }".to_owned(),
        format!(
            r#"{{ checkCampaign(input:{{contactCenterId:"{cc}",name:"Check",callerId:"+14155550100"}}) {{ field }} }}"#
        ),
        "{ webhookEndpoints { id } }".to_owned(),
        "{ auditLog { edges { node { id } } } }".to_owned(),
    ];
    let admin = f.srv.login_demo("admin").await;
    for q in &queries {
        let code = f.agent_err(0, q, json!({})).await;
        assert!(
            code == "FORBIDDEN" || code == "NOT_FOUND",
            "an agent ran {q}: {code}"
        );
        // The supervisor may (the last two are the admins').
        let admins_only = q.contains("webhookEndpoints") || q.contains("auditLog");
        let may = if admins_only { &admin } else { &f.sup };
        f.srv.ok(Some(may), q, json!({})).await;
    }

    let subscriptions = [
        format!(r#"subscription {{ agentPresence(contactCenterId:"{cc}") {{ status }} }}"#),
        format!(r#"subscription {{ callEvents(contactCenterId:"{cc}") {{ step }} }}"#),
        format!(r#"subscription {{ campaignStats(campaignId:"{c}") {{ attempts }} }}"#),
        format!(r#"subscription {{ wrapUpEvents(campaignId:"{c}") {{ corrected }} }}"#),
    ];
    refused(
        &f.srv.ws_url(),
        &f.agents[0].token,
        &subscriptions,
        "an agent",
    )
    .await;

    // A supervisor outside a contact center cannot watch its floor.
    let other = f
        .srv
        .ok(
            Some(&admin),
            "mutation{createContactCenter(input:{name:\"Elsewhere\",dialerEnabled:true}){contactCenter{id}}}",
            json!({}),
        )
        .await["createContactCenter"]["contactCenter"]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let elsewhere = [
        format!(r#"subscription {{ agentPresence(contactCenterId:"{other}") {{ status }} }}"#),
        format!(r#"subscription {{ callEvents(contactCenterId:"{other}") {{ step }} }}"#),
    ];
    refused(
        &f.srv.ws_url(),
        &f.sup,
        &elsewhere,
        "a supervisor of another contact center",
    )
    .await;
    let code = f
        .srv
        .err_code(
            Some(&f.sup),
            "query($cc:ID!){agentFloor(contactCenterId:$cc){status}}",
            json!({"cc": other}),
        )
        .await;
    assert!(code == "FORBIDDEN" || code == "NOT_FOUND", "{code}");
    f.finish().await;
}

/// Each of `subscriptions`, over one connection signed in with `token`,
/// is answered with FORBIDDEN or NOT_FOUND.
async fn refused(url: &str, token: &str, subscriptions: &[String], who: &str) {
    let mut ws = WsClient::signed_in(url, token).await;
    for (i, s) in subscriptions.iter().enumerate() {
        let id = (i + 1).to_string();
        ws.subscribe(&id, s).await;
        let answer = ws
            .next_data(&id, Duration::from_secs(5))
            .await
            .unwrap_or_else(|e| panic!("no answer to {s}: {e}"));
        let code = answer["errors"][0]["extensions"]["code"]
            .as_str()
            .unwrap_or("");
        assert!(
            code == "FORBIDDEN" || code == "NOT_FOUND",
            "{who} subscribed to {s}: {answer}"
        );
    }
}
