//! The full wrap-up through the API on both backends: DNC / DNT / invalid
//! marks written with the wrap-up and taking effect at once for every
//! campaign of the organization, retries that create nothing, someone
//! else's call refused, corrections inside the edit window audited and
//! refused after it.

use pinline_tests::dialer::{Floor, lead};
use pinline_tests::{Backend, engine_tests};
use serde_json::{Value, json};

engine_tests!(
    a_dnc_mark_stops_the_number_in_every_campaign_and_a_retry_creates_nothing,
    do_not_text_is_kept_but_blocks_no_call,
    corrections_are_audited_inside_the_edit_window_and_refused_after,
    a_dnc_mark_drops_an_offer_in_another_contact_center_and_other_organizations_still_call,
    consent_revoked_at_wrap_up_holds_across_the_organization_at_once,
);

const SUBMIT: &str = "mutation($i:SubmitWrapUpInput!){submitWrapUp(input:$i){wrapUp{id dispositionCode notes doNotCall doNotText invalidNumber corrections automatic} presence{status}}}";

/// Agent 0 takes one human call from the floor's campaign and hangs up.
async fn one_call(f: &mut Floor) -> String {
    f.start_campaign().await;
    f.set_status(0, "AVAILABLE").await;
    f.advance(4).await;
    let call = f.active_call(0).await;
    let id = call["id"].as_str().expect("a connected call").to_owned();
    f.agent_ok(
        0,
        "mutation($c:ID!){hangUp(input:{callId:$c})}",
        json!({"c": id}),
    )
    .await;
    f.advance(1).await;
    assert_eq!(f.presence(0).await["status"], "WRAP_UP");
    id
}

/// A second campaign of the organization with the given lead, running in
/// place of the floor's (paused: one runs per contact center).
async fn second_campaign_lead(f: &Floor, phone: &str) -> String {
    let c = f.campaign("Second").await;
    f.add_lead(&c, lead(phone, "human", 1, 5)).await;
    f.lifecycle("pauseCampaign", &f.campaign).await;
    f.lifecycle("startCampaign", &c).await;
    let leads = f
        .srv
        .ok(
            Some(&f.sup),
            "query($c:ID!){leads(campaignId:$c){edges{node{id}}}}",
            json!({"c": c}),
        )
        .await;
    leads["leads"]["edges"][0]["node"]["id"]
        .as_str()
        .expect("lead")
        .to_owned()
}

async fn a_dnc_mark_stops_the_number_in_every_campaign_and_a_retry_creates_nothing(
    backend: Backend,
) {
    let phone = "+12025550301";
    let mut f = Floor::new(backend, json!({}), vec![lead(phone, "human", 1, 600)], 2).await;
    let call = one_call(&mut f).await;
    // Someone else's call: not theirs to see.
    let input = json!({"callId": call, "dispositionCode": "NOT_INTERESTED", "notes": "<b>stop</b> calling", "doNotCall": true});
    assert_eq!(
        f.agent_err(1, SUBMIT, json!({"i": input})).await,
        "NOT_FOUND"
    );
    let first = f.agent_ok(0, SUBMIT, json!({"i": input})).await["submitWrapUp"].clone();
    assert_eq!(first["wrapUp"]["doNotCall"], true);
    assert_eq!(
        first["wrapUp"]["notes"], "<b>stop</b> calling",
        "stored as given"
    );
    assert_eq!(first["presence"]["status"], "AVAILABLE");
    // The same submission again: the same wrap-up, nothing new.
    let again = f.agent_ok(0, SUBMIT, json!({"i": input})).await["submitWrapUp"].clone();
    assert_eq!(again["wrapUp"], first["wrapUp"]);
    let c = f.call(&call).await;
    assert_eq!(c["wrapUp"]["dispositionCode"], "NOT_INTERESTED");
    // On the list, the lead finished, and refused in another campaign.
    let entries = f
        .srv
        .ok(
            Some(&f.sup),
            "query($p:String!){listEntries(list:DO_NOT_CALL,search:$p){edges{node{phone}}}}",
            json!({"p": phone}),
        )
        .await;
    assert_eq!(
        entries["listEntries"]["edges"].as_array().map(Vec::len),
        Some(1)
    );
    let l = f.lead_by_phone(phone).await;
    assert_eq!(l["status"], "FINISHED", "{l}");
    let other = second_campaign_lead(&f, phone).await;
    assert_eq!(f.verdict(&other).await, "DNC");
    f.finish().await;
}

