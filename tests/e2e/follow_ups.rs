//! Follow-up workflows through the API on both backends: rules move and
//! copy leads to other campaigns, schedule retries and callbacks (inside
//! the lead's window), and send signed webhooks from the outbox to a
//! receiver on 127.0.0.1 — retried after a failure with the same
//! `Webhook-Id`, with the history visible to admins.

use chrono::{DateTime, Duration, Utc};
use pinline_tests::dialer::{Floor, lead, test_start};
use pinline_tests::receiver::{Receiver, free_port, signature_valid};
use pinline_tests::{Backend, engine_tests};
use serde_json::{Value, json};

engine_tests!(rules_move_copy_retry_call_back_and_send_webhooks);

const ADD: &str =
    "mutation($i:AddFollowUpRuleInput!){addFollowUpRule(input:$i){id position action}}";
const WRAP: &str = "mutation($i:SubmitWrapUpInput!){submitWrapUp(input:$i){wrapUp{id}}}";

async fn take_and_wrap(f: &mut Floor, code: &str) -> (String, DateTime<Utc>) {
    let call = f.until_connected(0).await;
    f.advance(5).await;
    f.hang_up(0, &call).await;
    f.advance(2).await;
    let at = f.srv.app.engine.clock().now();
    f.agent_ok(
        0,
        WRAP,
        json!({"i": {"callId": call, "dispositionCode": code}}),
    )
    .await;
    (call, at)
}

fn find<'a>(leads: &'a [Value], phone: &str) -> Option<&'a Value> {
    leads.iter().find(|l| l["phone"] == phone)
}

