//! Operations endpoints, the web app's SPA fallback, schema drift, and
//! migrations from empty on both backends.

use pinline::store::{DbTarget, run_migrations};
use pinline_tests::{Backend, TestServer, pg};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_ready_metrics_and_web_app() {
    for backend in [Backend::Sqlite, Backend::Postgres] {
        let srv = TestServer::start(backend).await;
        assert_eq!(srv.get("/healthz").await.0, 200);
        assert_eq!(srv.get("/readyz").await.0, 200);

        let (status, ctype, text) = srv.get("/metrics").await;
        assert_eq!(status, 200);
        assert!(ctype.starts_with("application/openmetrics-text"), "{ctype}");
        // Prometheus text: HELP/TYPE lines, samples, and the EOF marker.
        assert!(
            text.contains("# TYPE pinline_http_requests counter"),
            "{text}"
        );
        assert!(
            text.contains("pinline_http_requests_total{route=\"/healthz\",status=\"200\"} 1"),
            "{text}"
        );
        let backend_name = if backend == Backend::Sqlite {
            "sqlite"
        } else {
            "postgresql"
        };
        assert!(
            text.contains(&format!("database=\"{backend_name}\"")),
            "{text}"
        );
        assert!(text.trim_end().ends_with("# EOF"));
        for line in text.lines().filter(|l| !l.starts_with('#')) {
            let value = line.rsplit(' ').next().expect("value");
            assert!(value.parse::<f64>().is_ok(), "sample line {line:?}");
        }

        // GraphiQL on GET /graphql for browsers; the web app with SPA
        // fallback elsewhere.
        let resp = srv
            .client
            .get(format!("{}/graphql", srv.url))
            .header("accept", "text/html")
            .send()
            .await
            .expect("graphiql");
        assert_eq!(resp.status(), 200);
        let ctype = resp.headers()["content-type"]
            .to_str()
            .expect("ctype")
            .to_owned();
        let html = resp.text().await.expect("html");
        assert!(
            ctype.starts_with("text/html") && html.contains("graphiql"),
            "{ctype}"
        );
        for path in ["/", "/agent/workspace", "/login"] {
            let (status, _, body) = srv.get(path).await;
            assert_eq!(status, 200, "{path}");
            assert!(body.contains("pinline-test-index"), "{path}: {body}");
        }
        srv.finish().await;
    }
}