async fn do_not_text_is_kept_but_blocks_no_call(backend: Backend) {
    let phone = "+12025550302";
    let mut f = Floor::new(backend, json!({}), vec![lead(phone, "human", 1, 600)], 1).await;
    let call = one_call(&mut f).await;
    // A callback does not excuse a disposition outside the set.
    let later = (f.srv.app.engine.clock().now() + chrono::Duration::hours(1)).to_rfc3339();
    let bad = json!({"i": {"callId": call, "dispositionCode": "NOPE", "callbackAt": later}});
    assert_eq!(f.agent_err(0, SUBMIT, bad).await, "VALIDATION");
    // A callback outside the lead's window (23:00 in New York): refused,
    // with the next allowed time.
    let late = json!({"i": {"callId": call, "dispositionCode": "CALL_BACK", "callbackAt": "2026-11-25T04:00:00Z"}});
    let body = f.srv.gql(Some(&f.agents[0].token), SUBMIT, late).await;
    assert_eq!(
        body["errors"][0]["extensions"]["code"], "VALIDATION",
        "{body}"
    );
    let message = body["errors"][0]["message"].as_str().unwrap_or("");
    assert!(
        message.contains("next allowed time is Wed 2026-11-25 08:00 EST"),
        "{message}"
    );
    assert_eq!(
        f.presence(0).await["status"],
        "WRAP_UP",
        "nothing was stored"
    );
    let w = f
        .agent_ok(
            0,
            SUBMIT,
            json!({"i": {"callId": call, "dispositionCode": "CALL_BACK", "doNotText": true}}),
        )
        .await;
    assert_eq!(w["submitWrapUp"]["wrapUp"]["doNotText"], true);
    let l = f.lead_by_phone(phone).await;
    assert_eq!(l["doNotText"], true, "{l}");
    assert_ne!(l["status"], "FINISHED");
    let other = second_campaign_lead(&f, phone).await;
    let reason = f.verdict(&other).await;
    assert_ne!(reason, "DNC");
    assert_ne!(reason, "INVALID");
    f.finish().await;
}

async fn corrections_are_audited_inside_the_edit_window_and_refused_after(backend: Backend) {
    let mut f = Floor::new(
        backend,
        json!({}),
        vec![lead("+12025550303", "human", 1, 600)],
        1,
    )
    .await;
    let call = one_call(&mut f).await;
    let submit = |code: &str, notes: &str| json!({"i": {"callId": call, "dispositionCode": code, "notes": notes}});
    let first = f
        .agent_ok(0, SUBMIT, submit("CALL_BACK", "try later"))
        .await;
    let id = first["submitWrapUp"]["wrapUp"]["id"].clone();
    f.advance(120).await;
    let fixed = f
        .agent_ok(0, SUBMIT, submit("NOT_INTERESTED", "said no"))
        .await["submitWrapUp"]["wrapUp"]
        .clone();
    assert_eq!(fixed["id"], id, "the same wrap-up, corrected");
    assert_eq!(
        (
            fixed["dispositionCode"].as_str(),
            fixed["corrections"].as_i64()
        ),
        (Some("NOT_INTERESTED"), Some(1))
    );
    // The correction's disposition decides the lead: NOT_INTERESTED ends it.
    assert_eq!(f.lead_by_phone("+12025550303").await["status"], "FINISHED");
    // A correction cannot change the marks.
    let marks = json!({"i": {"callId": call, "dispositionCode": "NOT_INTERESTED", "notes": "said no", "doNotCall": true}});
    assert_eq!(f.agent_err(0, SUBMIT, marks).await, "VALIDATION");
    // Audited, with before and after.
    let admin = f.srv.login_demo("admin").await;
    let log = f
        .srv
        .ok(
            Some(&admin),
            "{ auditLog(first: 50) { edges { node { action subjectId detail } } } }",
            json!({}),
        )
        .await;
    let entry = log["auditLog"]["edges"]
        .as_array()
        .expect("edges")
        .iter()
        .map(|e| &e["node"])
        .find(|n| n["action"] == "wrap_up.correct")
        .cloned()
        .expect("a wrap_up.correct entry");
    assert_eq!(entry["subjectId"], id);
    let detail: Value =
        serde_json::from_str(entry["detail"].as_str().expect("detail")).expect("json");
    assert_eq!(detail["before"]["dispositionCode"], "CALL_BACK");
    assert_eq!(detail["after"]["notes"], "said no");
    // After the 5-minute window: CONFLICT, nothing changed.
    f.advance(4 * 60).await;
    assert_eq!(
        f.agent_err(0, SUBMIT, submit("INTERESTED", "")).await,
        "CONFLICT"
    );
    assert_eq!(
        f.call(&call).await["wrapUp"]["dispositionCode"],
        "NOT_INTERESTED"
    );
    f.finish().await;
}

