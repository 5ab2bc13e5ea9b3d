//! Campaigns and leads through the API: the lifecycle (one RUNNING campaign
//! per contact center), settings validation that names the field, and
//! `addLeads` row outcomes.

use pinline_tests::{TestServer, error_code, on_both_backends};
use serde_json::{Value, json};

on_both_backends!(
    lifecycle_and_one_running_per_contact_center,
    settings_are_validated_field_by_field,
    add_leads_reports_every_row,
    campaigns_are_guarded,
    check_campaign_lists_every_problem,
    wrap_up_limit_can_be_cleared,
);

const CREATE: &str = "mutation($i:CreateCampaignInput!){createCampaign(input:$i){campaign{id name state dialMode callerId ringTimeoutSeconds callingWindow{days start end} retryDelays{abandonedMinutes} dispositions{code category endsLead} maxAbandonRate}}}";

async fn demo_cc(srv: &TestServer, token: &str) -> Value {
    srv.ok(
        Some(token),
        "{ contactCenters { edges { node { id name } } } }",
        json!({}),
    )
    .await["contactCenters"]["edges"][0]["node"]["id"]
        .clone()
}

async fn create(srv: &TestServer, token: &str, input: Value) -> Value {
    srv.ok(Some(token), CREATE, json!({ "i": input })).await["createCampaign"]["campaign"].clone()
}

async fn act(srv: &TestServer, token: &str, verb: &str, id: &Value) -> Value {
    srv.gql(
        Some(token),
        &format!(
            "mutation($id:ID!){{{verb}Campaign(input:{{campaignId:$id}}){{campaign{{id state}}}}}}"
        ),
        json!({"id": id}),
    )
    .await
}

async fn lifecycle_and_one_running_per_contact_center(srv: TestServer) {
    srv.seed_demo().await;
    let sup = srv.login_demo("supervisor").await;
    let cc = demo_cc(&srv, &sup).await;
    let a = create(
        &srv,
        &sup,
        json!({"contactCenterId": cc, "name": "A", "callerId": "(415) 555-0100"}),
    )
    .await;
    assert_eq!(a["state"], "DRAFT");
    assert_eq!(a["callerId"], "+14155550100");
    assert_eq!(a["dialMode"], "PROGRESSIVE");
    assert_eq!(a["callingWindow"]["start"], "08:00");
    assert_eq!(a["callingWindow"]["end"], "21:00");
    assert_eq!(a["maxAbandonRate"], 0.03);
    let b = create(
        &srv,
        &sup,
        json!({"contactCenterId": cc, "name": "B", "callerId": "+14155550101"}),
    )
    .await;

    // DRAFT cannot be paused; start, pause, resume.
    assert_eq!(
        error_code(&act(&srv, &sup, "pause", &a["id"]).await).as_deref(),
        Some("CONFLICT")
    );
    assert_eq!(
        act(&srv, &sup, "start", &a["id"]).await["data"]["startCampaign"]["campaign"]["state"],
        "RUNNING"
    );
    // A second running campaign in the same contact center is refused.
    let second = act(&srv, &sup, "start", &b["id"]).await;
    assert_eq!(error_code(&second).as_deref(), Some("CONFLICT"));
    assert!(
        second["errors"][0]["message"]
            .as_str()
            .unwrap_or("")
            .contains("already running")
    );
    assert_eq!(
        act(&srv, &sup, "pause", &a["id"]).await["data"]["pauseCampaign"]["campaign"]["state"],
        "PAUSED"
    );
    // Now B may run, and A may not resume while B runs.
    assert_eq!(
        act(&srv, &sup, "start", &b["id"]).await["data"]["startCampaign"]["campaign"]["state"],
        "RUNNING"
    );
    assert_eq!(
        error_code(&act(&srv, &sup, "start", &a["id"]).await).as_deref(),
        Some("CONFLICT")
    );
    // Complete then archive; nothing leaves COMPLETED but archive.
    assert_eq!(
        act(&srv, &sup, "complete", &a["id"]).await["data"]["completeCampaign"]["campaign"]["state"],
        "COMPLETED"
    );
    assert_eq!(
        error_code(&act(&srv, &sup, "start", &a["id"]).await).as_deref(),
        Some("CONFLICT")
    );
    assert_eq!(
        act(&srv, &sup, "archive", &a["id"]).await["data"]["archiveCampaign"]["campaign"]["state"],
        "ARCHIVED"
    );
    let list = srv
        .ok(
            Some(&sup),
            "{ campaigns(states:[RUNNING]) { edges { node { name } } } }",
            json!({}),
        )
        .await;
    assert_eq!(list["campaigns"]["edges"], json!([{"node": {"name": "B"}}]));
    srv.finish().await;
}

