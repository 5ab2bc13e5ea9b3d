//! The end-to-end test harness: start the real server in the test process
//! (axum on 127.0.0.1:0) on SQLite or on a fresh PostgreSQL database, and
//! talk to it like any client.
//!
//! PostgreSQL: the test command (`./dev test`) starts a throwaway cluster and
//! sets `PINLINE_TEST_PG_URL`. Each test process migrates one template
//! database once; each test gets `CREATE DATABASE … TEMPLATE …`.

pub mod browser;
pub mod dialer;
pub mod pg;
pub mod proxy;
pub mod receiver;
pub mod serve;
pub mod ws;

use std::path::PathBuf;
use std::time::Duration;

use pinline::app::App;
use pinline::config::Config;
use serde_json::{Value, json};
use tokio::sync::oneshot;

/// Run each named `async fn NAME(srv: TestServer)` as two tests:
/// `NAME::sqlite` and `NAME::postgres`.
#[macro_export]
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        $(
            mod $name {
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite() {
                    let srv = $crate::TestServer::start($crate::Backend::Sqlite).await;
                    super::$name(srv).await
                }
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn postgres() {
                    let srv = $crate::TestServer::start($crate::Backend::Postgres).await;
                    super::$name(srv).await
                }
            }
        )*
    };
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// The password the tests give every seeded user.
pub const DEMO_PASSWORD: &str = "demo-password-123";
/// The signing secret the test servers use, so tests can forge tokens.
pub const JWT_SECRET: &str = "test-secret-0123456789abcdef0123456789";

pub struct TestServer {
    pub backend: Backend,
    pub url: String,
    pub app: App,
    pub client: reqwest::Client,
    /// The database URL (PostgreSQL) or file (SQLite) the server uses.
    pub database_url: String,
    pub data_dir: PathBuf,
    shutdown: Option<oneshot::Sender<()>>,
    _dir: tempfile::TempDir,
}

impl TestServer {
    pub async fn start(backend: Backend) -> TestServer {
        Self::start_with(backend, |_| {}).await
    }

    /// Start with a configuration changed by `tune` (limits, TTLs…).
    pub async fn start_with(backend: Backend, tune: impl FnOnce(&mut Config)) -> TestServer {
        let dir = tempfile::tempdir().expect("temp dir");
        let dist = dir.path().join("dist");
        std::fs::create_dir_all(&dist).expect("dist dir");
        std::fs::write(
            dist.join("index.html"),
            "<!doctype html><title>Pinline</title><div id=app>pinline-test-index</div>",
        )
        .expect("index.html");
        let database_url = match backend {
            Backend::Sqlite => dir.path().join("pinline.sqlite3").display().to_string(),
            Backend::Postgres => pg::fresh_database().await,
        };
        let mut config = Config {
            listen: "127.0.0.1:0".parse().expect("addr"),
            data_dir: dir.path().join("data"),
            database_url: Some(database_url.clone()),
            jwt_secret: Some(JWT_SECRET.into()),
            web_dist: dist,
            max_db_connections: 4,
            // Tests that count trail rows run the review themselves
            // (`dialer::review::review_campaign`); one turns it on.
            review: None,
            ..Config::default()
        };
        tune(&mut config);
        let data_dir = config.data_dir.clone();
        let app = App::start(config).await.expect("app starts");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        app.advertise(&format!("http://{addr}"));
        let (tx, rx) = oneshot::channel::<()>();
        let served = app.clone();
        tokio::spawn(async move {
            let _ = pinline::http::serve(served, listener, async {
                let _ = rx.await;
            })
            .await;
        });
        TestServer {
            backend,
            url: format!("http://{addr}"),
            app,
            client: reqwest::Client::builder()
                .timeout(Duration::from_secs(30))
                .build()
                .expect("client"),
            database_url,
            data_dir,
            shutdown: Some(tx),
            _dir: dir,
        }
    }

    pub fn ws_url(&self) -> String {
        format!("{}/graphql/ws", self.url.replacen("http", "ws", 1))
    }