async fn a_dnc_mark_drops_an_offer_in_another_contact_center_and_other_organizations_still_call(
    backend: Backend,
) {
    let phone = "+12025550304";
    let mut f = Floor::new(backend, json!({}), vec![lead(phone, "human", 1, 600)], 2).await;
    let (east, east_campaign) = f
        .second_contact_center(phone, json!({"dialMode": "PREVIEW"}))
        .await;
    let call = one_call(&mut f).await;
    // While agent 0 wraps up, the East campaign offers the same number to
    // agent 1: claimed there, not placed.
    f.agent_ok(
        1,
        "mutation($cc:ID!){setAgentStatus(input:{contactCenterId:$cc,status:AVAILABLE}){presence{status}}}",
        json!({"cc": east}),
    )
    .await;
    let pres = "{ myPresence { status offeredCall { id } } }";
    let mut offered = None;
    for _ in 0..5 {
        f.advance(1).await;
        let p = f.agent_ok(1, pres, json!({})).await;
        if let Some(id) = p["myPresence"]["offeredCall"]["id"].as_str() {
            offered = Some(id.to_owned());
            break;
        }
    }
    let offered = offered.expect("an offer in East");
    // The DNC mark drops it at once.
    f.agent_ok(
        0,
        SUBMIT,
        json!({"i": {"callId": call, "dispositionCode": "NOT_INTERESTED", "doNotCall": true}}),
    )
    .await;
    assert_eq!(f.call(&offered).await["outcome"], "NOT_DIALED");
    assert!(f.agent_ok(1, pres, json!({})).await["myPresence"]["offeredCall"].is_null());
    f.advance(10).await;
    assert!(
        f.agent_ok(1, pres, json!({})).await["myPresence"]["offeredCall"].is_null(),
        "not offered again"
    );
    let east_leads = f.leads_of(&east_campaign).await;
    assert_eq!(east_leads[0]["attempts"], 0, "never dialed: {east_leads:?}");
    assert_eq!(
        f.verdict(east_leads[0]["id"].as_str().expect("id")).await,
        "DNC"
    );

    // Another organization's list is its own: the number is claimed there.
    let boss = f.other_org_admin().await;
    let cc = f
        .srv
        .ok(
            Some(&boss),
            "mutation{createContactCenter(input:{name:\"Other\",dialerEnabled:true}){contactCenter{id}}}",
            json!({}),
        )
        .await["createContactCenter"]["contactCenter"]["id"]
        .clone();
    let theirs = f
        .srv
        .ok(
            Some(&boss),
            "mutation($i:CreateCampaignInput!){createCampaign(input:$i){campaign{id}}}",
            json!({"i": {"contactCenterId": cc, "name": "Theirs", "callerId": "+14155550100"}}),
        )
        .await["createCampaign"]["campaign"]["id"]
        .clone();
    f.srv
        .ok(
            Some(&boss),
            "mutation($i:AddLeadsInput!){addLeads(input:$i){added}}",
            json!({"i": {"campaignId": theirs, "leads": [lead(phone, "human", 1, 5)]}}),
        )
        .await;
    f.srv
        .ok(
            Some(&boss),
            "mutation($c:ID!){startCampaign(input:{campaignId:$c}){campaign{state}}}",
            json!({"c": theirs}),
        )
        .await;
    let their_lead = f
        .srv
        .ok(
            Some(&boss),
            "query($c:ID!){leads(campaignId:$c){edges{node{id}}}}",
            json!({"c": theirs}),
        )
        .await["leads"]["edges"][0]["node"]["id"]
        .as_str()
        .expect("lead")
        .to_owned();
    let at = f.srv.app.engine.clock().now();
    let verdict = f
        .srv
        .ok(
            Some(&boss),
            "query($l:ID!,$at:DateTime){eligibility(leadId:$l,at:$at){reason}}",
            json!({"l": their_lead, "at": at.to_rfc3339()}),
        )
        .await["eligibility"]["reason"]
        .clone();
    assert_eq!(verdict, "ELIGIBLE");
    let claimed = pinline::store::claims::claim_one(&f.srv.app.db, &their_lead, at.naive_utc())
        .await
        .expect("db");
    assert!(claimed.is_some(), "claimed in the other organization");
    f.finish().await;
}

