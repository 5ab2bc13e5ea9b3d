//! Consent to be called through the API on both backends: kept per number
//! across the organization (with leads, from a CSV, by hand), required of
//! predictive and progressive calls where the called party's law asks
//! (Florida) or the campaign does, revoked at once; preview is a person
//! dialing. The revocation said on a call is in tests/e2e/wrapup.rs.

use pinline_tests::{TestServer, on_both_backends};
use serde_json::{Value, json};

use crate::compliance::{Fixture, fixture, noon_ny, start};
use crate::imports::{upload, wait_done};

on_both_backends!(consent_is_kept_per_number_and_asked_where_the_law_asks);

const ELIGIBILITY: &str = "query($l:ID!,$at:DateTime){eligibility(leadId:$l,at:$at){eligible reason explanation until facts rule{jurisdiction citation}}}";
const CONSENT: &str = "query($c:ID!){leads(campaignId:$c,first:100){edges{node{id phone consent{kind givenAt method source revokedAt} consentHistory{action kind at method source leadId callId}}}}}";
const RECORD: &str = "mutation($i:RecordConsentInput!){recordConsent(input:$i){phone consent{kind givenAt revokedAt}}}";
const REVOKE: &str = "mutation($i:RevokeConsentInput!){revokeConsent(input:$i){phone consent{kind givenAt revokedAt}}}";

async fn ask(srv: &TestServer, f: &Fixture, lead: &str, at: &str) -> Value {
    srv.ok(Some(&f.sup), ELIGIBILITY, json!({"l": lead, "at": at}))
        .await["eligibility"]
        .clone()
}

/// The campaign's leads by phone: (id, the lead as CONSENT reads it).
async fn leads(srv: &TestServer, f: &Fixture) -> std::collections::HashMap<String, Value> {
    srv.ok(Some(&f.sup), CONSENT, json!({"c": f.campaign}))
        .await["leads"]["edges"]
        .as_array()
        .expect("edges")
        .iter()
        .map(|e| {
            (
                e["node"]["phone"].as_str().expect("phone").to_owned(),
                e["node"].clone(),
            )
        })
        .collect()
}