    /// POST a GraphQL request; returns the whole response body.
    pub async fn gql(&self, token: Option<&str>, query: &str, variables: Value) -> Value {
        let mut req = self
            .client
            .post(format!("{}/graphql", self.url))
            .json(&json!({ "query": query, "variables": variables }));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        let resp = req.send().await.expect("request sent");
        resp.json().await.expect("JSON response")
    }

    /// A request that must succeed: returns `data`, panics with the errors.
    pub async fn ok(&self, token: Option<&str>, query: &str, variables: Value) -> Value {
        let body = self.gql(token, query, variables).await;
        assert!(
            body.get("errors").is_none(),
            "unexpected errors: {body:#}\nquery: {query}"
        );
        body["data"].clone()
    }

    /// A request that must fail: returns the first error's `extensions.code`.
    pub async fn err_code(&self, token: Option<&str>, query: &str, variables: Value) -> String {
        let body = self.gql(token, query, variables).await;
        error_code(&body).unwrap_or_else(|| panic!("expected an error, got {body:#}"))
    }

    /// GET a path; returns status, content type and body.
    pub async fn get(&self, path: &str) -> (u16, String, String) {
        let resp = self
            .client
            .get(format!("{}{path}", self.url))
            .send()
            .await
            .expect("request");
        let status = resp.status().as_u16();
        let ctype = resp
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned();
        (status, ctype, resp.text().await.expect("body"))
    }

    /// The `/metrics` text.
    pub async fn metrics(&self) -> String {
        self.get("/metrics").await.2
    }

    /// Seed the demo organization with [`DEMO_PASSWORD`].
    pub async fn seed_demo(&self) {
        let seeded = pinline::bootstrap::seed_demo(&self.app.db, Some(DEMO_PASSWORD))
            .await
            .expect("demo seeded");
        assert!(matches!(seeded, pinline::bootstrap::DemoSeed::Created(_)));
    }

    pub async fn try_login(&self, email: &str, password: &str) -> Value {
        self.gql(
            None,
            "mutation($e:String!,$p:String!){login(input:{email:$e,password:$p}){token expiresAt user{id name role}}}",
            json!({"e": email, "p": password}),
        )
        .await
    }

    /// Log in (must succeed) and return the token.
    pub async fn login(&self, email: &str, password: &str) -> String {
        let body = self.try_login(email, password).await;
        body["data"]["login"]["token"]
            .as_str()
            .unwrap_or_else(|| panic!("login of {email} failed: {body:#}"))
            .to_owned()
    }

    /// Log in as a demo user (`admin`, `supervisor`, `agent1`…).
    pub async fn login_demo(&self, who: &str) -> String {
        self.login(&format!("{who}@demo.pinline.test"), DEMO_PASSWORD)
            .await
    }

    /// Stop serving and drop the test's PostgreSQL database.
    pub async fn finish(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if self.backend == Backend::Postgres {
            pg::drop_database(&self.database_url).await;
        }
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

/// `errors[0].extensions.code` of a response.
pub fn error_code(body: &Value) -> Option<String> {
    body.get("errors")?
        .get(0)?
        .get("extensions")?
        .get("code")?
        .as_str()
        .map(str::to_owned)
}

/// The `pinline` binary built next to the test executable
/// (`target/debug/pinline`; `./dev test` builds it first), or `PINLINE_BIN`.
pub fn pinline_bin() -> PathBuf {
    // Benchmarks point this at a release build.
    if let Some(bin) = std::env::var_os("PINLINE_BIN") {
        return PathBuf::from(bin);
    }
    let exe = std::env::current_exe().expect("current exe");
    let dir = exe
        .parent()
        .and_then(|deps| deps.parent())
        .expect("target dir");
    let bin = dir.join("pinline");
    assert!(
        bin.is_file(),
        "{} is missing: build it first (`cargo build -p pinline`; ./dev test does)",
        bin.display()
    );
    bin
}
