//! Signing in and out, token checks (expiry, forgery, `alg: none`),
//! deactivation, API tokens, and the log-in rate limit.

use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use pinline::auth::token::{Claims, ISSUER, TokenKeys, TokenKind};
use pinline_tests::{Backend, DEMO_PASSWORD, JWT_SECRET, TestServer, error_code, on_both_backends};
use serde_json::{Value, json};

const ME: &str =
    "{ me { id email name role organization { name } contactCenters { name dialerEnabled } } }";

on_both_backends!(
    login_then_me,
    wrong_password_and_unknown_account,
    logout_ends_the_session,
    expired_forged_and_unsigned_tokens,
    session_expiry,
    deactivated_user,
    api_token_lifecycle,
    login_rate_limit_per_account,
);

async fn login_then_me(srv: TestServer) {
    srv.seed_demo().await;
    let body = srv
        .try_login(" Agent1@DEMO.pinline.test ", DEMO_PASSWORD)
        .await;
    let login = &body["data"]["login"];
    assert_eq!(login["user"]["role"], "AGENT");
    let token = login["token"].as_str().expect("token");
    let expires: chrono::DateTime<chrono::Utc> = login["expiresAt"]
        .as_str()
        .expect("expiresAt")
        .parse()
        .expect("RFC 3339");
    assert!(expires > chrono::Utc::now() + chrono::Duration::hours(11));

    let me = srv.ok(Some(token), ME, json!({})).await;
    assert_eq!(me["me"]["email"], "agent1@demo.pinline.test");
    assert_eq!(me["me"]["organization"]["name"], "Pinline Demo");
    assert_eq!(
        me["me"]["contactCenters"],
        json!([{"name": "Demo Outbound", "dialerEnabled": true}])
    );
    // Without a token: UNAUTHENTICATED, not a crash or an empty answer.
    assert_eq!(srv.err_code(None, ME, json!({})).await, "UNAUTHENTICATED");
    srv.finish().await;
}

async fn wrong_password_and_unknown_account(srv: TestServer) {
    srv.seed_demo().await;
    let wrong = srv
        .try_login("agent1@demo.pinline.test", "not-the-password")
        .await;
    assert_eq!(error_code(&wrong).as_deref(), Some("UNAUTHENTICATED"));
    assert_eq!(wrong["data"], Value::Null);
    let unknown = srv
        .try_login("nobody@demo.pinline.test", DEMO_PASSWORD)
        .await;
    assert_eq!(error_code(&unknown).as_deref(), Some("UNAUTHENTICATED"));
    // Same message for both: no account enumeration.
    assert_eq!(
        wrong["errors"][0]["message"],
        unknown["errors"][0]["message"]
    );
    let malformed = srv.try_login("not an email", DEMO_PASSWORD).await;
    assert_eq!(error_code(&malformed).as_deref(), Some("UNAUTHENTICATED"));
    srv.finish().await;
}

async fn logout_ends_the_session(srv: TestServer) {
    srv.seed_demo().await;
    let a = srv.login_demo("agent1").await;
    let b = srv.login_demo("agent1").await;
    assert_eq!(
        srv.ok(Some(&a), "mutation { logout }", json!({})).await["logout"],
        true
    );
    assert_eq!(
        srv.err_code(Some(&a), ME, json!({})).await,
        "UNAUTHENTICATED"
    );
    // Another session of the same user is unaffected.
    srv.ok(Some(&b), ME, json!({})).await;
    srv.finish().await;
}

fn payload(token: &str) -> Claims {
    let part = token.split('.').nth(1).expect("payload part");
    let bytes = URL_SAFE_NO_PAD.decode(part).expect("base64");
    let v: Value = serde_json::from_slice(&bytes).expect("json");
    Claims {
        sub: v["sub"].as_str().expect("sub").into(),
        org: v["org"].as_str().expect("org").into(),
        kind: TokenKind::Session,
        sid: v["sid"].as_str().expect("sid").into(),
        iat: v["iat"].as_i64().expect("iat"),
        exp: v["exp"].as_i64(),
        iss: ISSUER.into(),
    }
}

