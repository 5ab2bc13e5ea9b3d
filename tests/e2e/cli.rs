//! The `pinline` binary as a user runs it: `serve --seed-demo` on each
//! backend, then log in with a printed demo credential; `migrate` and
//! `seed-demo` on their own.

use std::process::Stdio;
use std::time::Duration;

use pinline_tests::{Backend, pg, pinline_bin};
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, BufReader};

async fn serve_seed_login(backend: Backend) {
    let dir = tempfile::tempdir().expect("dir");
    let db_url = match backend {
        Backend::Sqlite => None,
        Backend::Postgres => Some(pg::empty_database().await),
    };
    let mut cmd = tokio::process::Command::new(pinline_bin());
    cmd.args(["serve", "--listen", "127.0.0.1:0", "--seed-demo"])
        .arg("--data-dir")
        .arg(dir.path())
        .env_remove("DATABASE_URL")
        .env_remove("PINLINE_JWT_SECRET")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    if let Some(url) = &db_url {
        cmd.args(["--database-url", url]);
    }
    let mut child = cmd.spawn().expect("pinline serve starts");
    let mut stdout = BufReader::new(child.stdout.take().expect("stdout")).lines();
    let mut stderr = BufReader::new(child.stderr.take().expect("stderr")).lines();

    let mut password = None;
    let mut url = None;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while url.is_none() || password.is_none() {
        tokio::select! {
            line = stdout.next_line() => {
                let line = line.expect("read").expect("stdout open");
                if line.contains("agent1@demo.pinline.test") {
                    password = line.rsplit(' ').next().map(str::to_owned);
                }
            }
            line = stderr.next_line() => {
                let line = line.expect("read").expect("stderr open");
                if let Some(rest) = line.split("Pinline is up: ").nth(1) {
                    url = rest.split_whitespace().next().map(str::to_owned);
                }
            }
            _ = tokio::time::sleep_until(deadline) => panic!("serve did not come up"),
        }
    }
    let (url, password) = (url.expect("url"), password.expect("password"));
    // The generated secret and the logins are kept in the data dir.
    assert!(dir.path().join("jwt-secret").is_file());
    assert!(dir.path().join("demo-logins.txt").is_file());
    if backend == Backend::Sqlite {
        assert!(dir.path().join("pinline.sqlite3").is_file());
    }

    let client = reqwest::Client::new();
    let post = |token: Option<String>, query: &'static str, vars: Value| {
        let client = client.clone();
        let url = url.clone();
        async move {
            let mut req = client
                .post(format!("{url}/graphql"))
                .json(&json!({"query": query, "variables": vars}));
            if let Some(t) = token {
                req = req.bearer_auth(t);
            }
            req.send()
                .await
                .expect("sent")
                .json::<Value>()
                .await
                .expect("json")
        }
    };
    let login = post(
        None,
        "mutation($p:String!){login(input:{email:\"agent1@demo.pinline.test\",password:$p}){token}}",
        json!({"p": password}),
    )
    .await;
    let token = login["data"]["login"]["token"]
        .as_str()
        .expect("token")
        .to_owned();
    let me = post(
        Some(token),
        "{ me { email contactCenters { name dialerEnabled } } }",
        json!({}),
    )
    .await;
    assert_eq!(me["data"]["me"]["email"], "agent1@demo.pinline.test");
    assert_eq!(me["data"]["me"]["contactCenters"][0]["dialerEnabled"], true);

    // SIGTERM stops it cleanly.
    let pid = child.id().expect("pid");
    let _ = std::process::Command::new("kill")
        .arg(pid.to_string())
        .status();
    let status = tokio::time::timeout(Duration::from_secs(20), child.wait())
        .await
        .expect("stops")
        .expect("status");
    assert!(status.success(), "{status}");
    if let Some(url) = db_url {
        pg::drop_database(&url).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_seeds_the_demo_on_sqlite() {
    serve_seed_login(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_seeds_the_demo_on_postgres() {
    serve_seed_login(Backend::Postgres).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn migrate_and_seed_demo_commands() {
    let dir = tempfile::tempdir().expect("dir");
    let run = |args: &[&str]| {
        let mut cmd = std::process::Command::new(pinline_bin());
        cmd.args(args)
            .arg("--data-dir")
            .arg(dir.path())
            .env_remove("DATABASE_URL");
        let out = cmd.output().expect("runs");
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
        )
    };
    let (ok, out) = run(&["migrate"]);
    assert!(ok && out.contains("applied"), "{out}");
    let (ok, out) = run(&["migrate"]);
    assert!(ok && out.contains("up to date"), "{out}");
    let (ok, out) = run(&["seed-demo", "--password", "chosen-password"]);
    assert!(ok, "{out}");
    for who in ["admin", "supervisor", "agent1", "agent5"] {
        assert!(out.contains(&format!("{who}@demo.pinline.test")), "{out}");
    }
    assert!(out.contains("chosen-password"));
    let (ok, out) = run(&["seed-demo"]);
    assert!(
        ok && out.contains("chosen-password"),
        "second run shows the saved logins: {out}"
    );
    let (ok, _) = run(&[
        "create-org",
        "--name",
        "Bad",
        "--admin-email",
        "not-an-email",
    ]);
    assert!(!ok, "a bad email is refused");
    let schema = std::process::Command::new(pinline_bin())
        .arg("export-schema")
        .output()
        .expect("runs");
    assert_eq!(
        String::from_utf8_lossy(&schema.stdout),
        pinline::graphql::sdl()
    );
}
