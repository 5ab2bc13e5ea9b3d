//! The compliance gate through the API: `eligibility(leadId)` for each
//! reason, and the trail of claim decisions (queryable and as CSV).

use chrono::{DateTime, Duration, Utc};
use pinline::domain::campaign::AttemptOutcome;
use pinline::store;
use pinline_tests::{TestServer, on_both_backends};
use serde_json::{Value, json};

on_both_backends!(
    eligibility_explains_each_reason,
    claims_leave_a_trail,
    the_called_partys_state_decides_and_is_cited,
    a_leads_zone_narrows_but_never_widens,
    numbers_that_are_never_dialed,
    a_campaigns_hours_per_weekday_narrow_the_law,
    an_organizations_own_rules_narrow_the_law,
    the_trail_explains_the_leads_the_claim_passes_over
);

/// Wednesday 2026-06-10 12:00 in New York.
pub(crate) fn noon_ny() -> DateTime<Utc> {
    "2026-06-10T16:00:00Z".parse().expect("time")
}

pub(crate) struct Fixture {
    pub sup: String,
    pub campaign: String,
    pub leads: Vec<String>,
}

/// A campaign with the given settings and leads (E.164 numbers).
pub(crate) async fn fixture(
    srv: &TestServer,
    name: &str,
    settings: Value,
    phones: &[&str],
) -> Fixture {
    let sup = srv.login_demo("supervisor").await;
    let cc = srv
        .ok(
            Some(&sup),
            "{ contactCenters { edges { node { id } } } }",
            json!({}),
        )
        .await["contactCenters"]["edges"][0]["node"]["id"]
        .clone();
    let mut input = settings;
    input["contactCenterId"] = cc;
    input["name"] = json!(name);
    input["callerId"] = json!("+14155550100");
    let campaign = srv
        .ok(
            Some(&sup),
            "mutation($i:CreateCampaignInput!){createCampaign(input:$i){campaign{id}}}",
            json!({"i": input}),
        )
        .await["createCampaign"]["campaign"]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let leads: Vec<Value> = phones.iter().map(|p| json!({"phone": p})).collect();
    srv.ok(
        Some(&sup),
        "mutation($i:AddLeadsInput!){addLeads(input:$i){added}}",
        json!({"i": {"campaignId": campaign, "leads": leads}}),
    )
    .await;
    let list = srv
        .ok(
            Some(&sup),
            "query($c:ID!){leads(campaignId:$c,first:100){edges{node{id phone}}}}",
            json!({"c": campaign}),
        )
        .await;
    let by_phone: std::collections::HashMap<String, String> = list["leads"]["edges"]
        .as_array()
        .expect("edges")
        .iter()
        .map(|e| {
            (
                e["node"]["phone"].as_str().expect("p").to_owned(),
                e["node"]["id"].as_str().expect("id").to_owned(),
            )
        })
        .collect();
    let leads = phones
        .iter()
        .map(|p| {
            let e164 = pinline::domain::phone::normalize(p, "US").expect("phone");
            by_phone.get(&e164).cloned().unwrap_or_default()
        })
        .collect();
    Fixture {
        sup,
        campaign,
        leads,
    }
}

/// Florida's numbers need written consent in automated campaigns: record
/// it for `phone`, given a year before the instants these tests ask about.
pub(crate) async fn written_consent(srv: &TestServer, f: &Fixture, phone: &str) {
    srv.ok(
        Some(&f.sup),
        "mutation($i:RecordConsentInput!){recordConsent(input:$i){phone}}",
        json!({"i": {"phone": phone, "consent": {"kind": "EXPRESS_WRITTEN", "givenAt": "2025-06-01T00:00:00Z", "method": "web form"}}}),
    )
    .await;
}

pub(crate) async fn start(srv: &TestServer, f: &Fixture) {
    srv.ok(
        Some(&f.sup),
        "mutation($c:ID!){startCampaign(input:{campaignId:$c}){campaign{state}}}",
        json!({"c": f.campaign}),
    )
    .await;
}

async fn eligibility(srv: &TestServer, f: &Fixture, lead: usize, at: DateTime<Utc>) -> Value {
    srv.ok(
        Some(&f.sup),
        "query($l:ID!,$at:DateTime){eligibility(leadId:$l,at:$at){eligible reason explanation until facts}}",
        json!({"l": f.leads[lead], "at": at.to_rfc3339()}),
    )
    .await["eligibility"]
        .clone()
}

async fn attempt(
    srv: &TestServer,
    lead_id: &str,
    outcome: AttemptOutcome,
    at: DateTime<Utc>,
    f: &Fixture,
) {
    let lead = store::leads::get(&srv.app.db, lead_id)
        .await
        .expect("get")
        .expect("lead");
    let campaign = store::campaigns::get(&srv.app.db, &f.campaign)
        .await
        .expect("get")
        .expect("campaign");
    let settings = store::campaigns::settings_of(&campaign).expect("settings");
    let (status, not_before) = pinline::domain::campaign::after_attempt(
        &settings,
        u32::try_from(lead.attempts).expect("attempts"),
        outcome,
        at,
    );
    store::leads::record_attempt(
        &srv.app.db,
        &lead,
        outcome.as_str(),
        at.naive_utc(),
        status.as_str(),
        not_before.map(|t| t.naive_utc()),
    )
    .await
    .expect("attempt");
}

