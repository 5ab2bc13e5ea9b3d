//! The `pinline` binary as a user runs it: `serve --seed-demo` on each
//! backend, then log in with a printed demo credential; `migrate` and
//! `seed-demo` on their own.

use pinline_tests::serve::Served;
use pinline_tests::{Backend, pg, pinline_bin};
use serde_json::json;
use std::time::Duration;

async fn serve_seed_login(backend: Backend) {
    let dir = tempfile::tempdir().expect("dir");
    let db_url = match backend {
        Backend::Sqlite => None,
        Backend::Postgres => Some(pg::empty_database().await),
    };
    let served = Served::start(dir.path(), db_url.as_deref(), &["--seed-demo"]).await;
    let password = served
        .password
        .clone()
        .expect("the demo logins are printed");
    // The generated secret and the logins are kept in the data dir.
    assert!(dir.path().join("jwt-secret").is_file());
    assert!(dir.path().join("demo-logins.txt").is_file());
    if backend == Backend::Sqlite {
        assert!(dir.path().join("pinline.sqlite3").is_file());
    }
    let token = served.login("agent1@demo.pinline.test", &password).await;
    let me = served
        .ok(
            Some(&token),
            "{ me { email contactCenters { name dialerEnabled } } }",
            json!({}),
        )
        .await;
    assert_eq!(me["me"]["email"], "agent1@demo.pinline.test");
    assert_eq!(me["me"]["contactCenters"][0]["dialerEnabled"], true);

    // The demo has a past: simulated working days of the demo campaign in
    // its report, marked demo data in the audit log.
    let sup = served
        .login("supervisor@demo.pinline.test", &password)
        .await;
    let campaigns = served
        .ok(
            Some(&sup),
            "{ campaigns(first: 5) { edges { node { id name } } } }",
            json!({}),
        )
        .await;
    let campaign = campaigns["campaigns"]["edges"][0]["node"]["id"].clone();
    let from = (chrono::Utc::now() - chrono::Duration::days(8)).to_rfc3339();
    let report = served
        .ok(
            Some(&sup),
            "query($c: ID!, $from: DateTime) { campaignReport(campaignId: $c, from: $from) { attempts liveAnswers connects wrapUps contacts } }",
            json!({"c": campaign, "from": from}),
        )
        .await;
    let r = &report["campaignReport"];
    let attempts = r["attempts"].as_i64().expect("attempts");
    assert!(attempts > 1_000, "{report}");
    assert!(r["connects"].as_i64() > Some(100), "{report}");
    assert_eq!(r["wrapUps"], r["connects"], "{report}");
    let admin = served.login("admin@demo.pinline.test", &password).await;
    let audit = served
        .ok(
            Some(&admin),
            "{ auditLog(first: 50) { edges { node { action detail } } } }",
            json!({}),
        )
        .await;
    let marked = audit["auditLog"]["edges"]
        .as_array()
        .expect("entries")
        .iter()
        .find(|e| e["node"]["action"] == "demo.history")
        .unwrap_or_else(|| panic!("no demo.history entry: {audit}"));
    assert!(
        marked["node"]["detail"]
            .as_str()
            .unwrap_or("")
            .starts_with("demo data: "),
        "{marked}"
    );

    // SIGTERM stops it cleanly.
    assert!(served.stop().await, "a clean exit on SIGTERM");
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

/// `--login-ip-limit` sets how many log-ins one address may try a minute
/// (a contact center behind one NAT raises it): 35 agents sign in from
/// one IP with a limit of 40; with the default (30) the 31st is refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_login_limit_per_address_is_configurable() {
    const LOGIN: &str =
        "mutation($e:String!,$p:String!){login(input:{email:$e,password:$p}){token}}";
    for (flags, allowed) in [(&["--login-ip-limit", "40"][..], 35), (&[][..], 30)] {
        let dir = tempfile::tempdir().expect("dir");
        let mut args = vec!["--seed-demo"];
        args.extend_from_slice(flags);
        let served = Served::start(dir.path(), None, &args).await;
        let password = served.password.clone().expect("the demo logins");
        for i in 0..35 {
            let who = format!("agent{}@demo.pinline.test", i % 5 + 1);
            let body = served
                .gql(None, LOGIN, json!({"e": who, "p": password}))
                .await;
            let refused = body["errors"][0]["extensions"]["code"] == "RATE_LIMITED";
            assert_eq!(
                refused,
                i >= allowed,
                "log-in {} with {flags:?}: {body}",
                i + 1
            );
        }
        assert!(served.stop().await);
    }
}

#[test]
fn simulate_prints_every_pacer_and_refuses_bad_scenarios() {
    let tmp = tempfile::tempdir().expect("dir");
    let dir = tmp.path().to_path_buf();
    let out = std::process::Command::new(pinline_bin())
        .args(["simulate", "S2", "--seed", "3", "--json", "--svg"])
        .arg(&dir)
        .output()
        .expect("run pinline simulate");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let pacers: Vec<&str> = v[0]["pacers"]
        .as_array()
        .expect("pacers")
        .iter()
        .filter_map(|p| p["pacer"].as_str())
        .collect();
    assert_eq!(
        pacers,
        ["Pinline", "Vicidial", "Progressive", "Clairvoyant"]
    );
    assert_eq!(v[0]["seeds"], serde_json::json!([3]));
    let svg = std::fs::read_to_string(dir.join("S2.svg")).expect("chart written");
    assert!(svg.contains("<polyline"));

    let bad = dir.join("bad.toml");
    std::fs::write(&bad, "name = \"bad\"\nagents = 4\n[talk]\nmean = -1\n").expect("write");
    let out = std::process::Command::new(pinline_bin())
        .arg("simulate")
        .arg(&bad)
        .output()
        .expect("run pinline simulate");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("talk: the mean must be over 0"), "{err}");
    let out = std::process::Command::new(pinline_bin())
        .args(["simulate", "S1", "--pacers", "magic"])
        .output()
        .expect("run pinline simulate");
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown pacer"));
}