/// "Stop calling me" said on a call: the agent records the revocation with
/// the wrap-up; from that moment the number has no consent anywhere in the
/// organization, and Florida's law keeps every automated campaign off it.
async fn consent_revoked_at_wrap_up_holds_across_the_organization_at_once(backend: Backend) {
    let phone = "+13055550311";
    let mut l = lead(phone, "human", 1, 600);
    l["timeZoneVerified"] = json!(true);
    l["consent"] =
        json!({"kind": "EXPRESS_WRITTEN", "givenAt": "2026-01-05T15:00:00Z", "method": "web form"});
    let mut f = Floor::new(backend, json!({}), vec![l], 1).await;
    // The written consent lets the progressive campaign dial Florida.
    let call = one_call(&mut f).await;
    let input =
        json!({"i": {"callId": call, "dispositionCode": "NOT_INTERESTED", "revokeConsent": true}});
    let w = f
        .agent_ok(
            0,
            "mutation($i:SubmitWrapUpInput!){submitWrapUp(input:$i){wrapUp{revokeConsent}}}",
            input,
        )
        .await;
    assert_eq!(w["submitWrapUp"]["wrapUp"]["revokeConsent"], true);
    let now = f.srv.app.engine.clock().now();
    let c = f
        .srv
        .ok(
            Some(&f.sup),
            "query($c:ID!){leads(campaignId:$c){edges{node{consent{kind revokedAt} consentHistory{action method callId}}}}}",
            json!({"c": f.campaign}),
        )
        .await["leads"]["edges"][0]["node"]
        .clone();
    assert_eq!(c["consent"]["kind"], "NONE", "{c}");
    let revoked_at: chrono::DateTime<chrono::Utc> = c["consent"]["revokedAt"]
        .as_str()
        .expect("revoked")
        .parse()
        .expect("time");
    assert!(revoked_at <= now, "recorded at the wrap-up");
    assert_eq!(c["consentHistory"][0]["action"], "REVOKED");
    assert_eq!(c["consentHistory"][0]["method"], "said on a call");
    assert_eq!(c["consentHistory"][0]["callId"], call.as_str());
    // Another campaign holding the number may not dial it automatically.
    let other = second_campaign_lead(&f, phone).await;
    assert_eq!(f.verdict(&other).await, "NO_CONSENT");
    f.finish().await;
}