#[test]
fn committed_schema_matches_the_code() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../schema.graphql");
    let committed = std::fs::read_to_string(path).expect("schema.graphql at the repository root");
    let generated = pinline::graphql::sdl();
    assert!(
        committed == generated,
        "schema.graphql is out of date: run `cargo run -p pinline -- export-schema > schema.graphql`"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn migrations_apply_from_empty_on_sqlite() {
    let dir = tempfile::tempdir().expect("dir");
    let target = DbTarget::Sqlite(dir.path().join("nested/dir/pinline.sqlite3"));
    let applied = run_migrations(&target).await.expect("migrates");
    assert!(!applied.is_empty());
    assert!(
        run_migrations(&target).await.expect("again").is_empty(),
        "idempotent"
    );
    let db = pinline::store::Db::connect(&target, 1)
        .await
        .expect("connect");
    db.ping().await.expect("ping");
    assert!(
        pinline::store::organizations::find_by_name(&db, "x")
            .await
            .expect("query")
            .is_none()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn migrations_apply_from_empty_on_postgres() {
    let url = pg::empty_database().await;
    let target = DbTarget::Postgres(url.clone());
    let applied = run_migrations(&target).await.expect("migrates");
    assert!(!applied.is_empty());
    assert!(
        run_migrations(&target).await.expect("again").is_empty(),
        "idempotent"
    );
    let db = pinline::store::Db::connect(&target, 1)
        .await
        .expect("connect");
    assert!(
        pinline::store::organizations::find_by_name(&db, "x")
            .await
            .expect("query")
            .is_none()
    );
    drop(db);
    pg::drop_database(&url).await;
}

/// The introspection query GraphiQL and code generators send must pass the
/// depth and complexity limits.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn standard_introspection_passes_the_limits() {
    let srv = TestServer::start(Backend::Sqlite).await;
    let query = pinline::graphql::limits::STANDARD_INTROSPECTION;
    let data = srv.ok(None, query, serde_json::json!({})).await;
    let types = data["__schema"]["types"].as_array().expect("types");
    assert!(types.iter().any(|t| t["name"] == "ContactCenter"));
    srv.finish().await;
}

/// `/readyz` answers within a second when PostgreSQL stops answering (its
/// processes frozen with SIGSTOP: connections hang rather than fail), says
/// 503, and 200 again once the database answers. Its own throwaway
/// cluster, so the other tests' server is left alone.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readiness_answers_within_a_second_when_postgres_hangs() {
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../scripts/pg-cluster.sh");
    let out = std::process::Command::new(&script)
        .arg("start")
        .output()
        .expect("pg-cluster.sh runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let line = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    let (dir, url) = line.split_once(' ').expect("dir and url");
    let (dir, url) = (dir.to_owned(), url.to_owned());
    let srv = TestServer::start_with(Backend::Postgres, |c| c.database_url = Some(url)).await;
    assert_eq!(srv.get("/readyz").await.0, 200);
    // The postmaster and its children, read from /proc (no procps needed).
    let pids = || -> Vec<String> {
        let pid = std::fs::read_to_string(format!("{dir}/data/postmaster.pid")).expect("pid file");
        let main = pid.lines().next().expect("pid").trim().to_owned();
        let children = std::fs::read_dir("/proc")
            .expect("/proc")
            .flatten()
            .filter_map(|e| {
                let stat = std::fs::read_to_string(e.path().join("stat")).ok()?;
                // pid (comm) state ppid …: the fields after the last ')'.
                let ppid = stat
                    .rsplit_once(')')?
                    .1
                    .split_whitespace()
                    .nth(1)?
                    .to_owned();
                (ppid == main).then(|| e.file_name().to_string_lossy().into_owned())
            })
            .collect::<Vec<_>>();
        std::iter::once(main).chain(children).collect()
    };
    // The shell's own `kill` (procps may not be installed).
    let signal = |sig: &str, pids: &[String]| {
        std::process::Command::new("sh")
            .args(["-c", &format!("kill {sig} {}", pids.join(" "))])
            .status()
            .expect("kill");
    };
    let frozen = pids();
    signal("-STOP", &frozen);
    let started = std::time::Instant::now();
    let (status, _, body) = srv.get("/readyz").await;
    let took = started.elapsed();
    signal("-CONT", &frozen);
    assert_eq!(status, 503, "{body}");
    assert!(
        took < std::time::Duration::from_millis(1_500),
        "took {took:?}"
    );
    assert_eq!(srv.get("/healthz").await.0, 200);
    // Back: ready again.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
    while srv.get("/readyz").await.0 != 200 {
        assert!(std::time::Instant::now() < deadline, "not ready again");
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    srv.finish().await;
    let _ = std::process::Command::new(&script)
        .args(["stop", &dir])
        .status();
}

/// `/readyz` says 503 while writes fail (a full disk, injected in the
/// store: the server's heartbeat writes every second, so it notices
/// within one even when nobody else writes), naming the cause, and 200
/// again once writes work.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readiness_says_so_when_writes_fail() {
    for backend in [Backend::Sqlite, Backend::Postgres] {
        let srv = TestServer::start(backend).await;
        assert_eq!(srv.get("/readyz").await.0, 200);
        let db = srv.app.db.clone();
        db.writes().fail_all(true);
        let until = |want: u16| {
            let srv = &srv;
            async move {
                let deadline = std::time::Instant::now() + std::time::Duration::from_secs(3);
                loop {
                    let (status, _, body) = srv.get("/readyz").await;
                    if status == want {
                        return body;
                    }
                    assert!(std::time::Instant::now() < deadline, "{status} {body}");
                    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                }
            }
        };
        let body = until(503).await;
        assert!(body.contains("writes failing: disk full"), "{body}");
        db.writes().fail_all(false);
        until(200).await;
        srv.finish().await;
    }
}