async fn eligibility_explains_each_reason(srv: TestServer) {
    srv.seed_demo().await;
    let noon = noon_ny();
    let f = fixture(
        &srv,
        "Gate",
        json!({"dialMode": "PREDICTIVE", "maxAttempts": 3, "maxAttemptsPerDay": 1, "retryDelays": {"busyMinutes": 30}}),
        &["+12125550101", "+12125550102", "+12085550103", "+12125550104", "+12125550105", "+12125550106"],
    )
    .await;
    let reason = |v: &Value| v["reason"].as_str().unwrap_or("").to_owned();

    // A draft campaign dials no one.
    assert_eq!(
        reason(&eligibility(&srv, &f, 0, noon).await),
        "CAMPAIGN_NOT_RUNNING"
    );
    start(&srv, &f).await;
    let ok = eligibility(&srv, &f, 0, noon).await;
    assert_eq!(ok["eligible"], true, "{ok}");
    let facts: Value = serde_json::from_str(ok["facts"].as_str().expect("facts")).expect("json");
    assert_eq!(facts["timeZone"], "America/New_York");
    assert_eq!(facts["localTime"], "Wed 2026-06-10 12:00:00");

    // Outside the window, with the next opening in the lead's time.
    let night = eligibility(&srv, &f, 0, noon + Duration::hours(10)).await;
    assert_eq!(reason(&night), "OUTSIDE_WINDOW");
    assert_eq!(night["until"], "2026-06-11T12:00:00+00:00");
    // Federal law and the campaign both close at 21:00: the law is named.
    assert_eq!(
        night["explanation"],
        "not dialable until Thu 2026-06-11 08:00 America/New_York: the law of the called party's jurisdiction — 47 CFR §64.1200(c)(1) (US): no telephone solicitation before 8:00 or after 21:00 at the called party's location"
    );
    // 20:59:50 with a 25-second ring: the window closes before the ring ends.
    let closing = noon + Duration::hours(9) - Duration::seconds(10) + Duration::minutes(0);
    assert_eq!(
        reason(&eligibility(&srv, &f, 0, closing).await),
        "OUTSIDE_WINDOW"
    );

    // DNC and invalid marks take effect at once; Do-Not-Text blocks nothing.
    let add = "mutation($i:AddListEntriesInput!){addListEntries(input:$i){added alreadyListed rejected{code}}}";
    let dnc = srv
        .ok(Some(&f.sup), add, json!({"i": {"list": "DO_NOT_CALL", "phones": ["(212) 555-0102", "nope"], "reason": "asked"}}))
        .await;
    assert_eq!(
        dnc["addListEntries"],
        json!({"added": 1, "alreadyListed": 0, "rejected": [{"code": "BAD_NUMBER"}]})
    );
    assert_eq!(reason(&eligibility(&srv, &f, 1, noon).await), "DNC");
    srv.ok(
        Some(&f.sup),
        add,
        json!({"i": {"list": "DO_NOT_TEXT", "phones": ["+12125550101"], "reason": "texts"}}),
    )
    .await;
    assert_eq!(
        eligibility(&srv, &f, 0, noon).await["eligible"],
        true,
        "DNT does not block calls"
    );
    let lead0 = srv
        .ok(
            Some(&f.sup),
            "query($id:ID!){lead(id:$id){doNotText}}",
            json!({"id": f.leads[0]}),
        )
        .await;
    assert_eq!(lead0["lead"]["doNotText"], true);
    srv.ok(
        Some(&f.sup),
        add,
        json!({"i": {"list": "INVALID", "invalidReason": "DISCONNECTED", "phones": ["+12125550101"], "reason": "SIT tone"}}),
    )
    .await;
    assert_eq!(reason(&eligibility(&srv, &f, 0, noon).await), "INVALID");
    let entries = srv
        .ok(Some(&f.sup), "{ listEntries(list: INVALID, search: \"555-0101\") { edges { node { phone invalidReason source createdBy { email } } } } }", json!({}))
        .await;
    assert_eq!(
        entries["listEntries"]["edges"],
        json!([{"node": {"phone": "+12125550101", "invalidReason": "DISCONNECTED", "source": "MANUAL", "createdBy": {"email": "supervisor@demo.pinline.test"}}}])
    );
    let removed = srv
        .ok(
            Some(&f.sup),
            "mutation{removeListEntry(input:{list:INVALID,phone:\"+12125550101\",reason:\"number reassigned\"})}",
            json!({}),
        )
        .await;
    assert_eq!(removed["removeListEntry"], true);
    assert_eq!(eligibility(&srv, &f, 0, noon).await["eligible"], true);
    let admin = srv.login_demo("admin").await;
    let log = srv
        .ok(
            Some(&admin),
            "{ auditLog(first: 1) { edges { node { action detail } } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        log["auditLog"]["edges"][0]["node"],
        json!({"action": "list.remove", "detail": "INVALID: number reassigned"})
    );
    let agent = srv.login_demo("agent1").await;
    assert_eq!(
        srv.err_code(
            Some(&agent),
            "{ listEntries(list: DO_NOT_CALL) { edges { node { id } } } }",
            json!({})
        )
        .await,
        "FORBIDDEN"
    );

    // Idaho's 208 spans two zones: not dialable until the zone is set.
    assert_eq!(
        reason(&eligibility(&srv, &f, 2, noon).await),
        "NEEDS_TIME_ZONE"
    );

    // Busy at 09:00 → retry due 09:30; one attempt a day.
    let nine = noon - Duration::hours(3);
    attempt(&srv, &f.leads[3], AttemptOutcome::Busy, nine, &f).await;
    let due = eligibility(&srv, &f, 3, nine + Duration::minutes(10)).await;
    assert_eq!(reason(&due), "RETRY_NOT_DUE");
    assert_eq!(due["until"], "2026-06-10T13:30:00+00:00");
    let daily = eligibility(&srv, &f, 3, noon).await;
    assert_eq!(reason(&daily), "DAILY_LIMIT");
    assert_eq!(daily["until"], "2026-06-11T12:00:00+00:00");

    // Abandoned in a predictive campaign: 72 hours off the list.
    attempt(&srv, &f.leads[4], AttemptOutcome::Abandoned, nine, &f).await;
    let locked = eligibility(&srv, &f, 4, noon + Duration::days(2)).await;
    assert_eq!(reason(&locked), "ABANDON_LOCKOUT");
    assert_eq!(locked["until"], "2026-06-13T13:00:00+00:00");

    // Two attempts on earlier days, then the limit is lowered to two.
    for d in 0..2 {
        attempt(
            &srv,
            &f.leads[5],
            AttemptOutcome::NoAnswer,
            nine - Duration::days(5 - d),
            &f,
        )
        .await;
    }
    srv.ok(
        Some(&f.sup),
        "mutation($c:ID!){updateCampaign(input:{id:$c,maxAttempts:2,maxAttemptsPerDay:1}){campaign{maxAttempts}}}",
        json!({"c": f.campaign}),
    )
    .await;
    assert_eq!(
        reason(&eligibility(&srv, &f, 5, noon).await),
        "MAX_ATTEMPTS"
    );

    // A progressive campaign has no abandon lockout.
    let p = fixture(
        &srv,
        "Progressive",
        json!({"dialMode": "PROGRESSIVE", "retryDelays": {"abandonedMinutes": 10}}),
        &["+12125550201"],
    )
    .await;
    srv.ok(
        Some(&p.sup),
        "mutation($c:ID!){pauseCampaign(input:{campaignId:$c}){campaign{state}}}",
        json!({"c": f.campaign}),
    )
    .await;
    start(&srv, &p).await;
    attempt(&srv, &p.leads[0], AttemptOutcome::Abandoned, nine, &p).await;
    assert_eq!(eligibility(&srv, &p, 0, noon).await["eligible"], true);
    srv.finish().await;
}