async fn expired_forged_and_unsigned_tokens(srv: TestServer) {
    srv.seed_demo().await;
    let token = srv.login_demo("agent1").await;
    let claims = payload(&token);
    let now = chrono::Utc::now().timestamp();

    // Same key, expiry in the past.
    let expired = TokenKeys::new(JWT_SECRET.as_bytes())
        .issue(&Claims {
            exp: Some(now - 5),
            ..claims.clone()
        })
        .expect("issue");
    let body = srv.gql(Some(&expired), ME, json!({})).await;
    assert_eq!(error_code(&body).as_deref(), Some("UNAUTHENTICATED"));
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap_or("")
            .contains("expired")
    );

    // Signed with another key.
    let forged = TokenKeys::new(b"an attacker's key")
        .issue(&claims)
        .expect("issue");
    assert_eq!(
        srv.err_code(Some(&forged), ME, json!({})).await,
        "UNAUTHENTICATED"
    );

    // `alg: none`, no signature, and a tampered payload on a real signature.
    let body_part = token.split('.').nth(1).expect("payload");
    let none_header = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#);
    for bad in [
        format!("{none_header}.{body_part}."),
        format!("{none_header}.{body_part}"),
        {
            let admin_claims = Claims {
                sub: "someone-else".into(),
                ..claims.clone()
            };
            let other = TokenKeys::new(b"x").issue(&admin_claims).expect("issue");
            let mut parts: Vec<&str> = token.split('.').collect();
            let tampered = other.split('.').nth(1).expect("payload").to_owned();
            parts[1] = &tampered;
            parts.join(".")
        },
        "garbage".to_owned(),
    ] {
        assert_eq!(
            srv.err_code(Some(&bad), ME, json!({})).await,
            "UNAUTHENTICATED",
            "{bad}"
        );
    }

    // A malformed Authorization header.
    let resp = srv
        .client
        .post(format!("{}/graphql", srv.url))
        .header("authorization", format!("Basic {token}"))
        .json(&json!({"query": ME}))
        .send()
        .await
        .expect("sent");
    let body: Value = resp.json().await.expect("json");
    assert_eq!(error_code(&body).as_deref(), Some("UNAUTHENTICATED"));
    srv.finish().await;
}

async fn session_expiry(srv: TestServer) {
    // A server whose sessions last two seconds (token expiry has one-second
    // resolution, so one second could end at once).
    let backend = srv.backend;
    srv.finish().await;
    let srv = TestServer::start_with(backend, |c| c.session_ttl = Duration::from_secs(2)).await;
    srv.seed_demo().await;
    let token = srv.login_demo("agent1").await;
    srv.ok(Some(&token), ME, json!({})).await;
    tokio::time::sleep(Duration::from_millis(3100)).await;
    let body = srv.gql(Some(&token), ME, json!({})).await;
    assert_eq!(error_code(&body).as_deref(), Some("UNAUTHENTICATED"));
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap_or("")
            .contains("expired")
    );
    srv.finish().await;
}

const DEACTIVATE: &str =
    "mutation($id:ID!){updateUser(input:{id:$id,active:false}){user{id active}}}";

async fn deactivated_user(srv: TestServer) {
    srv.seed_demo().await;
    let admin = srv.login_demo("admin").await;
    let agent = srv.login_demo("agent2").await;
    let id = srv.ok(Some(&agent), "{ me { id } }", json!({})).await["me"]["id"].clone();

    let out = srv.ok(Some(&admin), DEACTIVATE, json!({"id": id})).await;
    assert_eq!(out["updateUser"]["user"]["active"], false);
    // The existing token stops working at once, and so does log-in.
    assert_eq!(
        srv.err_code(Some(&agent), ME, json!({})).await,
        "UNAUTHENTICATED"
    );
    let again = srv
        .try_login("agent2@demo.pinline.test", DEMO_PASSWORD)
        .await;
    assert_eq!(error_code(&again).as_deref(), Some("UNAUTHENTICATED"));
    assert!(
        again["errors"][0]["message"]
            .as_str()
            .unwrap_or("")
            .contains("deactivated")
    );

    // An admin cannot lock themselves out.
    let admin_id = srv.ok(Some(&admin), "{ me { id } }", json!({})).await["me"]["id"].clone();
    assert_eq!(
        srv.err_code(Some(&admin), DEACTIVATE, json!({"id": admin_id}))
            .await,
        "CONFLICT"
    );
    // Reactivated, they can sign in again.
    srv.ok(
        Some(&admin),
        "mutation($id:ID!){updateUser(input:{id:$id,active:true}){user{active}}}",
        json!({"id": id}),
    )
    .await;
    srv.login_demo("agent2").await;
    srv.finish().await;
}

