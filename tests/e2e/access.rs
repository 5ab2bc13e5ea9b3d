//! Roles, tenant isolation (other organizations' ids are NOT_FOUND),
//! validation errors and paging of the identity API.

use pinline_tests::{DEMO_PASSWORD, TestServer, on_both_backends, pinline_bin};
use serde_json::{Value, json};

on_both_backends!(
    role_checks,
    admin_builds_a_team,
    other_organizations_are_not_found,
    bad_input_is_a_typed_error,
    users_page_with_cursors,
);

const CREATE_USER: &str =
    "mutation($i:CreateUserInput!){createUser(input:$i){user{id email role contactCenters{name}}}}";
const CREATE_CC: &str = "mutation($i:CreateContactCenterInput!){createContactCenter(input:$i){contactCenter{id name dialerEnabled timeZone defaultRegion}}}";

fn new_user(email: &str, role: &str) -> Value {
    json!({"i": {"email": email, "name": "New Person", "role": role, "password": "a-good-password"}})
}

async fn role_checks(srv: TestServer) {
    srv.seed_demo().await;
    let agent = srv.login_demo("agent1").await;
    let sup = srv.login_demo("supervisor").await;
    let v = json!({});
    assert_eq!(
        srv.err_code(
            Some(&agent),
            "{ users { edges { node { id } } } }",
            v.clone()
        )
        .await,
        "FORBIDDEN"
    );
    assert_eq!(
        srv.err_code(Some(&agent), CREATE_USER, new_user("x@y.test", "AGENT"))
            .await,
        "FORBIDDEN"
    );
    assert_eq!(
        srv.err_code(Some(&sup), CREATE_USER, new_user("x@y.test", "AGENT"))
            .await,
        "FORBIDDEN"
    );
    assert_eq!(
        srv.err_code(Some(&sup), CREATE_CC, json!({"i": {"name": "Sales"}}))
            .await,
        "FORBIDDEN"
    );
    assert_eq!(
        srv.err_code(
            Some(&sup),
            "{ apiTokens { edges { node { id } } } }",
            v.clone()
        )
        .await,
        "FORBIDDEN"
    );
    assert_eq!(
        srv.err_code(
            Some(&sup),
            "{ auditLog { edges { node { id } } } }",
            v.clone()
        )
        .await,
        "FORBIDDEN"
    );
    assert_eq!(
        srv.err_code(
            Some(&sup),
            "subscription { directoryEvents { change } }",
            v.clone()
        )
        .await,
        "VALIDATION",
        "subscriptions are refused over HTTP POST"
    );
    // Supervisors see their team; the error names the role needed.
    let team = srv
        .ok(
            Some(&sup),
            "{ users(first: 50) { edges { node { email role } } } }",
            v.clone(),
        )
        .await;
    assert_eq!(team["users"]["edges"].as_array().map(Vec::len), Some(6));
    let body = srv
        .gql(Some(&agent), CREATE_USER, new_user("x@y.test", "AGENT"))
        .await;
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap_or("")
            .contains("ADMIN")
    );
    srv.finish().await;
}

async fn admin_builds_a_team(srv: TestServer) {
    srv.seed_demo().await;
    let admin = srv.login_demo("admin").await;
    let sup = srv.login_demo("supervisor").await;
    let cc = srv
        .ok(
            Some(&admin),
            CREATE_CC,
            json!({"i": {"name": "Renewals", "dialerEnabled": true, "timeZone": "America/Chicago", "defaultRegion": "us"}}),
        )
        .await["createContactCenter"]["contactCenter"]
        .clone();
    assert_eq!(cc["timeZone"], "America/Chicago");
    assert_eq!(cc["defaultRegion"], "US");
    let mut input = new_user("Renee@Example.test", "AGENT");
    input["i"]["contactCenterIds"] = json!([cc["id"]]);
    let user = srv.ok(Some(&admin), CREATE_USER, input).await["createUser"]["user"].clone();
    assert_eq!(user["email"], "renee@example.test");
    assert_eq!(user["contactCenters"], json!([{"name": "Renewals"}]));

    // The new agent signs in and sees only their contact center.
    let renee = srv.login("renee@example.test", "a-good-password").await;
    let me = srv
        .ok(
            Some(&renee),
            "{ me { contactCenters { id name } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        me["me"]["contactCenters"],
        json!([{"id": cc["id"], "name": "Renewals"}])
    );
    let demo_cc = srv
        .ok(Some(&sup), "{ me { contactCenters { id } } }", json!({}))
        .await["me"]["contactCenters"][0]["id"]
        .clone();
    assert_eq!(
        srv.err_code(
            Some(&renee),
            "query($id:ID!){contactCenter(id:$id){name}}",
            json!({"id": demo_cc})
        )
        .await,
        "NOT_FOUND",
        "not a member: not found"
    );
    // The demo supervisor does not see Renee (no shared contact center)…
    assert_eq!(
        srv.err_code(
            Some(&sup),
            "query($id:ID!){user(id:$id){name}}",
            json!({"id": user["id"]})
        )
        .await,
        "NOT_FOUND"
    );
    // …until she joins the demo contact center.
    let add = "mutation($c:ID!,$u:ID!){addContactCenterMember(input:{contactCenterId:$c,userId:$u}){changed contactCenter{members{edges{node{email}}}}}}";
    let added = srv
        .ok(Some(&admin), add, json!({"c": demo_cc, "u": user["id"]}))
        .await;
    assert_eq!(added["addContactCenterMember"]["changed"], true);
    let again = srv
        .ok(Some(&admin), add, json!({"c": demo_cc, "u": user["id"]}))
        .await;
    assert_eq!(
        again["addContactCenterMember"]["changed"], false,
        "idempotent"
    );
    srv.ok(
        Some(&sup),
        "query($id:ID!){user(id:$id){name}}",
        json!({"id": user["id"]}),
    )
    .await;
    let removed = srv
        .ok(
            Some(&admin),
            "mutation($c:ID!,$u:ID!){removeContactCenterMember(input:{contactCenterId:$c,userId:$u}){changed}}",
            json!({"c": demo_cc, "u": user["id"]}),
        )
        .await;
    assert_eq!(removed["removeContactCenterMember"]["changed"], true);
    // Every change is in the audit trail.
    let log = srv
        .ok(
            Some(&admin),
            "{ auditLog(first: 5) { edges { node { action } } } }",
            json!({}),
        )
        .await;
    let actions: Vec<&str> = log["auditLog"]["edges"]
        .as_array()
        .expect("edges")
        .iter()
        .filter_map(|e| e["node"]["action"].as_str())
        .collect();
    assert_eq!(
        &actions[..4],
        [
            "membership.remove",
            "membership.add",
            "user.create",
            "contact_center.create"
        ]
    );
    srv.finish().await;
}