async fn claims_leave_a_trail(srv: TestServer) {
    srv.seed_demo().await;
    let f = fixture(
        &srv,
        "Trail",
        json!({"maxAttemptsPerDay": 1, "retryDelays": {"busyMinutes": 5}}),
        &["+12125550301", "+13125550302", "+14155550303"],
    )
    .await;
    start(&srv, &f).await;
    // 12:00 in New York, 11:00 in Chicago, 09:00 in Los Angeles.
    let noon = noon_ny();
    // The first lead was tried this morning: the SQL lets it through (its
    // retry is due) and the gate refuses it on the daily limit.
    attempt(
        &srv,
        &f.leads[0],
        AttemptOutcome::Busy,
        noon - Duration::hours(2),
        &f,
    )
    .await;
    let campaign = store::campaigns::get(&srv.app.db, &f.campaign)
        .await
        .expect("get")
        .expect("c");
    let claimed = pinline::dialer::claim::claim_eligible(&srv.app.db, &campaign, noon, 10)
        .await
        .expect("claim");
    let mut phones: Vec<_> = claimed.iter().map(|l| l.phone.clone()).collect();
    phones.sort();
    assert_eq!(phones, ["+13125550302", "+14155550303"]);
    // The refused lead went back with its next chance.
    let refused = store::leads::get(&srv.app.db, &f.leads[0])
        .await
        .expect("get")
        .expect("lead");
    assert_eq!(refused.status, "RETRY");
    assert_eq!(
        refused.not_before.map(|t| t.and_utc().to_rfc3339()),
        Some("2026-06-11T12:00:00+00:00".into())
    );
    // Nothing more to claim now.
    assert!(
        pinline::dialer::claim::claim_eligible(&srv.app.db, &campaign, noon, 10)
            .await
            .expect("claim")
            .is_empty()
    );

    let trail = srv
        .ok(
            Some(&f.sup),
            "query($c:ID!,$from:DateTime!,$to:DateTime!){complianceTrail(campaignId:$c,from:$from,to:$to){edges{node{phone verdict allowed facts}}}}",
            json!({"c": f.campaign, "from": "2026-06-10T00:00:00Z", "to": "2026-06-11T00:00:00Z"}),
        )
        .await;
    let records = trail["complianceTrail"]["edges"]
        .as_array()
        .expect("edges")
        .clone();
    assert_eq!(records.len(), 3);
    let by_phone = |p: &str| {
        records
            .iter()
            .find(|r| r["node"]["phone"] == p)
            .expect("record")["node"]
            .clone()
    };
    let la = by_phone("+14155550303");
    assert_eq!(
        (la["verdict"].clone(), la["allowed"].clone()),
        (json!("ELIGIBLE"), json!(true))
    );
    let facts: Value = serde_json::from_str(la["facts"].as_str().expect("facts")).expect("json");
    assert_eq!(facts["timeZone"], "America/Los_Angeles");
    assert_eq!(facts["localTime"], "Wed 2026-06-10 09:00:00");
    assert_eq!(facts["dnc"], false);
    let ny = by_phone("+12125550301");
    assert_eq!(
        (ny["verdict"].clone(), ny["allowed"].clone()),
        (json!("DAILY_LIMIT"), json!(false))
    );

    // The same as CSV, for auditors.
    let url = format!(
        "{}/exports/compliance-trail.csv?campaignId={}&from=2026-06-10T00:00:00Z&to=2026-06-11T00:00:00Z",
        srv.url, f.campaign
    );
    let resp = srv
        .client
        .get(&url)
        .bearer_auth(&f.sup)
        .send()
        .await
        .expect("csv");
    assert_eq!(resp.status().as_u16(), 200);
    assert!(
        resp.headers()["content-type"]
            .to_str()
            .unwrap_or("")
            .starts_with("text/csv")
    );
    let text = resp.text().await.expect("body");
    let lines: Vec<&str> = text.lines().collect();
    assert!(
        lines[0].starts_with("at,campaign_id,lead_id,phone,verdict,allowed,time_zone,local_time"),
        "{text}"
    );
    assert_eq!(lines.len(), 4, "{text}");
    assert!(
        text.contains("DAILY_LIMIT,false,America/New_York"),
        "{text}"
    );
    // Without a token, or as an agent: refused.
    assert_eq!(
        srv.client
            .get(&url)
            .send()
            .await
            .expect("csv")
            .status()
            .as_u16(),
        401
    );
    let agent = srv.login_demo("agent1").await;
    assert_eq!(
        srv.client
            .get(&url)
            .bearer_auth(&agent)
            .send()
            .await
            .expect("csv")
            .status()
            .as_u16(),
        403
    );
    srv.finish().await;
}

on_both_backends!(claims_take_callbacks_then_retries_then_new);

async fn claims_take_callbacks_then_retries_then_new(srv: TestServer) {
    srv.seed_demo().await;
    let f = fixture(
        &srv,
        "Order",
        json!({"maxAttemptsPerDay": 3}),
        &[
            "+12125550401",
            "+12125550402",
            "+12125550403",
            "+12125550404",
        ],
    )
    .await;
    start(&srv, &f).await;
    let noon = noon_ny();
    let yesterday = noon - Duration::days(1);
    // Lead 2: a retry due; lead 3: a callback due (both tried yesterday).
    attempt(&srv, &f.leads[2], AttemptOutcome::Busy, yesterday, &f).await;
    let l3 = store::leads::get(&srv.app.db, &f.leads[3])
        .await
        .expect("get")
        .expect("lead");
    store::leads::record_attempt(
        &srv.app.db,
        &l3,
        "NO_ANSWER",
        yesterday.naive_utc(),
        "CALLBACK",
        Some((noon - Duration::hours(1)).naive_utc()),
    )
    .await
    .expect("attempt");
    let campaign = store::campaigns::get(&srv.app.db, &f.campaign)
        .await
        .expect("get")
        .expect("c");
    let mut order = Vec::new();
    for _ in 0..4 {
        let got = pinline::dialer::claim::claim_eligible(&srv.app.db, &campaign, noon, 1)
            .await
            .expect("claim");
        order.extend(got.into_iter().map(|l| l.id));
    }
    assert_eq!(
        order,
        vec![
            f.leads[3].clone(),
            f.leads[2].clone(),
            f.leads[0].clone(),
            f.leads[1].clone()
        ]
    );
    srv.finish().await;
}