async fn consent_is_kept_per_number_and_asked_where_the_law_asks(srv: TestServer) {
    srv.seed_demo().await;
    let f = fixture(
        &srv,
        "Consent",
        json!({"dialMode": "PREDICTIVE"}),
        &["+13055550601", "+12125550602"],
    )
    .await;
    start(&srv, &f).await;
    let noon = noon_ny().to_rfc3339();
    let (florida, new_york) = (f.leads[0].clone(), f.leads[1].clone());

    // Florida asks automated calls for written consent; New York does not.
    let v = ask(&srv, &f, &florida, &noon).await;
    assert_eq!(v["reason"], "NO_CONSENT", "{v}");
    assert_eq!(v["rule"]["jurisdiction"], "US-FL");
    assert_eq!(v["rule"]["citation"], "Fla. Stat. §501.059(8)(a)");
    assert_eq!(v["until"], Value::Null, "it does not lift by itself");
    let why = v["explanation"].as_str().unwrap_or("");
    assert!(why.contains("prior express written consent"), "{why}");
    let facts: Value = serde_json::from_str(v["facts"].as_str().expect("facts")).expect("json");
    assert_eq!(facts["consent"]["kind"], "NONE", "{facts}");
    assert_eq!(facts["consent"]["campaignAsks"], "LAW");
    assert_eq!(ask(&srv, &f, &new_york, &noon).await["eligible"], true);

    // A lead brings its consent; a consent dated in the future is refused.
    let added = srv
        .ok(
            Some(&f.sup),
            "mutation($i:AddLeadsInput!){addLeads(input:$i){added rejected{index code message}}}",
            json!({"i": {"campaignId": f.campaign, "leads": [
                {"phone": "+13055550603", "consent": {"kind": "EXPRESS_WRITTEN", "givenAt": "2026-05-01T12:00:00Z", "method": "web form", "source": "https://example.test/forms/77"}},
                {"phone": "+13055550604", "consent": {"kind": "EXPRESS", "givenAt": "2099-01-01T00:00:00Z"}},
            ]}}),
        )
        .await["addLeads"]
        .clone();
    assert_eq!(added["added"], 1, "{added}");
    assert_eq!(added["rejected"][0]["index"], 1);
    assert_eq!(added["rejected"][0]["code"], "BAD_CONSENT");
    let by_phone = leads(&srv, &f).await;
    let signed = &by_phone["+13055550603"];
    assert_eq!(
        signed["consent"],
        json!({"kind": "EXPRESS_WRITTEN", "givenAt": "2026-05-01T12:00:00+00:00", "method": "web form", "source": "https://example.test/forms/77", "revokedAt": null})
    );
    assert_eq!(signed["consentHistory"][0]["action"], "GIVEN");
    assert_eq!(signed["consentHistory"][0]["leadId"], signed["id"]);
    let signed_id = signed["id"].as_str().expect("id").to_owned();
    assert_eq!(ask(&srv, &f, &signed_id, &noon).await["eligible"], true);
    // Before it was given, it does not count.
    let before = ask(&srv, &f, &signed_id, "2026-04-29T16:00:00Z").await;
    assert_eq!(before["reason"], "NO_CONSENT", "{before}");

    // By hand: supervisors only; express consent is not written consent.
    let agent = srv.login_demo("agent1").await;
    let record = |kind: &str, at: &str| json!({"i": {"phone": "+1 305 555 0601", "consent": {"kind": kind, "givenAt": at, "method": "signed paper", "source": "box 12"}}});
    let forbidden = srv
        .gql(
            Some(&agent),
            RECORD,
            record("EXPRESS", "2026-06-01T00:00:00Z"),
        )
        .await;
    assert_eq!(forbidden["errors"][0]["extensions"]["code"], "FORBIDDEN");
    srv.ok(
        Some(&f.sup),
        RECORD,
        record("EXPRESS", "2026-06-01T00:00:00Z"),
    )
    .await;
    assert_eq!(ask(&srv, &f, &florida, &noon).await["reason"], "NO_CONSENT");
    let written = srv
        .ok(
            Some(&f.sup),
            RECORD,
            record("EXPRESS_WRITTEN", "2026-06-02T00:00:00Z"),
        )
        .await["recordConsent"]
        .clone();
    assert_eq!(written["phone"], "+13055550601");
    assert_eq!(written["consent"]["kind"], "EXPRESS_WRITTEN");
    assert_eq!(ask(&srv, &f, &florida, &noon).await["eligible"], true);
    // A national number is read in the region given (default US).
    let british = srv
        .ok(
            Some(&f.sup),
            RECORD,
            json!({"i": {"phone": "020 7946 0018", "defaultRegion": "gb", "consent": {"kind": "EXPRESS", "givenAt": "2026-06-02T00:00:00Z", "method": "web form"}}}),
        )
        .await;
    assert_eq!(british["recordConsent"]["phone"], "+442079460018");
    let bad_region = srv
        .gql(
            Some(&f.sup),
            RECORD,
            json!({"i": {"phone": "020 7946 0018", "defaultRegion": "Britain", "consent": {"kind": "EXPRESS", "givenAt": "2026-06-02T00:00:00Z", "method": "web form"}}}),
        )
        .await;
    assert_eq!(
        bad_region["errors"][0]["extensions"]["field"],
        "defaultRegion"
    );
    let none = srv
        .gql(Some(&f.sup), RECORD, record("NONE", "2026-06-02T00:00:00Z"))
        .await;
    assert_eq!(none["errors"][0]["extensions"]["code"], "VALIDATION");
    assert_eq!(none["errors"][0]["extensions"]["field"], "consent.kind");

    // A revocation cancels every consent given until then, at once.
    let revoke = |at: &str, method: &str| json!({"i": {"phone": "+13055550601", "revokedAt": at, "method": method}});
    let blank = srv
        .gql(Some(&f.sup), REVOKE, revoke("2026-06-05T00:00:00Z", " "))
        .await;
    assert_eq!(blank["errors"][0]["extensions"]["field"], "method");
    let revoked = srv
        .ok(
            Some(&f.sup),
            REVOKE,
            revoke("2026-06-05T00:00:00Z", "email"),
        )
        .await["revokeConsent"]["consent"]
        .clone();
    assert_eq!(
        revoked,
        json!({"kind": "NONE", "givenAt": null, "revokedAt": "2026-06-05T00:00:00+00:00"})
    );
    assert_eq!(ask(&srv, &f, &florida, &noon).await["reason"], "NO_CONSENT");
    assert_eq!(
        ask(&srv, &f, &florida, "2026-06-04T16:00:00Z").await["eligible"],
        true,
        "before the revocation"
    );
    let history = &leads(&srv, &f).await["+13055550601"]["consentHistory"];
    let actions: Vec<&str> = history
        .as_array()
        .expect("history")
        .iter()
        .map(|e| e["action"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(actions, ["REVOKED", "GIVEN", "GIVEN"], "newest first");

    // The campaign may ask more than the law: express consent everywhere.
    let update = "mutation($i:UpdateCampaignInput!){updateCampaign(input:$i){campaign{automatedConsent dialMode}}}";
    let stricter = srv
        .ok(
            Some(&f.sup),
            update,
            json!({"i": {"id": f.campaign, "automatedConsent": "EXPRESS"}}),
        )
        .await;
    assert_eq!(
        stricter["updateCampaign"]["campaign"]["automatedConsent"],
        "EXPRESS"
    );
    let ny = ask(&srv, &f, &new_york, &noon).await;
    assert_eq!(ny["reason"], "NO_CONSENT", "{ny}");
    assert_eq!(ny["rule"], Value::Null, "the campaign's setting, not a law");

    // In preview a person chooses to dial: no automated-call consent.
    srv.ok(
        Some(&f.sup),
        update,
        json!({"i": {"id": f.campaign, "dialMode": "PREVIEW"}}),
    )
    .await;
    assert_eq!(ask(&srv, &f, &florida, &noon).await["eligible"], true);
    assert_eq!(ask(&srv, &f, &new_york, &noon).await["eligible"], true);

    // A CSV brings consent columns by their names; a kind nobody can read
    // refuses the row.
    let csv = "phone,consent,consent_date,consent_method,consent_source\n\
               +13055550605,express written,2026-05-02,paper,box 12\n\
               +13055550606,maybe,,,\n\
               +13055550605,express,2026-04-01,web form,\n";
    let (status, body) = upload(&srv, &f.sup, &f.campaign, csv.as_bytes().to_vec()).await;
    assert_eq!(status, 202, "{body}");
    let job = wait_done(&srv, &f.sup, body["jobId"].as_str().expect("job")).await;
    assert_eq!(job["added"], 1, "{job}");
    let codes: Vec<(i64, &str)> = job["report"]
        .as_array()
        .expect("report")
        .iter()
        .map(|r| {
            (
                r["index"].as_i64().unwrap_or(-1),
                r["code"].as_str().unwrap_or(""),
            )
        })
        .collect();
    assert_eq!(
        codes,
        [(1, "BAD_CONSENT"), (2, "DUPLICATE_MERGED")],
        "{job}"
    );
    let by_phone = leads(&srv, &f).await;
    let lead = &by_phone["+13055550605"];
    // The duplicate row's consent is kept for the number, naming no lead.
    let history = lead["consentHistory"].as_array().expect("history");
    assert_eq!(history.len(), 2, "{lead}");
    assert_eq!(history[0]["leadId"], lead["id"]);
    assert_eq!(history[1]["kind"], "EXPRESS");
    assert_eq!(history[1]["leadId"], Value::Null);
    let from_csv = &lead["consent"];
    assert_eq!(from_csv["kind"], "EXPRESS_WRITTEN", "{from_csv}");
    // A bare date: the end of that day everywhere on Earth.
    assert_eq!(from_csv["givenAt"], "2026-05-03T12:00:00+00:00");
    assert_eq!(from_csv["method"], "paper");

    // The audit log names each change made by hand.
    let admin = srv.login_demo("admin").await;
    let log = srv
        .ok(
            Some(&admin),
            "{ auditLog(first: 50) { edges { node { action subjectId } } } }",
            json!({}),
        )
        .await;
    let actions: Vec<&str> = log["auditLog"]["edges"]
        .as_array()
        .expect("edges")
        .iter()
        .filter(|e| e["node"]["subjectId"] == "+13055550601")
        .map(|e| e["node"]["action"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(
        actions,
        ["consent.revoke", "consent.record", "consent.record"],
        "{log}"
    );
}