async fn api_token_lifecycle(srv: TestServer) {
    srv.seed_demo().await;
    let admin = srv.login_demo("admin").await;
    let created = srv
        .ok(
            Some(&admin),
            "mutation{createApiToken(input:{name:\"CRM sync\",role:SUPERVISOR}){token apiToken{id name role revokedAt}}}",
            json!({}),
        )
        .await;
    let api = created["createApiToken"]["token"]
        .as_str()
        .expect("token")
        .to_owned();
    let id = created["createApiToken"]["apiToken"]["id"].clone();
    assert_eq!(created["createApiToken"]["apiToken"]["role"], "SUPERVISOR");

    // The token works, org-wide, with its role; it has no user.
    let org = srv
        .ok(
            Some(&api),
            "{ organization { name } contactCenters { edges { node { name } } } }",
            json!({}),
        )
        .await;
    assert_eq!(org["organization"]["name"], "Pinline Demo");
    assert_eq!(
        org["contactCenters"]["edges"][0]["node"]["name"],
        "Demo Outbound"
    );
    assert_eq!(srv.err_code(Some(&api), ME, json!({})).await, "FORBIDDEN");
    assert_eq!(
        srv.err_code(
            Some(&api),
            "{ apiTokens { edges { node { id } } } }",
            json!({})
        )
        .await,
        "FORBIDDEN",
        "a supervisor token is not an admin"
    );

    // Listed for admins, then revoked: it stops working at once.
    let list = srv
        .ok(
            Some(&admin),
            "{ apiTokens { edges { node { id name } } } }",
            json!({}),
        )
        .await;
    assert_eq!(list["apiTokens"]["edges"][0]["node"]["id"], id);
    let revoked = srv
        .ok(
            Some(&admin),
            "mutation($id:ID!){revokeApiToken(input:{id:$id})}",
            json!({"id": id}),
        )
        .await;
    assert_eq!(revoked["revokeApiToken"], true);
    let body = srv
        .gql(Some(&api), "{ organization { name } }", json!({}))
        .await;
    assert_eq!(error_code(&body).as_deref(), Some("UNAUTHENTICATED"));
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap_or("")
            .contains("revoked")
    );

    // An expiry in the past is refused; only admins create tokens.
    assert_eq!(
        srv.err_code(
            Some(&admin),
            "mutation{createApiToken(input:{name:\"x\",role:AGENT,expiresAt:\"2020-01-01T00:00:00Z\"}){token}}",
            json!({}),
        )
        .await,
        "VALIDATION"
    );
    let sup = srv.login_demo("supervisor").await;
    assert_eq!(
        srv.err_code(
            Some(&sup),
            "mutation{createApiToken(input:{name:\"x\",role:AGENT}){token}}",
            json!({})
        )
        .await,
        "FORBIDDEN"
    );
    srv.finish().await;
}

async fn login_rate_limit_per_account(srv: TestServer) {
    srv.seed_demo().await;
    for _ in 0..5 {
        let body = srv
            .try_login("agent3@demo.pinline.test", "wrong-password")
            .await;
        assert_eq!(error_code(&body).as_deref(), Some("UNAUTHENTICATED"));
    }
    // Locked now, even with the right password.
    let body = srv
        .try_login("agent3@demo.pinline.test", DEMO_PASSWORD)
        .await;
    assert_eq!(error_code(&body).as_deref(), Some("RATE_LIMITED"));
    let retry = body["errors"][0]["extensions"]["retryAfterSeconds"]
        .as_u64()
        .expect("retry after");
    assert!(retry > 0 && retry <= 15 * 60, "{retry}");
    // Other accounts are not locked.
    srv.login_demo("agent4").await;
    srv.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_rate_limit_per_ip() {
    let srv = TestServer::start_with(Backend::Sqlite, |c| {
        c.login_ip_limit.max = 4;
    })
    .await;
    srv.seed_demo().await;
    for i in 0..4 {
        // Different accounts, one IP.
        let body = srv
            .try_login(&format!("nobody{i}@demo.pinline.test"), "x-wrong-pw")
            .await;
        assert_eq!(error_code(&body).as_deref(), Some("UNAUTHENTICATED"));
    }
    let body = srv
        .try_login("agent1@demo.pinline.test", DEMO_PASSWORD)
        .await;
    assert_eq!(error_code(&body).as_deref(), Some("RATE_LIMITED"));
    let metrics = srv.metrics().await;
    assert!(
        metrics.contains("pinline_login_attempts_total{outcome=\"rate_limited\"} 1"),
        "{metrics}"
    );
    srv.finish().await;
}