/// A Florida number at 20:30 its time, a Texas number on a Sunday morning,
/// a Louisiana number on Thanksgiving: the state's rule refuses, named with
/// its citation in `eligibility`, the claim's trail and the lead's next
/// chance; a New York number at the same instants is dialable.
async fn the_called_partys_state_decides_and_is_cited(srv: TestServer) {
    srv.seed_demo().await;
    let f = fixture(
        &srv,
        "States",
        json!({"dialMode": "PROGRESSIVE"}),
        &[
            "+13055550401",
            "+12145550402",
            "+15045550403",
            "+12125550404",
        ],
    )
    .await;
    written_consent(&srv, &f, "+13055550401").await;
    start(&srv, &f).await;
    let query = "query($l:ID!,$at:DateTime){eligibility(leadId:$l,at:$at){eligible reason explanation until jurisdictions rulesVersion rule{jurisdiction citation summary source holiday}}}";
    let ask = |lead: usize, at: &str| {
        let (srv, f) = (&srv, &f);
        let at = at.to_owned();
        async move {
            srv.ok(Some(&f.sup), query, json!({"l": f.leads[lead], "at": at}))
                .await["eligibility"]
                .clone()
        }
    };
    // Wednesday 2026-06-10 20:30 EDT.
    let fl = ask(0, "2026-06-11T00:30:00Z").await;
    assert_eq!(fl["reason"], "OUTSIDE_WINDOW", "{fl}");
    assert_eq!(fl["jurisdictions"], json!(["US", "US-FL"]));
    assert_eq!(fl["rule"]["jurisdiction"], "US-FL");
    assert_eq!(fl["rule"]["citation"], "Fla. Stat. §501.616(6)(a)");
    assert!(
        fl["rule"]["source"]
            .as_str()
            .unwrap_or("")
            .starts_with("https://")
    );
    assert!(!fl["rulesVersion"].as_str().unwrap_or("").is_empty());
    assert_eq!(fl["until"], "2026-06-11T12:00:00+00:00");
    assert!(
        fl["explanation"]
            .as_str()
            .unwrap_or("")
            .contains("Fla. Stat. §501.616(6)(a)"),
        "{fl}"
    );
    assert_eq!(ask(3, "2026-06-11T00:30:00Z").await["eligible"], true);
    // Sunday 2026-06-14 10:00 CDT: Texas opens at noon on Sundays.
    let tx = ask(1, "2026-06-14T15:00:00Z").await;
    assert_eq!(
        tx["rule"]["citation"], "Tex. Bus. & Com. Code §301.051",
        "{tx}"
    );
    assert_eq!(tx["until"], "2026-06-14T17:00:00+00:00");
    // Thanksgiving 2026, 12:00 CST: Louisiana's holidays.
    let la = ask(2, "2026-11-26T18:00:00Z").await;
    assert_eq!(la["rule"]["jurisdiction"], "US-LA", "{la}");
    assert_eq!(la["rule"]["holiday"], "Thanksgiving Day");
    assert_eq!(la["until"], "2026-11-27T14:00:00+00:00");
    assert_eq!(ask(3, "2026-11-26T18:00:00Z").await["eligible"], true);

    // The address's state applies with the number's: the New York number
    // of a lead living in Florida closes at 20:00 too; a region that is no
    // state is refused with the field.
    let set_region = "mutation($i:UpdateLeadInput!){updateLead(input:$i){lead{region}}}";
    let moved = srv
        .ok(
            Some(&f.sup),
            set_region,
            json!({"i": {"id": f.leads[3], "region": "fl"}}),
        )
        .await;
    assert_eq!(moved["updateLead"]["lead"]["region"], "US-FL");
    let ny_fl = ask(3, "2026-06-11T00:30:00Z").await;
    assert_eq!(
        ny_fl["jurisdictions"],
        json!(["US", "US-NY", "US-FL"]),
        "{ny_fl}"
    );
    assert_eq!(ny_fl["rule"]["jurisdiction"], "US-FL");
    let bad = srv
        .gql(
            Some(&f.sup),
            set_region,
            json!({"i": {"id": f.leads[3], "region": "Atlantis"}}),
        )
        .await;
    assert_eq!(
        bad["errors"][0]["extensions"]["code"], "VALIDATION",
        "{bad}"
    );
    assert_eq!(bad["errors"][0]["extensions"]["field"], "region");
    let added = srv
        .ok(
            Some(&f.sup),
            "mutation($i:AddLeadsInput!){addLeads(input:$i){added rejected{code}}}",
            json!({"i": {"campaignId": f.campaign, "leads": [
                {"phone": "+12125550499", "region": "US-TX"},
                {"phone": "+12125550498", "region": "US-ZZ"}
            ]}}),
        )
        .await;
    assert_eq!(added["addLeads"]["added"], 1, "{added}");
    assert_eq!(
        added["addLeads"]["rejected"],
        json!([{"code": "BAD_REGION"}])
    );
    srv.ok(
        Some(&f.sup),
        set_region,
        json!({"i": {"id": f.leads[3], "region": "US-NY"}}),
    )
    .await;

    // A claim at the Florida instant: the trail names the statute, and the
    // lead goes back until Florida opens.
    let at: DateTime<Utc> = "2026-06-11T00:30:00Z".parse().expect("time");
    let campaign = store::campaigns::get(&srv.app.db, &f.campaign)
        .await
        .expect("get")
        .expect("c");
    let claimed = pinline::dialer::claim::claim_eligible(&srv.app.db, &campaign, at, 10)
        .await
        .expect("claim");
    let phones: Vec<_> = claimed.iter().map(|l| l.phone.as_str()).collect();
    assert!(!phones.contains(&"+13055550401"), "{phones:?}");
    let fl_lead = store::leads::get(&srv.app.db, &f.leads[0])
        .await
        .expect("get")
        .expect("lead");
    assert_eq!(
        fl_lead.not_before.map(|t| t.and_utc().to_rfc3339()),
        Some("2026-06-11T12:00:00+00:00".into())
    );
    let trail = srv
        .ok(
            Some(&f.sup),
            "query($c:ID!,$from:DateTime!,$to:DateTime!){complianceTrail(campaignId:$c,from:$from,to:$to){edges{node{phone verdict allowed rulesVersion rule{jurisdiction citation}}}}}",
            json!({"c": f.campaign, "from": "2026-06-10T00:00:00Z", "to": "2026-06-12T00:00:00Z"}),
        )
        .await;
    let records = trail["complianceTrail"]["edges"]
        .as_array()
        .expect("edges")
        .clone();
    let fl_row = records
        .iter()
        .find(|r| r["node"]["phone"] == "+13055550401")
        .unwrap_or_else(|| panic!("no trail row for the Florida lead: {trail}"));
    assert_eq!(fl_row["node"]["verdict"], "OUTSIDE_WINDOW");
    assert_eq!(fl_row["node"]["allowed"], false);
    assert_eq!(
        fl_row["node"]["rule"]["citation"],
        "Fla. Stat. §501.616(6)(a)"
    );
    assert!(
        !fl_row["node"]["rulesVersion"]
            .as_str()
            .unwrap_or("")
            .is_empty()
    );
    // The auditor's CSV names it in a column of its own.
    let csv = srv
        .client
        .get(format!(
            "{}/exports/compliance-trail.csv?campaignId={}&from=2026-06-10T00:00:00Z&to=2026-06-12T00:00:00Z",
            srv.url, f.campaign
        ))
        .bearer_auth(&f.sup)
        .send()
        .await
        .expect("csv")
        .text()
        .await
        .expect("body");
    assert!(
        csv.lines()
            .next()
            .unwrap_or("")
            .contains(",rule,rules_version,facts"),
        "{csv}"
    );
    assert!(csv.contains("Fla. Stat. §501.616(6)(a) (US-FL)"), "{csv}");
}