async fn settings_are_validated_field_by_field(srv: TestServer) {
    srv.seed_demo().await;
    let sup = srv.login_demo("supervisor").await;
    let cc = demo_cc(&srv, &sup).await;
    let base = json!({"contactCenterId": cc, "name": "V", "callerId": "+14155550100"});
    let with = |extra: Value| {
        let mut v = base.clone();
        for (k, x) in extra.as_object().expect("object") {
            v[k] = x.clone();
        }
        v
    };
    let cases = [
        (json!({"ringTimeoutSeconds": 10}), "ringTimeoutSeconds"),
        (
            json!({"callingWindow": {"start": "07:30"}}),
            "callingWindow.start",
        ),
        (
            json!({"callingWindow": {"end": "21:30"}}),
            "callingWindow.end",
        ),
        (
            json!({"callingWindow": {"start": "9am"}}),
            "callingWindow.start",
        ),
        (json!({"callingWindow": {"days": []}}), "callingWindow.days"),
        (
            json!({"callingWindow": {"hours": [{"day": "SATURDAY", "start": "07:00", "end": "12:00"}]}}),
            "callingWindow.hours",
        ),
        (
            json!({"callingWindow": {"hours": [{"day": "MONDAY", "start": "09:00", "end": "12:00"}, {"day": "MONDAY", "start": "13:00", "end": "17:00"}]}}),
            "callingWindow.hours",
        ),
        (
            json!({"callingWindow": {"hours": [{"day": "MONDAY", "start": "12:00", "end": "12:10"}]}}),
            "callingWindow.end",
        ),
        (
            json!({"callingWindow": {"hours": [{"day": "MONDAY", "start": "17:00", "end": "09:00"}]}}),
            "callingWindow.hours",
        ),
        (
            json!({"callingWindow": {"hours": []}}),
            "callingWindow.hours",
        ),
        (
            json!({"callingWindow": {"days": ["MONDAY"], "hours": [{"day": "MONDAY", "start": "09:00", "end": "17:00"}]}}),
            "callingWindow.hours",
        ),
        (json!({"maxAbandonRate": 0.05}), "maxAbandonRate"),
        (
            json!({"maxAttempts": 3, "maxAttemptsPerDay": 4}),
            "maxAttemptsPerDay",
        ),
        (
            json!({"dialMode": "PREDICTIVE", "retryDelays": {"abandonedMinutes": 600}}),
            "retryDelays.abandoned",
        ),
        (json!({"callerId": "12"}), "callerId"),
        (json!({"dispositions": []}), "dispositions"),
        (
            json!({"dispositions": [{"code": "bad code", "label": "x", "category": "FINAL"}]}),
            "dispositions.code",
        ),
    ];
    for (extra, field) in cases {
        let body = srv
            .gql(Some(&sup), CREATE, json!({"i": with(extra.clone())}))
            .await;
        assert_eq!(
            error_code(&body).as_deref(),
            Some("VALIDATION"),
            "{extra}: {body}"
        );
        assert_eq!(
            body["errors"][0]["extensions"]["field"], field,
            "{extra}: {body}"
        );
    }
    // A predictive campaign with a 72-hour abandoned retry is fine; a
    // narrower window on weekdays too.
    let ok = create(
        &srv,
        &sup,
        with(json!({"dialMode": "PREDICTIVE", "callingWindow": {"days": ["MONDAY", "FRIDAY"], "start": "09:30", "end": "17:00"}})),
    )
    .await;
    assert_eq!(ok["retryDelays"]["abandonedMinutes"], 4320);
    assert_eq!(
        ok["callingWindow"],
        json!({"days": ["MONDAY", "FRIDAY"], "start": "09:30", "end": "17:00"})
    );
    // Each day its own hours: weekdays 09:00–20:00, Saturday 10:00–14:00,
    // Sunday closed; read back exactly, and outlined by days/start/end.
    let mut week: Vec<Value> = ["MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY"]
        .iter()
        .map(|d| json!({"day": d, "start": "09:00", "end": "20:00"}))
        .collect();
    week.push(json!({"day": "SATURDAY", "start": "10:00", "end": "14:00"}));
    let weekly = srv
        .ok(
            Some(&sup),
            "mutation($i:CreateCampaignInput!){createCampaign(input:$i){campaign{id callingWindow{days start end hours{day start end}}}}}",
            json!({"i": with(json!({"name": "W", "callingWindow": {"hours": week}}))}),
        )
        .await["createCampaign"]["campaign"]
        .clone();
    assert_eq!(weekly["callingWindow"]["hours"], json!(week));
    assert_eq!(weekly["callingWindow"]["start"], "09:00");
    assert_eq!(weekly["callingWindow"]["end"], "20:00");
    assert_eq!(
        weekly["callingWindow"]["days"].as_array().map(Vec::len),
        Some(6)
    );
    // Giving days/start/end again makes the hours the same on each day.
    let uniform = srv
        .ok(
            Some(&sup),
            "mutation($i:UpdateCampaignInput!){updateCampaign(input:$i){campaign{callingWindow{hours{day start end}}}}}",
            json!({"i": {"id": weekly["id"], "callingWindow": {"days": ["SATURDAY", "SUNDAY"], "start": "11:00"}}}),
        )
        .await;
    assert_eq!(
        uniform["updateCampaign"]["campaign"]["callingWindow"]["hours"],
        json!([
            {"day": "SATURDAY", "start": "11:00", "end": "20:00"},
            {"day": "SUNDAY", "start": "11:00", "end": "20:00"}
        ])
    );
    // Duplicate names in a contact center conflict.
    assert_eq!(
        srv.err_code(Some(&sup), CREATE, json!({"i": with(json!({"name": "V"}))}))
            .await,
        "CONFLICT"
    );
    srv.finish().await;
}