async fn rules_move_copy_retry_call_back_and_send_webhooks(backend: Backend) {
    let (a, b, c, d) = (
        "+12025550501",
        "+12025550502",
        "+12025550503",
        "+12025550504",
    );
    let mut f = Floor::new(
        backend,
        json!({"dialMode": "PROGRESSIVE"}),
        vec![
            lead(a, "human", 1, 600),
            lead(b, "human", 1, 600),
            lead(c, "human", 1, 600),
            lead(d, "human", 1, 600),
        ],
        1,
    )
    .await;
    let sales = f.campaign("Sales").await;
    let survey = f.campaign("Survey").await;
    let receiver = Receiver::start(free_port().await, &[500]).await;
    let admin = f.srv.login_demo("admin").await;
    // Endpoints are the admins'.
    let create = "mutation($i:CreateWebhookEndpointInput!){createWebhookEndpoint(input:$i){endpoint{id url active} secret}}";
    let input = json!({"i": {"name": "CRM", "url": receiver.url()}});
    assert_eq!(
        f.srv.err_code(Some(&f.sup), create, input.clone()).await,
        "FORBIDDEN"
    );
    let bad = json!({"i": {"name": "CRM", "url": "ftp://example.test/x"}});
    assert_eq!(
        f.srv.err_code(Some(&admin), create, bad).await,
        "VALIDATION"
    );
    let ep = f.srv.ok(Some(&admin), create, input).await["createWebhookEndpoint"].clone();
    let endpoint = ep["endpoint"]["id"].as_str().expect("endpoint").to_owned();
    let secret = ep["secret"].as_str().expect("secret").to_owned();
    // A second endpoint, paused: its messages wait.
    let later = Receiver::start(free_port().await, &[]).await;
    let paused = f
        .srv
        .ok(
            Some(&admin),
            create,
            json!({"i": {"name": "Later", "url": later.url()}}),
        )
        .await["createWebhookEndpoint"]["endpoint"]["id"]
        .as_str()
        .expect("endpoint")
        .to_owned();
    let update = "mutation($i:UpdateWebhookEndpointInput!){updateWebhookEndpoint(input:$i){endpoint{active} secret}}";
    let off = f
        .srv
        .ok(
            Some(&admin),
            update,
            json!({"i": {"id": paused, "active": false}}),
        )
        .await;
    assert_eq!(
        off["updateWebhookEndpoint"],
        json!({"endpoint": {"active": false}, "secret": null})
    );

    // Rules, as a supervisor; bad ones refused.
    let rule = |extra: Value| {
        let mut i = json!({"campaignId": f.campaign});
        for (k, v) in extra.as_object().expect("object") {
            i[k] = v.clone();
        }
        json!({"i": i})
    };
    for (bad, why) in [
        (json!({"action": "MOVE"}), "no target"),
        (
            json!({"action": "MOVE", "targetCampaignId": f.campaign}),
            "its own campaign",
        ),
        (json!({"action": "RETRY", "delayMinutes": 0}), "no delay"),
        (
            json!({"action": "RETRY", "delayMinutes": 60, "dispositionCode": "NOPE"}),
            "unknown disposition",
        ),
        (
            json!({"action": "WEBHOOK", "endpointId": "nope"}),
            "unknown endpoint",
        ),
    ] {
        assert_eq!(
            f.srv.err_code(Some(&f.sup), ADD, rule(bad)).await,
            "VALIDATION",
            "{why}"
        );
    }
    assert_eq!(
        f.agent_err(0, ADD, rule(json!({"action": "RETRY", "delayMinutes": 5})))
            .await,
        "FORBIDDEN"
    );
    for r in [
        json!({"dispositionCode": "INTERESTED", "action": "MOVE", "targetCampaignId": sales}),
        json!({"category": "FINAL", "action": "COPY", "targetCampaignId": survey}),
        json!({"dispositionCode": "LEFT_VOICEMAIL", "action": "RETRY", "delayMinutes": 90}),
        // 10 hours after noon in New York is past 21:00: the next morning.
        json!({"dispositionCode": "NO_ANSWER", "action": "CALLBACK", "delayMinutes": 600}),
        json!({"action": "WEBHOOK", "endpointId": endpoint}),
        json!({"category": "CONTACT", "action": "WEBHOOK", "endpointId": paused}),
    ] {
        f.srv.ok(Some(&f.sup), ADD, rule(r)).await;
    }
    let listed = f
        .srv
        .ok(
            Some(&f.sup),
            "query($c:ID!){followUpRules(campaignId:$c){position action}}",
            json!({"c": f.campaign}),
        )
        .await;
    assert_eq!(
        listed["followUpRules"],
        json!([
            {"position": 0, "action": "MOVE"}, {"position": 1, "action": "COPY"},
            {"position": 2, "action": "RETRY"}, {"position": 3, "action": "CALLBACK"},
            {"position": 4, "action": "WEBHOOK"}, {"position": 5, "action": "WEBHOOK"},
        ])
    );

    f.start_campaign().await;
    f.set_status(0, "AVAILABLE").await;
    let (call_a, _) = take_and_wrap(&mut f, "INTERESTED").await;
    take_and_wrap(&mut f, "NOT_INTERESTED").await;
    let (_, wrapped_c) = take_and_wrap(&mut f, "LEFT_VOICEMAIL").await;
    take_and_wrap(&mut f, "NO_ANSWER").await;

    // Moved: in Sales, fresh; gone from the campaign.
    let own = f.leads_of(&f.campaign).await;
    assert!(find(&own, a).is_none(), "moved away: {own:?}");
    let in_sales = f.leads_of(&sales).await;
    let moved = find(&in_sales, a).expect("moved to Sales");
    assert_eq!(
        (moved["status"].as_str(), moved["attempts"].as_i64()),
        (Some("NEW"), Some(0))
    );
    // Copied: finished here, a fresh copy in Survey with its properties.
    assert_eq!(find(&own, b).expect("b")["status"], "FINISHED");
    let in_survey = f.leads_of(&survey).await;
    let copy = find(&in_survey, b).expect("copied to Survey");
    assert_eq!(copy["status"], "NEW");
    assert!(copy["customProperties"].to_string().contains("gold"));
    assert_eq!(in_survey.len(), 1, "only the FINAL one");
    // Retried 90 minutes after the wrap-up.
    let retried = find(&own, c).expect("c");
    assert_eq!(retried["status"], "RETRY");
    let due: DateTime<Utc> = retried["notBefore"]
        .as_str()
        .expect("due")
        .parse()
        .expect("time");
    assert_eq!(due, wrapped_c + Duration::minutes(90));
    // The callback lands at the next opening of the window: 08:00 in New
    // York the next day.
    let called_back = find(&own, d).expect("d");
    assert_eq!(called_back["status"], "CALLBACK");
    let due: DateTime<Utc> = called_back["notBefore"]
        .as_str()
        .expect("due")
        .parse()
        .expect("time");
    assert_eq!(
        due,
        "2026-11-25T13:00:00Z".parse::<DateTime<Utc>>().expect("t")
    );
    assert!(due > test_start());

    // Four wrap-ups, four webhooks; the first failed once and came again
    // with the same id. Each is signed with the endpoint's secret.
    let got = receiver.wait_for(5, 20).await;
    let mut ids: Vec<&str> = got.iter().filter_map(|r| r.header("webhook-id")).collect();
    for r in &got {
        assert!(
            signature_valid(
                &secret,
                &r.body,
                r.header("webhook-signature").unwrap_or("")
            ),
            "bad signature: {:?}",
            r.headers
        );
        assert_eq!(r.json()["id"].as_str(), r.header("webhook-id"));
    }
    let failed = got[0].header("webhook-id");
    let again: Vec<_> = got
        .iter()
        .filter(|r| r.header("webhook-id") == failed)
        .collect();
    assert_eq!(again.len(), 2, "the failed one came again with the same id");
    assert_eq!(again[1].header("webhook-attempt"), Some("2"));
    assert_eq!(again[0].body, again[1].body, "the same body");
    let first = got[0].json();
    assert_eq!(first["event"], "wrap_up.submitted");
    assert_eq!(first["call"]["id"], call_a.as_str());
    assert_eq!(first["wrapUp"]["dispositionCode"], "INTERESTED");
    assert_eq!(first["wrapUp"]["conversion"], true);
    assert_eq!(first["lead"]["phone"], a);
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), 4);
    // The history, for admins.
    let h = f
        .srv
        .ok(
            Some(&admin),
            "{ webhookEndpoints { id messages(first: 10) { id event attempts deliveredAt nextAttemptAt history { attempt statusCode } } } }",
            json!({}),
        )
        .await;
    let endpoints = h["webhookEndpoints"].as_array().expect("endpoints");
    let of = |id: &str| {
        endpoints
            .iter()
            .find(|e| e["id"] == id)
            .and_then(|e| e["messages"].as_array())
            .cloned()
            .unwrap_or_default()
    };
    let messages = of(&endpoint);
    assert_eq!(messages.len(), 4);
    let retried = messages
        .iter()
        .find(|m| m["attempts"] == 2)
        .unwrap_or_else(|| panic!("one message took two attempts: {h}"));
    assert_eq!(
        retried["history"],
        json!([{"attempt": 1, "statusCode": 500}, {"attempt": 2, "statusCode": 200}])
    );
    assert!(
        messages
            .iter()
            .all(|m| m["deliveredAt"].is_string() && m["nextAttemptAt"].is_null())
    );
    assert_eq!(
        f.srv
            .err_code(Some(&f.sup), "{ webhookEndpoints { id } }", json!({}))
            .await,
        "FORBIDDEN"
    );
    // The paused endpoint: one message (the one CONTACT wrap-up), owed,
    // nothing sent; enabled again, it arrives.
    let waiting = of(&paused);
    assert_eq!(waiting.len(), 1, "{waiting:?}");
    assert!(waiting[0]["deliveredAt"].is_null());
    assert!(later.received().is_empty());
    f.srv
        .ok(
            Some(&admin),
            update,
            json!({"i": {"id": paused, "active": true}}),
        )
        .await;
    let got = later.wait_for(1, 10).await;
    assert_eq!(got[0].json()["wrapUp"]["dispositionCode"], "INTERESTED");
    f.finish().await;
}