/// An Arizona number given New York's zone is not called at 05:30 Phoenix
/// time (08:30 in New York) until a supervisor verifies the zone; a number
/// of a split area code whose exchange the table does not know is held to
/// both zones' clocks.
async fn a_leads_zone_narrows_but_never_widens(srv: TestServer) {
    srv.seed_demo().await;
    let f = fixture(
        &srv,
        "Zones",
        json!({"dialMode": "PROGRESSIVE"}),
        &["+16025550501", "+18502010502"],
    )
    .await;
    written_consent(&srv, &f, "+18502010502").await;
    start(&srv, &f).await;
    let set =
        "mutation($i:UpdateLeadInput!){updateLead(input:$i){lead{timeZone timeZoneVerified}}}";
    let moved = srv
        .ok(
            Some(&f.sup),
            set,
            json!({"i": {"id": f.leads[0], "timeZone": "America/New_York"}}),
        )
        .await;
    assert_eq!(moved["updateLead"]["lead"]["timeZoneVerified"], false);
    // Wednesday 2026-06-10 12:30 UTC: 08:30 in New York, 05:30 in Phoenix.
    let early: DateTime<Utc> = "2026-06-10T12:30:00Z".parse().expect("t");
    let az = eligibility(&srv, &f, 0, early).await;
    assert_eq!(az["reason"], "OUTSIDE_WINDOW", "{az}");
    let facts: Value = serde_json::from_str(az["facts"].as_str().expect("facts")).expect("json");
    assert_eq!(facts["alsoZones"], json!(["America/Phoenix"]));
    // 08:00 in Phoenix.
    assert_eq!(az["until"], "2026-06-10T15:00:00+00:00");
    // An agent may not verify it; a supervisor may, and it is audited.
    let agent = srv.login_demo("agent1").await;
    let denied = srv
        .gql(
            Some(&agent),
            set,
            json!({"i": {"id": f.leads[0], "timeZoneVerified": true}}),
        )
        .await;
    assert!(denied.get("errors").is_some(), "{denied}");
    srv.ok(
        Some(&f.sup),
        set,
        json!({"i": {"id": f.leads[0], "timeZoneVerified": true}}),
    )
    .await;
    assert_eq!(eligibility(&srv, &f, 0, early).await["eligible"], true);
    let admin = srv.login_demo("admin").await;
    let audit = srv
        .ok(
            Some(&admin),
            "{ auditLog(first: 20) { edges { node { action detail } } } }",
            json!({}),
        )
        .await;
    assert!(
        audit.to_string().contains("time_zone_verified: Some(true)"),
        "{audit}"
    );

    // 850-201: the table lists only some of 850's Central exchanges. At
    // 08:30 Eastern it is 07:30 Central: not yet; at 08:00 Central, yes.
    let split = eligibility(&srv, &f, 1, early).await;
    assert_eq!(split["reason"], "OUTSIDE_WINDOW", "{split}");
    assert_eq!(split["until"], "2026-06-10T13:00:00+00:00");
    let at_eight: DateTime<Utc> = "2026-06-10T13:00:00Z".parse().expect("t");
    assert_eq!(eligibility(&srv, &f, 1, at_eight).await["eligible"], true);
}