const ADD: &str = "mutation($i:AddLeadsInput!){addLeads(input:$i){added merged rejected{index phone code message} warnings{index phone code}}}";

async fn add_leads_reports_every_row(srv: TestServer) {
    srv.seed_demo().await;
    let sup = srv.login_demo("supervisor").await;
    let cc = demo_cc(&srv, &sup).await;
    let c = create(
        &srv,
        &sup,
        json!({"contactCenterId": cc, "name": "Leads", "callerId": "+14155550100"}),
    )
    .await;
    let props = json!([{"key": "zeta", "value": "1"}, {"key": "alpha", "value": "2"}, {"key": "mid", "value": "3"}]);
    let leads = json!([
        {"phone": "(212) 555-0123", "firstName": "Ann", "customProperties": props},   // 0 ok, New York
        {"phone": "not a number"},                                                      // 1 BAD_NUMBER
        {"phone": "312 555 0123", "timeZone": "Mars/Base"},                              // 2 BAD_TIME_ZONE
        {"phone": "+1 212 555 0123"},                                                    // 3 duplicate of 0
        {"phone": "208 555 0123"},                                                       // 4 NEEDS_TIME_ZONE (Idaho)
        {"phone": "208 555 0124", "timeZone": "America/Boise"},                          // 5 ok
    ]);
    let out = srv
        .ok(
            Some(&sup),
            ADD,
            json!({"i": {"campaignId": c["id"], "leads": leads}}),
        )
        .await["addLeads"]
        .clone();
    assert_eq!(out["added"], 3);
    assert_eq!(out["merged"], 1);
    let codes = |v: &Value| -> Vec<(i64, String)> {
        v.as_array()
            .expect("list")
            .iter()
            .map(|r| {
                (
                    r["index"].as_i64().expect("index"),
                    r["code"].as_str().expect("code").to_owned(),
                )
            })
            .collect()
    };
    assert_eq!(
        codes(&out["rejected"]),
        vec![(1, "BAD_NUMBER".into()), (2, "BAD_TIME_ZONE".into())]
    );
    assert_eq!(
        codes(&out["warnings"]),
        vec![
            (3, "DUPLICATE_MERGED".into()),
            (4, "NEEDS_TIME_ZONE".into())
        ]
    );
    assert_eq!(out["rejected"][0]["phone"], "not a number");

    // Again: everything already there is merged, nothing added.
    let again = srv
        .ok(
            Some(&sup),
            ADD,
            json!({"i": {"campaignId": c["id"], "leads": [{"phone": "212-555-0123"}]}}),
        )
        .await["addLeads"]
        .clone();
    assert_eq!(
        (again["added"].clone(), again["merged"].clone()),
        (json!(0), json!(1))
    );

    // The leads, with properties in their order and the derived zone.
    let q = "query($c:ID!,$f:LeadFilter){leads(campaignId:$c,filter:$f){edges{node{phone firstName timeZone status customProperties{key value}}}}}";
    let all = srv.ok(Some(&sup), q, json!({"c": c["id"]})).await;
    let edges = all["leads"]["edges"].as_array().expect("edges").clone();
    assert_eq!(edges.len(), 3);
    let ann = &edges[0]["node"];
    assert_eq!(ann["phone"], "+12125550123");
    assert_eq!(ann["timeZone"], "America/New_York");
    assert_eq!(ann["status"], "NEW");
    assert_eq!(ann["customProperties"], props);
    let waiting = srv
        .ok(
            Some(&sup),
            q,
            json!({"c": c["id"], "f": {"statuses": ["NEEDS_TIME_ZONE"]}}),
        )
        .await;
    assert_eq!(waiting["leads"]["edges"].as_array().map(Vec::len), Some(1));
    assert_eq!(
        waiting["leads"]["edges"][0]["node"]["phone"],
        "+12085550123"
    );
    let counts = srv
        .ok(
            Some(&sup),
            "query($id:ID!){campaign(id:$id){leadCounts{status count}}}",
            json!({"id": c["id"]}),
        )
        .await;
    let mut counts = counts["campaign"]["leadCounts"]
        .as_array()
        .expect("counts")
        .clone();
    counts.sort_by_key(|v| v["status"].as_str().unwrap_or("").to_owned());
    assert_eq!(
        counts,
        vec![
            json!({"status": "NEEDS_TIME_ZONE", "count": 1}),
            json!({"status": "NEW", "count": 2})
        ]
    );

    // Over 10 000 rows in one call is refused whole.
    let many: Vec<Value> = (0..10_001)
        .map(|i| json!({"phone": format!("+1212555{:04}", i % 10_000)}))
        .collect();
    let body = srv
        .gql(
            Some(&sup),
            ADD,
            json!({"i": {"campaignId": c["id"], "leads": many}}),
        )
        .await;
    assert_eq!(body["errors"][0]["extensions"]["field"], "leads", "{body}");
    srv.finish().await;
}

