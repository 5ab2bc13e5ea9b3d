//! Webhooks survive a crash: the receiver is down when the wrap-up is
//! submitted, the server is SIGKILLed with the delivery still owed and
//! started again, the receiver comes up (failing its first request) — and
//! the webhook arrives, signed, every delivery with the same `Webhook-Id`.

use std::time::Duration;

use pinline_tests::receiver::{Receiver, free_port, signature_valid};
use pinline_tests::serve::Served;
use pinline_tests::{Backend, dialer, pg};
use serde_json::{Value, json};

const MESSAGES: &str = "{ webhookEndpoints { messages { id attempts deliveredAt lastError } } }";

async fn messages(s: &Served, admin: &str) -> Vec<Value> {
    s.ok(Some(admin), MESSAGES, json!({})).await["webhookEndpoints"][0]["messages"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

async fn webhook_survives_a_kill(backend: Backend) {
    let dir = tempfile::tempdir().expect("dir");
    let db_url = match backend {
        Backend::Sqlite => None,
        Backend::Postgres => Some(pg::empty_database().await),
    };
    let args = [
        "--seed-demo",
        "--demo-agents",
        "0",
        "--demo-days",
        "0",
        "--agent-grace-secs",
        "600",
        "--webhook-retry-ms",
        "200",
    ];
    let first = Served::start(dir.path(), db_url.as_deref(), &args).await;
    let password = first.password.clone().expect("demo logins");
    let admin = first.login("admin@demo.pinline.test", &password).await;
    let sup = first.login("supervisor@demo.pinline.test", &password).await;
    let agent = first.login("agent1@demo.pinline.test", &password).await;
    let port = free_port().await;
    let ep = first
        .ok(
            Some(&admin),
            "mutation($u:String!){createWebhookEndpoint(input:{name:\"CRM\",url:$u}){endpoint{id} secret}}",
            json!({"u": format!("http://{port}/hook")}),
        )
        .await["createWebhookEndpoint"]
        .clone();
    let secret = ep["secret"].as_str().expect("secret").to_owned();
    let cc = first.first_contact_center(&sup).await;
    let campaign = first
        .ok(
            Some(&sup),
            "mutation($i:CreateCampaignInput!){createCampaign(input:$i){campaign{id}}}",
            json!({"i": {"contactCenterId": cc, "name": "Hooks", "callerId": "+14155550100", "dialMode": "PROGRESSIVE"}}),
        )
        .await["createCampaign"]["campaign"]["id"]
        .as_str()
        .expect("campaign")
        .to_owned();
    first
        .ok(
            Some(&sup),
            "mutation($i:AddFollowUpRuleInput!){addFollowUpRule(input:$i){id}}",
            json!({"i": {"campaignId": campaign, "action": "WEBHOOK", "endpointId": ep["endpoint"]["id"]}}),
        )
        .await;
    let mut l = dialer::lead("+12025550601", "human", 1, 1);
    l["timeZone"] = json!(pinline::bench::engine::daytime_zone());
    l["timeZoneVerified"] = json!(true);
    first
        .ok(
            Some(&sup),
            "mutation($i:AddLeadsInput!){addLeads(input:$i){added}}",
            json!({"i": {"campaignId": campaign, "leads": [l]}}),
        )
        .await;
    first
        .ok(
            Some(&sup),
            "mutation($c:ID!){startCampaign(input:{campaignId:$c}){campaign{state}}}",
            json!({"c": campaign}),
        )
        .await;
    first
        .ok(
            Some(&agent),
            "mutation($cc:ID!){setAgentStatus(input:{contactCenterId:$cc,status:AVAILABLE}){presence{status}}}",
            json!({"cc": cc}),
        )
        .await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    let call = loop {
        let p = first
            .ok(
                Some(&agent),
                "{ myPresence { status wrapUpCall { id } } }",
                json!({}),
            )
            .await;
        if p["myPresence"]["status"] == "WRAP_UP" {
            break p["myPresence"]["wrapUpCall"]["id"]
                .as_str()
                .expect("call")
                .to_owned();
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no call to wrap up: {p}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    first
        .ok(
            Some(&agent),
            "mutation($c:ID!){submitWrapUp(input:{callId:$c,dispositionCode:\"INTERESTED\",notes:\"signed up\",doNotText:true}){wrapUp{id}}}",
            json!({"c": call}),
        )
        .await;
    // The receiver is down: attempts fail and the message stays owed.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let m = messages(&first, &admin).await;
        if m.first().is_some_and(|m| m["attempts"].as_i64() >= Some(1)) {
            assert!(
                m[0]["deliveredAt"].is_null() && m[0]["lastError"].is_string(),
                "{m:?}"
            );
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no failed attempt: {m:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    first.kill().await;

    let second = Served::start(dir.path(), db_url.as_deref(), &args).await;
    let admin = second.login("admin@demo.pinline.test", &password).await;
    let receiver = Receiver::start(port, &[503]).await;
    let got = receiver.wait_for(2, 30).await;
    let id = got[0].header("webhook-id").expect("Webhook-Id").to_owned();
    for r in &got {
        assert_eq!(
            r.header("webhook-id"),
            Some(id.as_str()),
            "every delivery, the same id"
        );
        assert!(
            signature_valid(
                &secret,
                &r.body,
                r.header("webhook-signature").unwrap_or("")
            ),
            "bad signature"
        );
        let body = r.json();
        assert_eq!(body["id"], id.as_str());
        assert_eq!(body["wrapUp"]["dispositionCode"], "INTERESTED");
        assert_eq!(body["wrapUp"]["doNotText"], true);
        assert_eq!(body["wrapUp"]["revokeConsent"], false);
        assert_eq!(body["call"]["id"], call.as_str());
    }
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let m = messages(&second, &admin).await;
        if m.first().is_some_and(|m| m["deliveredAt"].is_string()) {
            assert_eq!(m.len(), 1, "one message, however many deliveries");
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "not marked delivered: {m:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(second.stop().await);
    if let Some(url) = db_url {
        pg::drop_database(&url).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhook_survives_a_kill_on_sqlite() {
    webhook_survives_a_kill(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhook_survives_a_kill_on_postgres() {
    webhook_survives_a_kill(Backend::Postgres).await;
}