/// Premium-rate, shared-cost and toll-free numbers and extensions are
/// refused at import with the reason; a premium-rate caller ID is refused,
/// a toll-free one is not.
async fn numbers_that_are_never_dialed(srv: TestServer) {
    srv.seed_demo().await;
    let f = fixture(&srv, "Types", json!({}), &["+12125550601"]).await;
    let added = srv
        .ok(
            Some(&f.sup),
            "mutation($i:AddLeadsInput!){addLeads(input:$i){added rejected{index code message}}}",
            json!({"i": {"campaignId": f.campaign, "leads": [
                {"phone": "+1 900 555 0602"},
                {"phone": "+1 800 555 0603"},
                {"phone": "+44 909 879 0000"},
                {"phone": "212 555 0604 ext. 12"},
                {"phone": "212 555 0605"}
            ]}}),
        )
        .await;
    let rejected = added["addLeads"]["rejected"]
        .as_array()
        .expect("rejected")
        .clone();
    let codes: Vec<(i64, &str)> = rejected
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
        [
            (0, "NUMBER_TYPE"),
            (1, "NUMBER_TYPE"),
            (2, "NUMBER_TYPE"),
            (3, "BAD_NUMBER")
        ],
        "{added}"
    );
    assert!(
        rejected[0]["message"]
            .as_str()
            .unwrap_or("")
            .contains("premium-rate")
    );
    assert!(
        rejected[3]["message"]
            .as_str()
            .unwrap_or("")
            .contains("extension")
    );
    assert_eq!(added["addLeads"]["added"], 1);

    let cc = srv
        .ok(
            Some(&f.sup),
            "{ contactCenters { edges { node { id } } } }",
            json!({}),
        )
        .await["contactCenters"]["edges"][0]["node"]["id"]
        .clone();
    let create = "mutation($i:CreateCampaignInput!){createCampaign(input:$i){campaign{id}}}";
    let premium = srv
        .gql(
            Some(&f.sup),
            create,
            json!({"i": {"contactCenterId": cc, "name": "Premium", "callerId": "+19005550100"}}),
        )
        .await;
    assert_eq!(
        premium["errors"][0]["extensions"]["code"], "VALIDATION",
        "{premium}"
    );
    assert_eq!(premium["errors"][0]["extensions"]["field"], "callerId");
    srv.ok(
        Some(&f.sup),
        create,
        json!({"i": {"contactCenterId": cc, "name": "Free", "callerId": "+18005550100"}}),
    )
    .await;

    // A campaign that calls businesses dials toll-free leads; switched
    // off, the gate refuses them.
    let b = fixture(
        &srv,
        "Businesses",
        json!({"allowTollFree": true}),
        &["+1 800 555 0610"],
    )
    .await;
    assert!(!b.leads[0].is_empty(), "the toll-free lead was added");
    srv.ok(
        Some(&b.sup),
        "mutation($i:UpdateLeadInput!){updateLead(input:$i){lead{timeZone}}}",
        // A toll-free number may ring anywhere in the plan (Guam to
        // Newfoundland): until someone verifies where, every zone applies.
        json!({"i": {"id": b.leads[0], "timeZone": "America/New_York", "timeZoneVerified": true}}),
    )
    .await;
    start(&srv, &b).await;
    let on = eligibility(&srv, &b, 0, noon_ny()).await;
    assert_eq!(on["eligible"], true, "{on}");
    let off = srv
        .ok(
            Some(&b.sup),
            "mutation($i:UpdateCampaignInput!){updateCampaign(input:$i){campaign{allowTollFree}}}",
            json!({"i": {"id": b.campaign, "allowTollFree": false}}),
        )
        .await;
    assert_eq!(off["updateCampaign"]["campaign"]["allowTollFree"], false);
    let v = eligibility(&srv, &b, 0, noon_ny()).await;
    assert_eq!(v["reason"], "NUMBER_TYPE", "{v}");
    assert!(
        v["explanation"]
            .as_str()
            .unwrap_or("")
            .contains("toll-free"),
        "{v}"
    );
}

/// A campaign whose days have their own hours: the gate reads the lead's
/// day, opens at that day's hour, and the trail records the week.
async fn a_campaigns_hours_per_weekday_narrow_the_law(srv: TestServer) {
    srv.seed_demo().await;
    let mut week: Vec<Value> = ["MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY"]
        .iter()
        .map(|d| json!({"day": d, "start": "09:00", "end": "20:00"}))
        .collect();
    week.push(json!({"day": "SATURDAY", "start": "10:00", "end": "14:00"}));
    let f = fixture(
        &srv,
        "Weekly",
        json!({"dialMode": "PREVIEW", "callingWindow": {"hours": week}}),
        &["+12125550404"],
    )
    .await;
    start(&srv, &f).await;
    // Saturday 2026-06-13, New York (EDT, UTC−4).
    let sat_1pm = eligibility(&srv, &f, 0, "2026-06-13T17:00:00Z".parse().expect("t")).await;
    assert_eq!(sat_1pm["eligible"], true, "{sat_1pm}");
    let window = &sat_1pm["facts"];
    let facts: Value = serde_json::from_str(window.as_str().unwrap_or("{}")).expect("facts");
    assert_eq!(
        facts["window"]["hours"],
        "09:00-20:00,09:00-20:00,09:00-20:00,09:00-20:00,09:00-20:00,10:00-14:00,-"
    );
    // 14:30 on Saturday: closed until Monday 09:00 (Sunday has no hours),
    // though the law and Friday's hours would allow it.
    let sat_late = eligibility(&srv, &f, 0, "2026-06-13T18:30:00Z".parse().expect("t")).await;
    assert_eq!(sat_late["reason"], "OUTSIDE_WINDOW", "{sat_late}");
    assert_eq!(sat_late["until"], "2026-06-15T13:00:00+00:00");
    // Friday 19:00 is inside Friday's hours; Friday 08:30 opens at 09:00.
    let fri = eligibility(&srv, &f, 0, "2026-06-12T23:00:00Z".parse().expect("t")).await;
    assert_eq!(fri["eligible"], true, "{fri}");
    let early = eligibility(&srv, &f, 0, "2026-06-12T12:30:00Z".parse().expect("t")).await;
    assert_eq!(early["until"], "2026-06-12T13:00:00+00:00", "{early}");
    srv.finish().await;
}