async fn campaigns_are_guarded(srv: TestServer) {
    srv.seed_demo().await;
    let sup = srv.login_demo("supervisor").await;
    let agent = srv.login_demo("agent1").await;
    let admin = srv.login_demo("admin").await;
    let cc = demo_cc(&srv, &sup).await;
    // The demo seed made a draft campaign with leads.
    let demo = srv
        .ok(
            Some(&agent),
            "{ campaigns { edges { node { id name state } } } }",
            json!({}),
        )
        .await;
    let demo_campaign = demo["campaigns"]["edges"][0]["node"].clone();
    assert_eq!(demo_campaign["state"], "DRAFT");
    // Agents read campaigns but neither create them nor see their leads.
    let input = json!({"contactCenterId": cc, "name": "X", "callerId": "+14155550100"});
    assert_eq!(
        srv.err_code(Some(&agent), CREATE, json!({"i": input}))
            .await,
        "FORBIDDEN"
    );
    assert_eq!(
        srv.err_code(
            Some(&agent),
            "query($c:ID!){leads(campaignId:$c){edges{node{id}}}}",
            json!({"c": demo_campaign["id"]})
        )
        .await,
        "FORBIDDEN"
    );
    let leads = srv
        .ok(
            Some(&sup),
            "query($c:ID!){leads(campaignId:$c){edges{node{firstName customProperties{key}}}}}",
            json!({"c": demo_campaign["id"]}),
        )
        .await;
    assert_eq!(
        leads["leads"]["edges"].as_array().map(Vec::len),
        Some(50),
        "a full first page of the demo's 120 leads"
    );
    assert_eq!(
        leads["leads"]["edges"][0]["node"]["customProperties"][0]["key"],
        "Plan"
    );
    // A contact center without the dialer takes no campaigns.
    let plain = srv
        .ok(
            Some(&admin),
            "mutation{createContactCenter(input:{name:\"Inbound\"}){contactCenter{id}}}",
            json!({}),
        )
        .await["createContactCenter"]["contactCenter"]["id"]
        .clone();
    let body = srv
        .gql(
            Some(&admin),
            CREATE,
            json!({"i": {"contactCenterId": plain, "name": "X", "callerId": "+14155550100"}}),
        )
        .await;
    assert_eq!(
        body["errors"][0]["extensions"]["field"], "contactCenterId",
        "{body}"
    );
    // Another organization sees none of it.
    srv.ok(
        Some(&admin),
        "mutation{createApiToken(input:{name:\"t\",role:ADMIN}){token}}",
        json!({}),
    )
    .await;
    let other =
        pinline::bootstrap::create_org(&srv.app.db, "Other", "boss@other.test", "other-password")
            .await
            .expect("org");
    drop(other);
    let boss = srv.login("boss@other.test", "other-password").await;
    for (q, v) in [
        (
            "query($id:ID!){campaign(id:$id){name}}",
            json!({"id": demo_campaign["id"]}),
        ),
        (
            "query($id:ID!){leads(campaignId:$id){edges{node{id}}}}",
            json!({"id": demo_campaign["id"]}),
        ),
        (
            "mutation($id:ID!){startCampaign(input:{campaignId:$id}){campaign{id}}}",
            json!({"id": demo_campaign["id"]}),
        ),
        (
            ADD,
            json!({"i": {"campaignId": demo_campaign["id"], "leads": [{"phone": "+12125550199"}]}}),
        ),
    ] {
        assert_eq!(srv.err_code(Some(&boss), q, v).await, "NOT_FOUND", "{q}");
    }
    srv.finish().await;
}

