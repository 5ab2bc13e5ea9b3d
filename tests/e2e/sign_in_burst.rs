//! A shift start: 300 sign-ins at once. Password hashing (argon2id, 19 MiB
//! each) runs a few at a time in buffers that are kept, so the server's
//! memory stays bounded — peak and after. Each sign-in is answered with a
//! token or told when to retry (as the web app then does), and all are in
//! within seconds.

use std::time::Duration;

use pinline_tests::serve::Served;
use serde_json::{Value, json};

/// A `/proc/<pid>/status` figure, in MiB.
fn mib(pid: u32, field: &str) -> f64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("status");
    let kb: f64 = status
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or_else(|| panic!("{field} in {status}"));
    kb / 1024.0
}

const LOGIN: &str = "mutation($e:String!,$p:String!){login(input:{email:$e,password:$p}){token}}";

/// Sign in, retrying when told to; the number of retries.
async fn sign_in(client: reqwest::Client, url: String, password: String) -> u32 {
    let mut retries = 0;
    loop {
        let body: Value = client
            .post(format!("{url}/graphql"))
            .json(&json!({
                "query": LOGIN,
                "variables": {"e": "agent1@demo.pinline.test", "p": password},
            }))
            .timeout(Duration::from_secs(60))
            .send()
            .await
            .expect("sent")
            .json()
            .await
            .expect("json");
        if body["data"]["login"]["token"].is_string() {
            return retries;
        }
        // Busy: told when to retry, and retried then.
        let ext = &body["errors"][0]["extensions"];
        assert_eq!(ext["code"], "UNAVAILABLE", "{body}");
        let secs = ext["retryAfterSeconds"]
            .as_u64()
            .unwrap_or_else(|| panic!("no retryAfterSeconds: {body}"));
        retries += 1;
        tokio::time::sleep(Duration::from_secs(secs)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_hundred_sign_ins_at_once_stay_under_300_mib() {
    let dir = tempfile::tempdir().expect("dir");
    let args = [
        "--seed-demo",
        "--demo-agents",
        "0",
        "--demo-days",
        "0",
        "--login-ip-limit",
        "100000",
        // One contact center behind one address: its burst fits.
        "--anonymous-rate",
        "100",
    ];
    let s = Served::start(dir.path(), None, &args).await;
    let password = s.password.clone().expect("demo logins");
    let pid = s.child.id().expect("pid");
    s.login("agent1@demo.pinline.test", &password).await;
    let before = mib(pid, "VmRSS:");
    let client = reqwest::Client::new();
    let started = std::time::Instant::now();
    let tasks: Vec<_> = (0..300)
        .map(|_| tokio::spawn(sign_in(client.clone(), s.url.clone(), password.clone())))
        .collect();
    let mut retried = 0;
    for t in tasks {
        retried += t.await.expect("joined");
    }
    let took = started.elapsed();
    let (peak, after) = (mib(pid, "VmHWM:"), mib(pid, "VmRSS:"));
    eprintln!(
        "RSS before {before:.0} MiB, peak {peak:.0} MiB, after {after:.0} MiB; \
         300 signed in in {took:?} ({retried} retries)"
    );
    assert!(took < Duration::from_secs(60), "{took:?}");
    assert!(peak < 300.0, "peak RSS {peak:.0} MiB");
    assert!(
        after < before + 80.0,
        "RSS {before:.0} → {after:.0} MiB after the burst"
    );
    assert!(s.stop().await);
}