/// An organization's own hours, closing days and caps: set by admins
/// (audited), applied by the gate from the instant they are set and cited
/// by revision; an instant before answers as it stood then.
async fn an_organizations_own_rules_narrow_the_law(srv: TestServer) {
    srv.seed_demo().await;
    let f = fixture(
        &srv,
        "Own rules",
        json!({"dialMode": "PREVIEW"}),
        &["+12125550404"],
    )
    .await;
    start(&srv, &f).await;
    let admin = srv.login_demo("admin").await;
    let agent = srv.login_demo("agent1").await;
    const READ: &str = "{ compliancePolicy { revision setAt setBy hours { day start end } closingDays { name date } caps { max withinHours } } }";
    let initial = srv.ok(Some(&f.sup), READ, json!({})).await["compliancePolicy"].clone();
    assert_eq!(initial["revision"], 0);
    assert_eq!(initial["hours"], Value::Null);
    assert_eq!(initial["caps"], json!([{"max": 3, "withinHours": 24}]));
    assert_eq!(
        srv.err_code(Some(&agent), READ, json!({})).await,
        "FORBIDDEN"
    );
    const SET: &str = "mutation($i:CompliancePolicyInput!){setCompliancePolicy(input:$i){policy{revision hours{day start end} closingDays{name date} caps{max withinHours}}}}";
    let hours: Vec<Value> = [
        "MONDAY",
        "TUESDAY",
        "WEDNESDAY",
        "THURSDAY",
        "FRIDAY",
        "SATURDAY",
    ]
    .iter()
    .map(|d| json!({"day": d, "start": "09:00", "end": "19:00"}))
    .collect();
    let input = json!({
        "hours": hours,
        "closingDays": [{"name": "Inventory", "date": "2027-06-10"}, {"name": "Christmas Eve", "date": "12-24"}],
        "caps": [{"max": 1, "withinHours": 8}, {"max": 2, "withinHours": 24}],
    });
    assert_eq!(
        srv.err_code(Some(&f.sup), SET, json!({"i": input})).await,
        "FORBIDDEN",
        "only admins set the organization's rules"
    );
    for (bad, field) in [
        (
            json!({"closingDays": [{"name": "x", "date": "31-12"}]}),
            "closingDays.date",
        ),
        (json!({"caps": []}), "caps"),
        (json!({"caps": [{"max": 0, "withinHours": 24}]}), "caps.max"),
        (
            json!({"caps": [{"max": 1, "withinHours": 721}]}),
            "caps.withinHours",
        ),
        (
            json!({"hours": [{"day": "MONDAY", "start": "19:00", "end": "09:00"}]}),
            "hours",
        ),
    ] {
        let body = srv.gql(Some(&admin), SET, json!({"i": bad})).await;
        assert_eq!(
            body["errors"][0]["extensions"]["field"], field,
            "{bad}: {body}"
        );
    }
    let set = srv.ok(Some(&admin), SET, json!({"i": input})).await["setCompliancePolicy"]["policy"]
        .clone();
    assert_eq!(set["revision"], 1);
    assert_eq!(set["hours"], json!(hours));
    assert_eq!(
        set["closingDays"][1],
        json!({"name": "Christmas Eve", "date": "12-24"})
    );
    // Leaving a field out keeps it.
    let again = srv
        .ok(
            Some(&admin),
            SET,
            json!({"i": {"caps": [{"max": 1, "withinHours": 8}, {"max": 2, "withinHours": 24}]}}),
        )
        .await["setCompliancePolicy"]["policy"]
        .clone();
    assert_eq!(again["revision"], 2);
    assert_eq!(again["hours"], json!(hours));
    let audit = srv
        .ok(
            Some(&admin),
            "{ auditLog(first: 20) { edges { node { action } } } }",
            json!({}),
        )
        .await;
    let actions: Vec<&str> = audit["auditLog"]["edges"]
        .as_array()
        .expect("edges")
        .iter()
        .filter_map(|e| e["node"]["action"].as_str())
        .filter(|a| *a == "organization.policy")
        .collect();
    assert_eq!(actions.len(), 2);

    let query = "query($l:ID!,$at:DateTime){eligibility(leadId:$l,at:$at){eligible reason until rule{jurisdiction citation summary holiday} facts}}";
    let ask = |at: &str| {
        let (srv, f) = (&srv, &f);
        let at = at.to_owned();
        async move {
            srv.ok(Some(&f.sup), query, json!({"l": f.leads[0], "at": at}))
                .await["eligibility"]
                .clone()
        }
    };
    // Wednesday 2027-06-09 19:30 EDT: the law allows it, the organization
    // does not; Thursday is its closing day, so Friday 09:00.
    let late = ask("2027-06-09T23:30:00Z").await;
    assert_eq!(late["reason"], "OUTSIDE_WINDOW", "{late}");
    assert_eq!(late["rule"]["jurisdiction"], "ORG");
    assert_eq!(late["rule"]["citation"], "Organization policy, revision 2");
    assert_eq!(late["until"], "2027-06-11T13:00:00+00:00");
    let facts: Value = serde_json::from_str(late["facts"].as_str().unwrap_or("{}")).expect("facts");
    assert_eq!(facts["law"]["organizationPolicy"], 2);
    let closed = ask("2027-06-10T16:00:00Z").await;
    assert_eq!(closed["rule"]["holiday"], "Inventory", "{closed}");
    assert_eq!(
        ask("2027-06-13T16:00:00Z").await["reason"],
        "OUTSIDE_WINDOW",
        "Sunday"
    );
    assert_eq!(ask("2027-06-09T16:00:00Z").await["eligible"], true);
    // Before the policy was set, the instant is judged as it stood: the
    // law alone (Wednesday 2026-06-10 19:30 EDT).
    assert_eq!(ask("2026-06-10T23:30:00Z").await["eligible"], true);

    // The organization's cap: one call in any 8 hours, whichever lead or
    // campaign made it.
    let campaign = store::campaigns::get(&srv.app.db, &f.campaign)
        .await
        .expect("db")
        .expect("campaign");
    let t: DateTime<Utc> = "2027-06-09T14:00:00Z".parse().expect("t");
    let t = t.naive_utc();
    let call = pinline::store::models::Call {
        id: store::new_id(),
        organization_id: campaign.organization_id.clone(),
        contact_center_id: campaign.contact_center_id.clone(),
        campaign_id: None,
        lead_id: None,
        agent_id: None,
        target_agent_id: None,
        origin: "MANUAL".into(),
        phone: "+12125550404".into(),
        caller_id: "+14155550100".into(),
        state: "ENDED".into(),
        outcome: Some("NO_ANSWER".into()),
        answered_by: None,
        muted: false,
        on_hold: false,
        created_at: t,
        dialed_at: Some(t),
        answered_at: None,
        connected_at: None,
        ended_at: Some(t + Duration::seconds(25)),
        updated_at: t + Duration::seconds(25),
        hold_ms: 0,
        talk_ms: 0,
        held_at: None,
    };
    store::calls::save(&srv.app.db, &call, &[], None)
        .await
        .expect("call saved");
    let capped = ask("2027-06-09T16:00:00Z").await;
    assert_eq!(capped["reason"], "NUMBER_CAP", "{capped}");
    assert_eq!(capped["rule"]["jurisdiction"], "ORG");
    assert_eq!(capped["until"], "2027-06-09T22:00:00+00:00");
    srv.finish().await;
}

