//! The API edge as an attacker and a standards-following client meet it:
//! documents that would expand without end, bodies too big or too slow,
//! connections that never finish their headers, strings too long, the
//! GraphQL-over-HTTP rules (GET, content negotiation, request errors),
//! APQ, CORS, the web app's 404s and headers, and the websocket
//! protocols' close codes — ended sessions included.

use std::time::{Duration, Instant};

use pinline_tests::ws::{InitOutcome, LEGACY_WS, TRANSPORT_WS, WsClient};
use pinline_tests::{Backend, TestServer, error_code, on_both_backends};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use pinline::graphql::limits::fragment_bomb;

async fn post_raw(
    srv: &TestServer,
    body: impl Into<reqwest::Body>,
    headers: &[(&str, &str)],
) -> (u16, String, Value) {
    let mut req = srv.client.post(format!("{}/graphql", srv.url)).body(body);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let resp = req.send().await.expect("request");
    let status = resp.status().as_u16();
    let ctype = resp
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let text = resp.text().await.expect("body");
    let body = serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON: {text:?}"));
    (status, ctype, body)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expensive_documents_are_refused_before_any_work() {
    let srv = TestServer::start(Backend::Sqlite).await;
    // 2^40 selections in ~1.4 KB, without a token: refused at once, and the
    // server goes on answering.
    let started = Instant::now();
    for _ in 0..4 {
        let body = srv.gql(None, &fragment_bomb(40), json!({})).await;
        assert_eq!(error_code(&body).as_deref(), Some("VALIDATION"), "{body}");
        assert!(
            body["errors"][0]["message"]
                .as_str()
                .unwrap_or("")
                .contains("more than 2000 fields"),
            "{body}"
        );
    }
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(srv.get("/healthz").await.0, 200);

    // A fragment that spreads itself.
    let body = srv
        .gql(
            None,
            "{ me { ...A } } fragment A on User { ...B } fragment B on User { ...A }",
            json!({}),
        )
        .await;
    assert_eq!(error_code(&body).as_deref(), Some("VALIDATION"), "{body}");

    // List sizes count: 200 campaigns × 200 leads each is not cheap.
    let body = srv
        .gql(
            None,
            "query($n: Int) { campaigns(first: $n) { edges { node { id leads(first: $n) { edges { node { id phone } } } } } } }",
            json!({"n": 200}),
        )
        .await;
    assert_eq!(error_code(&body).as_deref(), Some("VALIDATION"), "{body}");
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap_or("")
            .contains("costs more")
    );

    // Nesting the parser would recurse on is refused by the text.
    let deep = format!("{{{}{}", "a {".repeat(5_000), "}".repeat(5_001));
    let body = srv.gql(None, &deep, json!({})).await;
    assert_eq!(error_code(&body).as_deref(), Some("VALIDATION"), "{body}");
    srv.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bodies_are_bounded_in_size_and_time() {
    let srv = TestServer::start_with(Backend::Sqlite, |c| {
        c.max_body_bytes = 64 * 1024;
        c.timeouts.body_read = Duration::from_secs(1);
    })
    .await;
    // Over the limit: 413 with a JSON error.
    let big =
        json!({"query": "{ __typename }", "variables": {"x": "y".repeat(100_000)}}).to_string();
    let (status, _, body) = post_raw(&srv, big, &[("content-type", "application/json")]).await;
    assert_eq!(status, 413);
    assert_eq!(error_code(&body).as_deref(), Some("VALIDATION"));

    // A declared 10 GB body is refused before a byte of it is read.
    let addr = srv.url.trim_start_matches("http://").to_owned();
    let mut sock = tokio::net::TcpStream::connect(&addr)
        .await
        .expect("connect");
    sock.write_all(
        b"POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 10000000000\r\n\r\n",
    )
    .await
    .expect("write");
    let mut buf = vec![0u8; 4096];
    let n = tokio::time::timeout(Duration::from_secs(5), sock.read(&mut buf))
        .await
        .expect("answered at once")
        .expect("read");
    let head = String::from_utf8_lossy(&buf[..n]);
    assert!(head.starts_with("HTTP/1.1 413"), "{head}");

    // A body that stops arriving: 408 after the body timeout.
    let mut sock = tokio::net::TcpStream::connect(&addr)
        .await
        .expect("connect");
    sock.write_all(
        b"POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"query\":",
    )
    .await
    .expect("write");
    let n = tokio::time::timeout(Duration::from_secs(5), sock.read(&mut buf))
        .await
        .expect("answered after the body timeout")
        .expect("read");
    let head = String::from_utf8_lossy(&buf[..n]);
    assert!(head.starts_with("HTTP/1.1 408"), "{head}");
    srv.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_and_idle_connections_are_closed() {
    let srv = TestServer::start_with(Backend::Sqlite, |c| {
        c.timeouts.header_read = Duration::from_secs(1);
        c.timeouts.idle = Duration::from_secs(2);
    })
    .await;
    let addr = srv.url.trim_start_matches("http://").to_owned();
    // Headers that never end.
    let mut slow = tokio::net::TcpStream::connect(&addr)
        .await
        .expect("connect");
    slow.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        .await
        .expect("write");
    let started = Instant::now();
    let mut buf = vec![0u8; 1024];
    let closed = tokio::time::timeout(Duration::from_secs(6), async {
        loop {
            match slow.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
        }
    })
    .await;
    assert!(closed.is_ok(), "slow headers were not timed out");
    assert!(started.elapsed() >= Duration::from_millis(900));

    // A kept-alive connection nobody uses after its request.
    let mut idle = tokio::net::TcpStream::connect(&addr)
        .await
        .expect("connect");
    idle.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .expect("write");
    let n = idle.read(&mut buf).await.expect("read");
    assert!(String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 200"));
    let closed = tokio::time::timeout(Duration::from_secs(8), async {
        loop {
            match idle.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
        }
    })
    .await;
    assert!(closed.is_ok(), "an idle keep-alive connection stayed open");

    // A websocket that never sends connection_init: 4408.
    srv.finish().await;
    let srv = TestServer::start_with(Backend::Sqlite, |c| {
        c.timeouts.ws_init = Duration::from_secs(1);
    })
    .await;
    let mut ws = WsClient::connect(&srv.ws_url(), TRANSPORT_WS).await;
    let got = ws.next(Duration::from_secs(5)).await;
    assert!(
        matches!(&got, Err(e) if e.starts_with("closed 4408")),
        "{got:?}"
    );
    srv.finish().await;
}

async fn long_strings_answer_validation_with_their_field(srv: TestServer) {
    srv.seed_demo().await;
    let supervisor = srv.login_demo("supervisor").await;
    let agent = srv.login_demo("agent1").await;
    let cc = srv
        .ok(Some(&agent), "{ me { contactCenters { id } } }", json!({}))
        .await["me"]["contactCenters"][0]["id"]
        .as_str()
        .expect("cc")
        .to_owned();
    // A megabyte reason is refused, not cut to 200 characters.
    let body = srv
        .gql(
            Some(&agent),
            "mutation($i: SetAgentStatusInput!) { setAgentStatus(input: $i) { presence { status reason } } }",
            json!({"i": {"contactCenterId": cc, "status": "BREAK", "reason": "r".repeat(1_000_000)}}),
        )
        .await;
    assert_eq!(
        error_code(&body).as_deref(),
        Some("VALIDATION"),
        "{body:.300}"
    );
    assert_eq!(body["errors"][0]["extensions"]["field"], "reason");
    // Searches of 50,000 characters: VALIDATION, not INTERNAL.
    let body = srv
        .gql(
            Some(&supervisor),
            "query($s: String) { listEntries(list: DO_NOT_CALL, search: $s) { edges { node { phone } } } }",
            json!({"s": "5".repeat(50_000)}),
        )
        .await;
    assert_eq!(
        error_code(&body).as_deref(),
        Some("VALIDATION"),
        "{body:.300}"
    );
    assert_eq!(body["errors"][0]["extensions"]["field"], "search");
    // At the limit it is accepted.
    let data = srv
        .ok(
            Some(&agent),
            "mutation($i: SetAgentStatusInput!) { setAgentStatus(input: $i) { presence { reason } } }",
            json!({"i": {"contactCenterId": cc, "status": "BREAK", "reason": "é".repeat(200)}}),
        )
        .await;
    assert_eq!(
        data["setAgentStatus"]["presence"]["reason"]
            .as_str()
            .map(|r| r.chars().count()),
        Some(200)
    );
    srv.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn graphql_over_http_as_the_specification_says() {
    let srv = TestServer::start(Backend::Sqlite).await;
    let url = format!("{}/graphql", srv.url);
    // GET executes queries, for JSON clients (urql, Apollo's GET mode).
    let resp = srv
        .client
        .get(&url)
        .query(&[("query", "{ __typename }")])
        .header(
            "accept",
            "application/graphql-response+json, application/json;q=0.9",
        )
        .send()
        .await
        .expect("get");
    assert_eq!(resp.status(), 200);
    assert!(
        resp.headers()["content-type"]
            .to_str()
            .expect("ctype")
            .starts_with("application/graphql-response+json")
    );
    let body: Value = resp.json().await.expect("json");
    assert_eq!(body["data"]["__typename"], "Query");
    // …never mutations.
    let resp = srv
        .client
        .get(&url)
        .query(&[("query", "mutation { logout }")])
        .header("accept", "application/json")
        .send()
        .await
        .expect("get");
    assert_eq!(resp.status(), 405);
    assert_eq!(resp.headers()["allow"], "POST");
    // Browsers asking for a page get GraphiQL, with its scripts pinned.
    let resp = srv
        .client
        .get(&url)
        .header("accept", "text/html,application/xhtml+xml,*/*;q=0.8")
        .send()
        .await
        .expect("get");
    assert_eq!(resp.status(), 200);
    let csp = resp.headers()["content-security-policy"]
        .to_str()
        .expect("csp")
        .to_owned();
    let html = resp.text().await.expect("html");
    assert!(html.contains("graphiql@3.8.3") && html.contains("integrity=\"sha384-"));
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");

    // Request errors: JSON with a code, never Rust debug text.
    for (body, ctype, status, words) in [
        ("{\"query\": ", "application/json", 400, "not valid JSON"),
        ("", "application/json", 400, "empty"),
        (
            "[{\"query\":\"{ __typename }\"}]",
            "application/json",
            400,
            "batched",
        ),
        (
            "{\"query\": 7}",
            "application/json",
            400,
            "`query` must be a string",
        ),
        ("{\"variables\": {}}", "application/json", 400, "missing"),
        (
            "{\"query\":\"{ __typename }\"}",
            "text/plain",
            415,
            "application/json",
        ),
    ] {
        let (got, _, json) = post_raw(&srv, body, &[("content-type", ctype)]).await;
        assert_eq!(got, status, "{body:?}: {json}");
        assert_eq!(error_code(&json).as_deref(), Some("VALIDATION"), "{json}");
        assert!(
            json["errors"][0]["message"]
                .as_str()
                .unwrap_or("")
                .contains(words),
            "{body:?}: {json}"
        );
    }
    // Validation failures: 200 with JSON, 400 without data with
    // graphql-response+json.
    let bad = json!({"query": "{ notAField }"}).to_string();
    let (status, _, json) =
        post_raw(&srv, bad.clone(), &[("content-type", "application/json")]).await;
    assert_eq!(status, 200);
    assert_eq!(error_code(&json).as_deref(), Some("VALIDATION"));
    let (status, ctype, json) = post_raw(
        &srv,
        bad,
        &[
            ("content-type", "application/json"),
            ("accept", "application/graphql-response+json"),
        ],
    )
    .await;
    assert_eq!(status, 400);
    assert!(ctype.starts_with("application/graphql-response+json"));
    assert!(json.get("data").is_none(), "{json}");

    // Automatic persisted queries.
    use sha2::Digest;
    let q = "{ __typename }";
    let hash = format!("{:x}", sha2::Sha256::digest(q.as_bytes()));
    let ext = json!({"persistedQuery": {"version": 1, "sha256Hash": hash}});
    let only_hash = json!({"extensions": ext}).to_string();
    let (_, _, json) = post_raw(
        &srv,
        only_hash.clone(),
        &[("content-type", "application/json")],
    )
    .await;
    assert_eq!(
        json["errors"][0]["message"], "PersistedQueryNotFound",
        "{json}"
    );
    assert_eq!(
        error_code(&json).as_deref(),
        Some("PERSISTED_QUERY_NOT_FOUND")
    );
    let with_query = json!({"query": q, "extensions": ext}).to_string();
    let (_, _, json) = post_raw(&srv, with_query, &[("content-type", "application/json")]).await;
    assert_eq!(json["data"]["__typename"], "Query", "{json}");
    let (_, _, json) = post_raw(&srv, only_hash, &[("content-type", "application/json")]).await;
    assert_eq!(json["data"]["__typename"], "Query", "{json}");
    // Apollo's GET mode sends the hash in the URL.
    let resp = srv
        .client
        .get(&url)
        .query(&[("extensions", ext.to_string())])
        .header("accept", "application/json")
        .send()
        .await
        .expect("get");
    let json: Value = resp.json().await.expect("json");
    assert_eq!(json["data"]["__typename"], "Query", "{json}");
    srv.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cors_only_for_the_origins_listed() {
    let preflight = |srv: &TestServer, origin: &'static str| {
        srv.client
            .request(reqwest::Method::OPTIONS, format!("{}/graphql", srv.url))
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .header(
                "access-control-request-headers",
                "authorization, content-type",
            )
            .send()
    };
    let srv = TestServer::start(Backend::Sqlite).await;
    let resp = preflight(&srv, "https://crm.example.com")
        .await
        .expect("options");
    assert!(resp.headers().get("access-control-allow-origin").is_none());
    srv.finish().await;

    let srv = TestServer::start_with(Backend::Sqlite, |c| {
        c.cors_origins = pinline::http::cors::parse_origins(&["https://crm.example.com".into()])
            .expect("origin");
    })
    .await;
    let resp = preflight(&srv, "https://crm.example.com")
        .await
        .expect("options");
    assert!(resp.status().is_success(), "{}", resp.status());
    assert_eq!(
        resp.headers()["access-control-allow-origin"],
        "https://crm.example.com"
    );
    let allowed = resp.headers()["access-control-allow-headers"]
        .to_str()
        .expect("headers")
        .to_ascii_lowercase();
    assert!(allowed.contains("authorization"), "{allowed}");
    let resp = preflight(&srv, "https://evil.example.com")
        .await
        .expect("options");
    assert!(resp.headers().get("access-control-allow-origin").is_none());
    srv.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_web_app_answers_404_for_what_is_not_its_and_sends_its_headers() {
    let srv = TestServer::start(Backend::Sqlite).await;
    for path in [
        "/graphql/nope",
        "/exports/nope.csv",
        "/api/v1/users",
        "/main-missing.js",
    ] {
        let (status, ctype, _) = srv.get(path).await;
        assert_eq!(status, 404, "{path}");
        assert!(ctype.starts_with("application/json"), "{path}: {ctype}");
    }
    // The route between clustered instances is not there unclustered.
    let internal = srv
        .client
        .post(format!("{}/internal/engine", srv.url))
        .body("{}")
        .send()
        .await
        .expect("sent");
    assert_eq!(internal.status(), 404);
    let resp = srv
        .client
        .get(format!("{}/campaigns/123", srv.url))
        .send()
        .await
        .expect("page");
    assert_eq!(resp.status(), 200);
    let h = resp.headers();
    assert_eq!(h["x-content-type-options"], "nosniff");
    assert_eq!(h["referrer-policy"], "no-referrer");
    assert_eq!(h["cache-control"], "no-cache");
    let csp = h["content-security-policy"].to_str().expect("csp");
    assert!(
        csp.contains("frame-ancestors 'none'") && csp.contains("'wasm-unsafe-eval'"),
        "{csp}"
    );

    // Hashed assets: cached for good, and their precompressed copy goes to
    // browsers that take it (the web build writes `.br` and `.gz`).
    let dist = srv.data_dir.parent().expect("dir").join("dist");
    let name = "pinline-web-0123456789abcdef_bg.wasm";
    std::fs::write(dist.join(name), b"raw wasm bytes").expect("asset");
    std::fs::write(dist.join(format!("{name}.gz")), b"gzipped bytes").expect("gz");
    std::fs::write(dist.join(format!("{name}.br")), b"brotli bytes").expect("br");
    for (accept, body, encoding) in [
        ("br, gzip", "brotli bytes", Some("br")),
        ("gzip", "gzipped bytes", Some("gzip")),
        ("identity", "raw wasm bytes", None),
    ] {
        let resp = srv
            .client
            .get(format!("{}/{name}", srv.url))
            .header("accept-encoding", accept)
            .send()
            .await
            .expect("asset");
        assert_eq!(resp.status(), 200);
        assert_eq!(
            resp.headers()["cache-control"],
            "public, max-age=31536000, immutable"
        );
        assert_eq!(
            resp.headers()
                .get("content-encoding")
                .and_then(|v| v.to_str().ok()),
            encoding,
            "{accept}"
        );
        assert_eq!(resp.text().await.expect("body"), body);
    }
    srv.finish().await;
}

/// Close codes of graphql-transport-ws for clients that break the protocol.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn websocket_close_codes() {
    let srv = TestServer::start(Backend::Sqlite).await;
    srv.seed_demo().await;
    let token = srv.login_demo("supervisor").await;
    let url = srv.ws_url();
    let closed = |got: Result<Value, String>, code: &str| {
        assert!(
            matches!(&got, Err(e) if e.starts_with(&format!("closed {code}"))),
            "expected close {code}, got {got:?}"
        );
    };
    // Subscribe before the ack: 4401.
    let mut ws = WsClient::connect(&url, TRANSPORT_WS).await;
    ws.subscribe("1", "subscription { agentEvents { __typename } }")
        .await;
    closed(ws.next(Duration::from_secs(5)).await, "4401");
    // A message that is not the protocol's: 4400.
    let mut ws = WsClient::connect(&url, TRANSPORT_WS).await;
    ws.send(json!({"type": "hello"})).await;
    closed(ws.next(Duration::from_secs(5)).await, "4400");
    // A bad token: 4403.
    let mut ws = WsClient::connect(&url, TRANSPORT_WS).await;
    match ws.init(json!({"token": "forged"})).await {
        InitOutcome::Refused(e) => assert!(e.starts_with("closed 4403"), "{e}"),
        other => panic!("{other:?}"),
    }
    // Two inits: 4429.
    let mut ws = WsClient::signed_in(&url, &token).await;
    ws.send(json!({"type": "connection_init", "payload": {"token": token}}))
        .await;
    closed(ws.next(Duration::from_secs(5)).await, "4429");
    // The same id twice: 4409.
    let admin = srv.login_demo("admin").await;
    let mut ws = WsClient::signed_in(&url, &admin).await;
    ws.subscribe("a", "subscription { directoryEvents { change } }")
        .await;
    ws.subscribe("a", "subscription { directoryEvents { change } }")
        .await;
    closed(ws.next(Duration::from_secs(5)).await, "4409");
    // A subscription that does not validate: an `error` message with codes.
    let mut ws = WsClient::signed_in(&url, &token).await;
    ws.subscribe("v", "subscription { noSuchField }").await;
    let got = ws.next(Duration::from_secs(5)).await.expect("a message");
    assert_eq!(got["type"], "error", "{got}");
    assert_eq!(got["id"], "v");
    assert_eq!(
        got["payload"][0]["extensions"]["code"], "VALIDATION",
        "{got}"
    );
    // The legacy protocol refuses a bad token with connection_error and a
    // close frame, not a dropped connection.
    let mut ws = WsClient::connect(&url, LEGACY_WS).await;
    ws.send(json!({"type": "connection_init", "payload": {"token": "forged"}}))
        .await;
    let got = ws.next(Duration::from_secs(5)).await;
    assert_eq!(
        got.as_ref().map(|v| v["type"].clone()).ok(),
        Some(json!("connection_error")),
        "{got:?}"
    );
    closed(ws.next(Duration::from_secs(5)).await, "4403");
    // Stopping the server closes sockets with 1001.
    let mut ws = WsClient::signed_in(&url, &token).await;
    srv.finish().await;
    closed(ws.next(Duration::from_secs(5)).await, "1001");
}

/// Every way a session ends closes its open sockets within a second.
async fn ended_sessions_close_their_websockets(srv: TestServer) {
    srv.seed_demo().await;
    let admin = srv.login_demo("admin").await;
    let url = srv.ws_url();
    let closes_4403 = |mut ws: WsClient| async move {
        let started = Instant::now();
        let got = ws.until_closed(Duration::from_secs(3)).await;
        assert!(
            matches!(&got, Err(e) if e.starts_with("closed 4403")),
            "{got:?}"
        );
        assert!(
            started.elapsed() < Duration::from_secs(1),
            "{:?}",
            started.elapsed()
        );
    };
    // logout
    let agent = srv.login_demo("agent1").await;
    let mut ws = WsClient::signed_in(&url, &agent).await;
    ws.subscribe("1", "subscription { agentEvents { __typename } }")
        .await;
    let other = WsClient::signed_in(&url, &srv.login_demo("agent2").await).await;
    srv.ok(Some(&agent), "mutation { logout }", json!({})).await;
    closes_4403(ws).await;
    // Another user's socket stays open.
    let mut other = other;
    other.send(json!({"type": "ping"})).await;
    assert!(
        other
            .next(Duration::from_secs(2))
            .await
            .is_err_and(|e| e == "timeout")
    );

    // deactivation, password change, role change: every session of the user
    let users = srv
        .ok(
            Some(&admin),
            "{ users(first: 50) { edges { node { id email } } } }",
            json!({}),
        )
        .await;
    let id_of = |email: &str| {
        users["users"]["edges"]
            .as_array()
            .expect("users")
            .iter()
            .find(|e| e["node"]["email"] == email)
            .map(|e| e["node"]["id"].as_str().expect("id").to_owned())
            .expect("user")
    };
    for (who, change) in [
        ("agent3", json!({"active": false})),
        ("agent4", json!({"password": "a-new-password-456"})),
        ("agent5", json!({"role": "SUPERVISOR"})),
    ] {
        let token = srv.login_demo(who).await;
        let ws = WsClient::signed_in(&url, &token).await;
        let mut input = change.clone();
        input["id"] = json!(id_of(&format!("{who}@demo.pinline.test")));
        srv.ok(
            Some(&admin),
            "mutation($i: UpdateUserInput!) { updateUser(input: $i) { user { id } } }",
            json!({"i": input}),
        )
        .await;
        closes_4403(ws).await;
    }

    // A revoked API token.
    let created = srv
        .ok(
            Some(&admin),
            "mutation { createApiToken(input: {name: \"crm\", role: SUPERVISOR}) { token apiToken { id } } }",
            json!({}),
        )
        .await;
    let api_token = created["createApiToken"]["token"]
        .as_str()
        .expect("token")
        .to_owned();
    let id = created["createApiToken"]["apiToken"]["id"].clone();
    let ws = WsClient::signed_in(&url, &api_token).await;
    srv.ok(
        Some(&admin),
        "mutation($id: ID!) { revokeApiToken(input: {id: $id}) }",
        json!({"id": id}),
    )
    .await;
    closes_4403(ws).await;
    srv.finish().await;
}

/// Cursors are the server's: a made-up one, or one from another list or
/// organization, is a `VALIDATION` error on `after`.
async fn forged_and_foreign_cursors_are_refused(srv: TestServer) {
    srv.seed_demo().await;
    let admin = srv.login_demo("admin").await;
    let users = "query($a: String) { users(first: 2, after: $a) { edges { cursor node { id } } pageInfo { hasNextPage endCursor } } }";
    let page = srv.ok(Some(&admin), users, json!({"a": null})).await;
    let cursor = page["users"]["pageInfo"]["endCursor"]
        .as_str()
        .expect("cursor")
        .to_owned();
    // The real one pages on.
    let next = srv.ok(Some(&admin), users, json!({"a": cursor})).await;
    assert_ne!(
        next["users"]["edges"][0]["node"]["id"],
        page["users"]["edges"][0]["node"]["id"]
    );
    // A forged one: the base64 of an id, or anything else.
    use base64::Engine;
    let forged = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode("00000000-0000-7000-8000-000000000000");
    // The real cursor with its last character changed (to one it is not).
    let last = if cursor.ends_with('x') { 'y' } else { 'x' };
    let tampered = format!("{}{last}", &cursor[..cursor.len() - 1]);
    for bad in [forged.as_str(), "not-a-cursor", "", &tampered] {
        let body = srv.gql(Some(&admin), users, json!({"a": bad})).await;
        assert_eq!(
            error_code(&body).as_deref(),
            Some("VALIDATION"),
            "{bad}: {body}"
        );
        assert_eq!(body["errors"][0]["extensions"]["field"], "after", "{body}");
    }
    // A cursor of another list.
    let body = srv
        .gql(
            Some(&admin),
            "query($a: String) { contactCenters(first: 2, after: $a) { edges { node { id } } } }",
            json!({"a": cursor}),
        )
        .await;
    assert_eq!(error_code(&body).as_deref(), Some("VALIDATION"), "{body}");
    // The same list of another organization.
    let other = pinline::bootstrap::create_org(
        &srv.app.db,
        "Other Org",
        "admin@other.test",
        "other-password-123",
    )
    .await
    .expect("org");
    let _ = other;
    let other_admin = srv.login("admin@other.test", "other-password-123").await;
    let body = srv
        .gql(Some(&other_admin), users, json!({"a": cursor}))
        .await;
    assert_eq!(error_code(&body).as_deref(), Some("VALIDATION"), "{body}");
    srv.finish().await;
}

/// Exports defuse formulas in every column: here a user's email.
async fn exports_defuse_formulas_in_every_column(srv: TestServer) {
    srv.seed_demo().await;
    let admin = srv.login_demo("admin").await;
    srv.ok(
        Some(&admin),
        "mutation { createUser(input: {email: \"=1+1@x.test\", name: \"Formula\", role: SUPERVISOR, password: \"formula-password-1\"}) { user { id } } }",
        json!({}),
    )
    .await;
    let sup = srv.login("=1+1@x.test", "formula-password-1").await;
    srv.ok(
        Some(&sup),
        "mutation { addListEntries(input: {list: DO_NOT_CALL, phones: [\"+12025550188\"], reason: \"asked\"}) { added } }",
        json!({}),
    )
    .await;
    let text = srv
        .client
        .get(format!("{}/exports/list.csv?list=DO_NOT_CALL", srv.url))
        .bearer_auth(&sup)
        .send()
        .await
        .expect("export")
        .text()
        .await
        .expect("csv");
    let row = text
        .lines()
        .find(|l| l.contains("2025550188"))
        .expect("the row");
    assert!(
        row.starts_with("+12025550188,"),
        "phone numbers keep their +: {row}"
    );
    assert!(row.contains(",'=1+1@x.test"), "{row}");
    srv.finish().await;
}

/// Creating a user tells an admin nothing about other organizations: an
/// email is unique within an organization; log-in finds the account by
/// email and password.
async fn emails_of_other_organizations_are_not_confirmed(srv: TestServer) {
    srv.seed_demo().await;
    let admin = srv.login_demo("admin").await;
    pinline::bootstrap::create_org(
        &srv.app.db,
        "Other Org",
        "admin@other.test",
        "other-password-123",
    )
    .await
    .expect("org");
    let other = srv.login("admin@other.test", "other-password-123").await;
    let create = |password: &str| json!({"i": {"email": "Shared@Example.test", "name": "Shared", "role": "AGENT", "password": password}});
    let q = "mutation($i: CreateUserInput!) { createUser(input: $i) { user { id } } }";
    let ours = srv.ok(Some(&admin), q, create("ours-password-123")).await;
    // The other organization can have the same email: no CONFLICT that
    // would confirm ours.
    let theirs = srv.ok(Some(&other), q, create("their-password-123")).await;
    assert_ne!(
        ours["createUser"]["user"]["id"],
        theirs["createUser"]["user"]["id"]
    );
    // Within one organization it stays unique.
    assert_eq!(
        srv.err_code(Some(&admin), q, create("again-password-123"))
            .await,
        "CONFLICT"
    );
    // Each password opens its own account.
    let me = "{ me { id organization { name } } }";
    let t = srv.login("shared@example.test", "ours-password-123").await;
    assert_eq!(
        srv.ok(Some(&t), me, json!({})).await["me"]["id"],
        ours["createUser"]["user"]["id"]
    );
    let t = srv.login("shared@example.test", "their-password-123").await;
    assert_eq!(
        srv.ok(Some(&t), me, json!({})).await["me"]["id"],
        theirs["createUser"]["user"]["id"]
    );
    let wrong = srv
        .try_login("shared@example.test", "nobody-password-1")
        .await;
    assert_eq!(error_code(&wrong).as_deref(), Some("UNAUTHENTICATED"));
    srv.finish().await;
}

/// Without a token, each address has a budget (429 with `Retry-After`
/// beyond it, websocket upgrades included, given back by a valid
/// `connection_init`) and a small body limit; signed-in callers and other
/// addresses are not held to it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn anonymous_clients_have_a_budget_per_address() {
    let srv = TestServer::start_with(Backend::Sqlite, |c| {
        c.anonymous = pinline::http::budget::AnonymousLimits {
            per_second: 0.01,
            burst: 6.0,
            ..Default::default()
        };
    })
    .await;
    srv.seed_demo().await;
    // One of the six: the login.
    let admin = srv.login_demo("admin").await;
    // Sockets spend one each and get it back once signed in.
    let mut sockets = Vec::new();
    for _ in 0..5 {
        sockets.push(WsClient::signed_in(&srv.ws_url(), &admin).await);
    }
    let typename = json!({"query": "{ __typename }"}).to_string();
    for i in 0..5 {
        let (status, _, body) = post_raw(
            &srv,
            typename.clone(),
            &[("content-type", "application/json")],
        )
        .await;
        assert_eq!(status, 200, "request {i}: {body}");
    }
    let resp = srv
        .client
        .post(format!("{}/graphql", srv.url))
        .header("content-type", "application/json")
        .body(typename.clone())
        .send()
        .await
        .expect("request");
    assert_eq!(resp.status().as_u16(), 429);
    let retry: u64 = resp
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
        .expect("Retry-After");
    assert!(retry >= 1, "{retry}");
    let body: Value = resp.json().await.expect("JSON");
    assert_eq!(error_code(&body).as_deref(), Some("RATE_LIMITED"), "{body}");
    assert_eq!(body["errors"][0]["extensions"]["retryAfterSeconds"], retry);
    // A websocket upgrade from the address is refused the same way.
    let mut tcp = tokio::net::TcpStream::connect(srv.url.trim_start_matches("http://"))
        .await
        .expect("connect");
    tcp.write_all(
        b"GET /graphql/ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
          Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
          Sec-WebSocket-Protocol: graphql-transport-ws\r\n\r\n",
    )
    .await
    .expect("write");
    let mut head = vec![0u8; 12];
    tcp.read_exact(&mut head).await.expect("status line");
    assert_eq!(&head, b"HTTP/1.1 429");
    // Signed-in callers are not counted.
    for _ in 0..10 {
        srv.ok(Some(&admin), "{ me { id } }", json!({})).await;
    }
    // Another address has its own budget.
    let other = |last: u8| {
        reqwest::Client::builder()
            .local_address(std::net::IpAddr::from([127, 0, 0, last]))
            .build()
            .expect("client")
    };
    let resp = other(2)
        .post(format!("{}/graphql", srv.url))
        .header("content-type", "application/json")
        .body(typename.clone())
        .send()
        .await
        .expect("request");
    assert_eq!(resp.status().as_u16(), 200);
    // Bodies: 64 KB without a token, the usual 4 MB with one.
    let padded = format!(
        "{{\"query\": \"{{ __typename }}\"{}}}",
        " ".repeat(100 * 1024)
    );
    let resp = other(3)
        .post(format!("{}/graphql", srv.url))
        .header("content-type", "application/json")
        .body(padded.clone())
        .send()
        .await
        .expect("request");
    assert_eq!(resp.status().as_u16(), 413);
    let resp = other(3)
        .post(format!("{}/graphql", srv.url))
        .header("content-type", "application/json")
        .header("authorization", format!("Bearer {admin}"))
        .body(padded)
        .send()
        .await
        .expect("request");
    assert_eq!(resp.status().as_u16(), 200);
    drop(sockets);
    srv.finish().await;
}

on_both_backends!(
    emails_of_other_organizations_are_not_confirmed,
    exports_defuse_formulas_in_every_column,
    forged_and_foreign_cursors_are_refused,
    long_strings_answer_validation_with_their_field,
    ended_sessions_close_their_websockets,
);