#[test]
fn the_what_if_names_a_missing_campaign() {
    let dir = tempfile::tempdir().expect("dir");
    let out = std::process::Command::new(pinline_bin())
        .args([
            "simulate",
            "--from-campaign",
            "no-such-campaign",
            "--agents",
            "4",
        ])
        .arg("--data-dir")
        .arg(dir.path())
        .output()
        .expect("run pinline simulate");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("no campaign no-such-campaign"), "{err}");
    let out = std::process::Command::new(pinline_bin())
        .args(["simulate", "S1", "--from-campaign", "x", "--agents", "4"])
        .arg("--data-dir")
        .arg(dir.path())
        .output()
        .expect("run pinline simulate");
    assert!(String::from_utf8_lossy(&out.stderr).contains("leave out the scenario names"));
}

/// The first five minutes, as a new user has them: `serve --seed-demo`
/// puts simulated agents on the floor with the demo campaign running, and
/// agent1, going Available, gets a dialer call within seconds.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_floor_is_alive_and_a_call_comes_within_seconds() {
    use pinline_tests::ws::WsClient;
    let dir = tempfile::tempdir().expect("temp dir");
    let served = Served::start(dir.path(), None, &["--seed-demo"]).await;
    let password = served.password.clone().expect("password");
    let sup = served
        .login("supervisor@demo.pinline.test", &password)
        .await;
    let cc = served.first_contact_center(&sup).await;
    // The floor fills as the simulated agents arrive.
    let floor = "query($cc: ID!) { agentFloor(contactCenterId: $cc) { agent { email } status } campaigns(contactCenterId: $cc, states: [RUNNING]) { nodes { name } } }";
    let mut present = 0;
    for _ in 0..40 {
        let data = served.ok(Some(&sup), floor, json!({"cc": cc})).await;
        assert_eq!(
            data["campaigns"]["nodes"][0]["name"],
            pinline::bootstrap::DEMO_CAMPAIGN
        );
        present = data["agentFloor"]
            .as_array()
            .expect("floor")
            .iter()
            .filter(|a| a["status"] != "OFFLINE")
            .count();
        if present >= 3 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    assert!(present >= 3, "{present} demo agents on the floor");
    // agent1 goes Available and gets a call.
    let agent = served.login("agent1@demo.pinline.test", &password).await;
    let ws_url = format!("{}/graphql/ws", served.url.replacen("http", "ws", 1));
    let mut ws = WsClient::signed_in(&ws_url, &agent).await;
    ws.subscribe(
        "e",
        "subscription { agentEvents { __typename ... on CallEvent { step call { dialer } } } }",
    )
    .await;
    let started = std::time::Instant::now();
    served
        .ok(
            Some(&agent),
            "mutation($cc: ID!) { setAgentStatus(input: {contactCenterId: $cc, status: AVAILABLE}) { presence { status } } }",
            json!({"cc": cc}),
        )
        .await;
    let connected = loop {
        let left = Duration::from_secs(60).saturating_sub(started.elapsed());
        match ws.next_data("e", left.max(Duration::from_millis(1))).await {
            Ok(v) if v["data"]["agentEvents"]["step"] == "CONNECTED" => break v,
            Ok(_) => {}
            Err(e) => panic!("no call within {:?}: {e}", started.elapsed()),
        }
    };
    assert_eq!(connected["data"]["agentEvents"]["call"]["dialer"], true);
    println!(
        "agent1's first dialer call connected {:?} after going Available",
        started.elapsed()
    );
}

/// One SQLite file serves one server: a second `serve` on the same data
/// says so and exits, and the first goes on; once the first has stopped
/// (even killed), a new one starts.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_server_on_one_sqlite_file_is_refused() {
    let dir = tempfile::tempdir().expect("dir");
    let first = pinline_tests::serve::Served::start(dir.path(), None, &[]).await;
    let second = tokio::time::timeout(
        std::time::Duration::from_secs(60),
        tokio::process::Command::new(pinline_tests::pinline_bin())
            .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
            .arg(dir.path())
            .env_remove("DATABASE_URL")
            .output(),
    )
    .await
    .expect("the second exits at once")
    .expect("runs");
    assert!(!second.status.success());
    let said = String::from_utf8_lossy(&second.stderr);
    assert!(
        said.contains("another Pinline server is using") && said.contains("PostgreSQL"),
        "{said}"
    );
    let healthy = |s: &pinline_tests::serve::Served| {
        let req = s.client.get(format!("{}/healthz", s.url));
        async move { req.send().await.map(|r| r.status().as_u16()).unwrap_or(0) }
    };
    assert_eq!(healthy(&first).await, 200, "the first goes on");
    first.kill().await;
    let again = pinline_tests::serve::Served::start(dir.path(), None, &[]).await;
    assert_eq!(healthy(&again).await, 200);
}