async fn other_organizations_are_not_found(srv: TestServer) {
    srv.seed_demo().await;
    let admin = srv.login_demo("admin").await;
    let demo = srv
        .ok(
            Some(&admin),
            "{ contactCenters { edges { node { id } } } users { edges { node { id } } } }",
            json!({}),
        )
        .await;
    let demo_cc = demo["contactCenters"]["edges"][0]["node"]["id"].clone();
    assert!(demo_cc.is_string());
    let demo_user = demo["users"]["edges"][1]["node"]["id"].clone();
    let token = srv
        .ok(
            Some(&admin),
            "mutation{createApiToken(input:{name:\"t\",role:ADMIN}){apiToken{id}}}",
            json!({}),
        )
        .await["createApiToken"]["apiToken"]["id"]
        .clone();

    // A second organization, made with the command line.
    let out = tokio::process::Command::new(pinline_bin())
        .args([
            "create-org",
            "--name",
            "Other Co",
            "--admin-email",
            "boss@other.test",
        ])
        .args([
            "--password",
            "other-password",
            "--database-url",
            &srv.database_url,
        ])
        .args(["--data-dir", &srv.data_dir.display().to_string()])
        .output()
        .await
        .expect("pinline create-org runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("Other Co"));
    let boss = srv.login("boss@other.test", "other-password").await;

    let cases = [
        (
            "query($id:ID!){user(id:$id){name}}",
            json!({"id": demo_user}),
        ),
        (
            "query($id:ID!){contactCenter(id:$id){name}}",
            json!({"id": demo_cc}),
        ),
        (
            "mutation($id:ID!){updateUser(input:{id:$id,name:\"pwned\"}){user{id}}}",
            json!({"id": demo_user}),
        ),
        (
            "mutation($id:ID!){updateContactCenter(input:{id:$id,dialerEnabled:false}){contactCenter{id}}}",
            json!({"id": demo_cc}),
        ),
        (
            "mutation($id:ID!){revokeApiToken(input:{id:$id})}",
            json!({"id": token}),
        ),
        (
            "mutation($id:ID!){updateUser(input:{id:$id,active:false}){user{id}}}",
            json!({"id": "no-such-id"}),
        ),
    ];
    for (query, vars) in cases {
        let body = srv.gql(Some(&boss), query, vars.clone()).await;
        assert_eq!(
            pinline_tests::error_code(&body).as_deref(),
            Some("NOT_FOUND"),
            "{query} {body}"
        );
    }
    let boss_id = srv.ok(Some(&boss), "{ me { id } }", json!({})).await["me"]["id"].clone();
    assert_eq!(
        srv.err_code(
            Some(&boss),
            "mutation($c:ID!,$u:ID!){addContactCenterMember(input:{contactCenterId:$c,userId:$u}){changed}}",
            json!({"c": demo_cc, "u": boss_id}),
        )
        .await,
        "NOT_FOUND"
    );
    // Lists hold only the caller's organization.
    let users = srv
        .ok(
            Some(&boss),
            "{ users { edges { node { email } } } contactCenters { edges { node { id } } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        users["users"]["edges"],
        json!([{"node": {"email": "boss@other.test"}}])
    );
    assert_eq!(users["contactCenters"]["edges"], json!([]));
    // Nothing of the demo changed.
    let still = srv
        .ok(
            Some(&admin),
            "query($id:ID!){user(id:$id){name active}}",
            json!({"id": demo_user}),
        )
        .await;
    assert_eq!(still["user"]["active"], true);
    assert_ne!(still["user"]["name"], "pwned");
    srv.login_demo("agent1").await;
    let _ = DEMO_PASSWORD;
    srv.finish().await;
}

async fn bad_input_is_a_typed_error(srv: TestServer) {
    srv.seed_demo().await;
    let admin = srv.login_demo("admin").await;
    let field_of = |body: &Value| {
        body["errors"][0]["extensions"]["field"]
            .as_str()
            .map(str::to_owned)
    };

    let body = srv
        .gql(Some(&admin), CREATE_USER, new_user("not-an-email", "AGENT"))
        .await;
    assert_eq!(
        pinline_tests::error_code(&body).as_deref(),
        Some("VALIDATION")
    );
    assert_eq!(field_of(&body).as_deref(), Some("email"));

    let mut short = new_user("short@x.test", "AGENT");
    short["i"]["password"] = json!("short");
    let body = srv.gql(Some(&admin), CREATE_USER, short).await;
    assert_eq!(field_of(&body).as_deref(), Some("password"));

    let body = srv
        .gql(
            Some(&admin),
            CREATE_USER,
            new_user("AGENT1@demo.pinline.test", "AGENT"),
        )
        .await;
    assert_eq!(
        pinline_tests::error_code(&body).as_deref(),
        Some("CONFLICT")
    );

    let body = srv
        .gql(
            Some(&admin),
            CREATE_CC,
            json!({"i": {"name": "X", "timeZone": "Mars/Base"}}),
        )
        .await;
    assert_eq!(field_of(&body).as_deref(), Some("timeZone"));
    let body = srv
        .gql(
            Some(&admin),
            CREATE_CC,
            json!({"i": {"name": "Demo Outbound"}}),
        )
        .await;
    assert_eq!(
        pinline_tests::error_code(&body).as_deref(),
        Some("CONFLICT")
    );

    let body = srv
        .gql(
            Some(&admin),
            "{ users(first: 0) { edges { node { id } } } }",
            json!({}),
        )
        .await;
    assert_eq!(field_of(&body).as_deref(), Some("first"));
    let body = srv
        .gql(
            Some(&admin),
            "{ users(after: \"!!\") { edges { node { id } } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        pinline_tests::error_code(&body).as_deref(),
        Some("VALIDATION")
    );

    // Parse errors and unknown fields carry a code too.
    assert_eq!(
        srv.err_code(Some(&admin), "{ me { ", json!({})).await,
        "VALIDATION"
    );
    assert_eq!(
        srv.err_code(Some(&admin), "{ nope }", json!({})).await,
        "VALIDATION"
    );
    // Over-deep queries are refused.
    let mut inner = "{ id }".to_owned();
    for _ in 0..6 {
        inner = format!("{{ contactCenters {{ members {{ edges {{ node {inner} }} }} }} }}");
    }
    let body = srv
        .gql(Some(&admin), &format!("{{ me {inner} }}"), json!({}))
        .await;
    assert_eq!(
        pinline_tests::error_code(&body).as_deref(),
        Some("VALIDATION")
    );
    // The cost of its nested lists refuses it before its depth does.
    let message = body["errors"][0]["message"].as_str().unwrap_or("");
    assert!(
        message.contains("deep") || message.contains("costs more"),
        "{body}"
    );

    srv.finish().await;
}

async fn users_page_with_cursors(srv: TestServer) {
    srv.seed_demo().await;
    let admin = srv.login_demo("admin").await;
    let mut seen = Vec::new();
    let mut after: Option<String> = None;
    let mut pages = 0;
    loop {
        let data = srv
            .ok(
                Some(&admin),
                "query($a:String){users(first:3,after:$a){edges{cursor node{email}} pageInfo{hasNextPage endCursor}}}",
                json!({"a": after}),
            )
            .await;
        pages += 1;
        for e in data["users"]["edges"].as_array().expect("edges") {
            seen.push(e["node"]["email"].as_str().expect("email").to_owned());
        }
        if data["users"]["pageInfo"]["hasNextPage"] != true {
            break;
        }
        after = data["users"]["pageInfo"]["endCursor"]
            .as_str()
            .map(str::to_owned);
    }
    assert_eq!(pages, 3);
    assert_eq!(seen.len(), 7);
    let mut unique = seen.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), 7, "no repeats across pages");
    let agents = srv
        .ok(
            Some(&admin),
            "{ users(filter:{role:AGENT, search:\"AGENT\"}) { edges { node { email } } } }",
            json!({}),
        )
        .await;
    assert_eq!(agents["users"]["edges"].as_array().map(Vec::len), Some(5));
    srv.finish().await;
}