const CHECK: &str = "query($i:CreateCampaignInput!){checkCampaign(input:$i){field message}}";

/// The campaign editor's live validation: every broken rule at once, by
/// field, in the form's order; nothing for settings `createCampaign` takes.
async fn check_campaign_lists_every_problem(srv: TestServer) {
    srv.seed_demo().await;
    let sup = srv.login_demo("supervisor").await;
    let cc = demo_cc(&srv, &sup).await;
    let bad = json!({"contactCenterId": cc, "name": "  ", "callerId": "12",
        "ringTimeoutSeconds": 10, "maxAbandonRate": 0.05});
    let problems = srv.ok(Some(&sup), CHECK, json!({"i": bad})).await["checkCampaign"].clone();
    let fields: Vec<&str> = problems
        .as_array()
        .expect("list")
        .iter()
        .map(|p| p["field"].as_str().expect("field"))
        .collect();
    assert_eq!(
        fields,
        ["name", "callerId", "ringTimeoutSeconds", "maxAbandonRate"],
        "{problems}"
    );
    assert!(
        problems
            .as_array()
            .expect("list")
            .iter()
            .all(|p| !p["message"].as_str().unwrap_or("").is_empty()),
        "{problems}"
    );
    // A missing caller ID is named once, as required.
    let missing = srv
        .ok(
            Some(&sup),
            CHECK,
            json!({"i": {"contactCenterId": cc, "name": "M"}}),
        )
        .await["checkCampaign"]
        .clone();
    assert_eq!(
        missing,
        json!([{"field": "callerId", "message": "is required"}])
    );
    // Valid settings: no problems, and nothing was saved.
    let good = json!({"contactCenterId": cc, "name": "Checked", "callerId": "+14155550100"});
    assert_eq!(
        srv.ok(Some(&sup), CHECK, json!({"i": good.clone()})).await["checkCampaign"],
        json!([])
    );
    assert_eq!(create(&srv, &sup, good).await["name"], "Checked");
    // Agents may not ask.
    let agent = srv.login_demo("agent1").await;
    let body = srv
        .gql(
            Some(&agent),
            CHECK,
            json!({"i": {"contactCenterId": cc, "name": "A", "callerId": "+14155550100"}}),
        )
        .await;
    assert_eq!(error_code(&body).as_deref(), Some("FORBIDDEN"), "{body}");
    srv.finish().await;
}

/// `wrapUpLimitSeconds: null` on update clears the limit; leaving it out
/// keeps it.
async fn wrap_up_limit_can_be_cleared(srv: TestServer) {
    srv.seed_demo().await;
    let sup = srv.login_demo("supervisor").await;
    let cc = demo_cc(&srv, &sup).await;
    let id = create(
        &srv,
        &sup,
        json!({"contactCenterId": cc, "name": "W", "callerId": "+14155550100"}),
    )
    .await["id"]
        .clone();
    let update = |patch: &str| {
        format!(
            "mutation($c:ID!){{updateCampaign(input:{{id:$c{patch}}}){{campaign{{name wrapUpLimitSeconds}}}}}}"
        )
    };
    let set = srv
        .ok(
            Some(&sup),
            &update(",wrapUpLimitSeconds:30"),
            json!({"c": id}),
        )
        .await;
    assert_eq!(set["updateCampaign"]["campaign"]["wrapUpLimitSeconds"], 30);
    let kept = srv
        .ok(Some(&sup), &update(",name:\"W2\""), json!({"c": id}))
        .await;
    assert_eq!(kept["updateCampaign"]["campaign"]["wrapUpLimitSeconds"], 30);
    let cleared = srv
        .ok(
            Some(&sup),
            &update(",wrapUpLimitSeconds:null"),
            json!({"c": id}),
        )
        .await;
    assert_eq!(
        cleared["updateCampaign"]["campaign"],
        json!({"name": "W2", "wrapUpLimitSeconds": null})
    );
    srv.finish().await;
}