/// The campaign's trail rows, oldest first: (phone, verdict, stage).
async fn trail_rows(srv: &TestServer, f: &Fixture) -> Vec<(String, String, String)> {
    let trail = srv
        .ok(
            Some(&f.sup),
            "query($c:ID!,$from:DateTime!,$to:DateTime!){complianceTrail(campaignId:$c,from:$from,to:$to,first:200){edges{node{phone verdict facts}}}}",
            json!({"c": f.campaign, "from": "2026-01-01T00:00:00Z", "to": "2028-01-01T00:00:00Z"}),
        )
        .await;
    trail["complianceTrail"]["edges"]
        .as_array()
        .expect("edges")
        .iter()
        .map(|e| {
            let n = &e["node"];
            let facts: Value =
                serde_json::from_str(n["facts"].as_str().unwrap_or("{}")).expect("facts");
            (
                n["phone"].as_str().unwrap_or("").to_owned(),
                n["verdict"].as_str().unwrap_or("").to_owned(),
                facts["stage"].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect()
}

/// Leads the claim's SQL skips (a Do-Not-Call number, a zone at night, no
/// attempts left) get a trail row from the review, once per verdict: an
/// auditor's export says why each lead was not dialed.
async fn the_trail_explains_the_leads_the_claim_passes_over(srv: TestServer) {
    srv.seed_demo().await;
    let f = fixture(
        &srv,
        "Passed over",
        json!({"dialMode": "PREVIEW", "maxAttempts": 2, "maxAttemptsPerDay": 1}),
        // New York; Honolulu (06:00 at noon in New York); New York, on the
        // DNC list; New York, tried once, and then the campaign allows one
        // attempt only.
        &[
            "+12125550601",
            "+18085550602",
            "+12125550603",
            "+12125550604",
        ],
    )
    .await;
    start(&srv, &f).await;
    let add = "mutation($i:AddListEntriesInput!){addListEntries(input:$i){added}}";
    srv.ok(
        Some(&f.sup),
        add,
        json!({"i": {"list": "DO_NOT_CALL", "phones": ["+12125550603"], "reason": "asked"}}),
    )
    .await;
    let noon = noon_ny();
    attempt(
        &srv,
        &f.leads[3],
        AttemptOutcome::NoAnswer,
        noon - Duration::days(2),
        &f,
    )
    .await;
    srv.ok(
        Some(&f.sup),
        "mutation($i:UpdateCampaignInput!){updateCampaign(input:$i){campaign{maxAttempts}}}",
        json!({"i": {"id": f.campaign, "maxAttempts": 1}}),
    )
    .await;
    let campaign = store::campaigns::get(&srv.app.db, &f.campaign)
        .await
        .expect("get")
        .expect("c");
    // What the claim takes: only the first lead; the others leave no row.
    let claimed = pinline::dialer::claim::claim_eligible(&srv.app.db, &campaign, noon, 10)
        .await
        .expect("claim");
    assert_eq!(claimed.len(), 1);
    assert_eq!(trail_rows(&srv, &f).await.len(), 1);
    let review = |at: DateTime<Utc>| {
        let (srv, campaign) = (&srv, &campaign);
        async move {
            pinline::dialer::review::review_campaign(&srv.app.db, campaign, at, 100)
                .await
                .expect("review")
        }
    };
    let done = review(noon).await;
    assert_eq!((done.judged, done.recorded), (3, 3), "{done:?}");
    let rows = trail_rows(&srv, &f).await;
    let of = |phone: &str| {
        rows.iter()
            .filter(|r| r.0 == phone && r.2 == "review")
            .map(|r| r.1.as_str())
            .collect::<Vec<_>>()
    };
    assert_eq!(of("+18085550602"), ["OUTSIDE_WINDOW"], "{rows:?}");
    assert_eq!(of("+12125550603"), ["DNC"]);
    assert_eq!(of("+12125550604"), ["MAX_ATTEMPTS"]);
    assert!(of("+12125550601").is_empty(), "claimed, not reviewed");
    // The same verdicts again write nothing; the refused leads are not even
    // judged before their reasons may lift.
    assert_eq!(
        review(noon + Duration::minutes(1)).await,
        Default::default()
    );
    // Honolulu opens at 08:00 HST (18:00 UTC): judged again, now eligible,
    // no row. The DNC entry removed: eligible after its re-check.
    srv.ok(
        Some(&f.sup),
        "mutation($i:RemoveListEntryInput!){removeListEntry(input:$i)}",
        json!({"i": {"list": "DO_NOT_CALL", "phone": "+12125550603", "reason": "mistake"}}),
    )
    .await;
    let later = noon + Duration::hours(2);
    let done = review(later).await;
    assert_eq!(done.recorded, 0, "{done:?}");
    assert_eq!(trail_rows(&srv, &f).await.len(), 4);
    let lead = store::leads::get(&srv.app.db, &f.leads[2])
        .await
        .expect("get")
        .expect("lead");
    assert_eq!(lead.last_verdict.as_deref(), Some("ELIGIBLE"));
    // Listed again: a new row, for the new verdict.
    srv.ok(
        Some(&f.sup),
        add,
        json!({"i": {"list": "DO_NOT_CALL", "phones": ["+12125550603"], "reason": "asked again"}}),
    )
    .await;
    review(later + Duration::hours(1)).await;
    let rows = trail_rows(&srv, &f).await;
    let dnc: Vec<_> = rows
        .iter()
        .filter(|r| r.0 == "+12125550603")
        .map(|r| r.1.as_str())
        .collect();
    assert_eq!(dnc, ["DNC", "DNC"], "{rows:?}");
    srv.finish().await;
}

/// The review runs by itself in a server: a Do-Not-Call lead of a running
/// campaign gets its trail row without anyone asking.
async fn the_review_runs_in_the_server(backend: pinline_tests::Backend) {
    let srv = TestServer::start_with(backend, |c| {
        c.review = Some(pinline::dialer::review::ReviewConfig {
            interval: std::time::Duration::from_millis(100),
            batch: 50,
        })
    })
    .await;
    srv.seed_demo().await;
    let f = fixture(
        &srv,
        "Reviewed",
        json!({"dialMode": "PREVIEW"}),
        &["+12125550611"],
    )
    .await;
    srv.ok(
        Some(&f.sup),
        "mutation($i:AddListEntriesInput!){addListEntries(input:$i){added}}",
        json!({"i": {"list": "DO_NOT_CALL", "phones": ["+12125550611"], "reason": "asked"}}),
    )
    .await;
    start(&srv, &f).await;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let rows = trail_rows(&srv, &f).await;
        if rows.iter().any(|r| r.1 == "DNC" && r.2 == "review") {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no review row: {rows:?}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    srv.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_review_runs_in_the_server_sqlite() {
    the_review_runs_in_the_server(pinline_tests::Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_review_runs_in_the_server_postgres() {
    the_review_runs_in_the_server(pinline_tests::Backend::Postgres).await;
}
