//! A CSV import outlives the server running it: killed mid-import, the
//! server's next start (SQLite, or PostgreSQL alone) or another server on
//! the same PostgreSQL carries the job on from the copy of the upload in
//! the database, where the last written batch left it. The job ends DONE
//! with every row counted once: the counts and the report are those of an
//! import never cut, and the campaign holds each number once. A server
//! paused past its silence (SIGSTOP) and woken finds its job taken: its
//! writes are refused, none lands twice.

use std::time::{Duration, Instant};

use pinline_tests::serve::Served;
use pinline_tests::{Backend, pg};
use serde_json::{Value, json};

use crate::cluster::{count, instance_of};

const ROWS: usize = 100_000;

/// What an import of [`file`] must end with.
#[derive(Debug, Default, PartialEq)]
struct Expected {
    added: i64,
    merged: i64,
    rejected: i64,
    /// Every row the report must name, by index: its code.
    report: Vec<(i64, String)>,
}

/// A CSV of `ROWS` rows, numbered from `base`: every 13th number is bad,
/// every 7th repeats the row before it (across batches too); what its
/// import must count.
fn file(base: usize) -> (Vec<u8>, Expected) {
    let mut out = String::from("phone,first_name\n");
    let mut seen = std::collections::HashSet::new();
    let mut expected = Expected::default();
    let phone = |i: usize| {
        let n = base + i;
        format!("+1212{:03}{:04}", 200 + n / 10_000, n % 10_000)
    };
    for i in 0..ROWS {
        let p = if i % 13 == 5 {
            "12".to_owned()
        } else if i % 7 == 3 && i % 13 != 6 {
            phone(i - 1)
        } else {
            phone(i)
        };
        if p == "12" {
            expected.rejected += 1;
            expected.report.push((i as i64, "BAD_NUMBER".into()));
        } else if seen.insert(p.clone()) {
            expected.added += 1;
        } else {
            expected.merged += 1;
            expected.report.push((i as i64, "DUPLICATE_MERGED".into()));
        }
        out.push_str(&format!("{p},Lead {i}\n"));
    }
    (out.into_bytes(), expected)
}

async fn new_campaign(s: &Served, sup: &str, name: &str) -> String {
    let cc = s.first_contact_center(sup).await;
    s.ok(
        Some(sup),
        "mutation($cc:ID!,$n:String!){createCampaign(input:{contactCenterId:$cc,name:$n,callerId:\"+14155550100\"}){campaign{id}}}",
        json!({"cc": cc, "n": name}),
    )
    .await["createCampaign"]["campaign"]["id"]
        .as_str()
        .expect("id")
        .to_owned()
}

/// Upload `body` to `s`; the job's id.
async fn upload(s: &Served, token: &str, campaign: &str, body: Vec<u8>) -> String {
    let resp = s
        .client
        .post(format!(
            "{}/imports/leads?campaignId={campaign}&fileName=big.csv",
            s.url
        ))
        .bearer_auth(token)
        .header("content-type", "text/csv")
        .body(body)
        .send()
        .await
        .expect("upload");
    assert_eq!(resp.status().as_u16(), 202);
    let v: Value = resp.json().await.expect("json");
    v["jobId"].as_str().expect("job").to_owned()
}

const JOB: &str = "query($id:ID!){importJob(id:$id){id state totalRows processedRows added merged rejected warned error}}";

async fn job(s: &Served, token: &str, id: &str) -> Value {
    s.ok(Some(token), JOB, json!({"id": id})).await["importJob"].clone()
}

/// Wait until the job has written a few batches (and is not done): the
/// rows processed then.
async fn until_part_done(s: &Served, token: &str, id: &str) -> i64 {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let j = job(s, token, id).await;
        assert_eq!(j["state"], "RUNNING", "{j}");
        let done = j["processedRows"].as_i64().unwrap_or(0);
        if done >= 10_000 {
            assert!(done < ROWS as i64, "{j}");
            return done;
        }
        assert!(Instant::now() < deadline, "no progress: {j}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Wait for the job's end on `s`, within `within`.
async fn until_ended(s: &Served, token: &str, id: &str, within: Duration) -> Value {
    let deadline = Instant::now() + within;
    loop {
        let j = job(s, token, id).await;
        if j["state"] != "RUNNING" {
            return j;
        }
        assert!(Instant::now() < deadline, "not carried on: {j}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// The job ended as an import never cut would have, and the campaign
/// holds each number once.
async fn check(s: &Served, token: &str, campaign: &str, j: &Value, expected: &Expected) {
    assert_eq!(j["state"], "DONE", "{j}");
    assert_eq!(j["processedRows"], ROWS as i64);
    let mut report = Vec::new();
    loop {
        let page = s
            .ok(
                Some(token),
                "query($id:ID!,$o:Int!){importJob(id:$id){report(first:1000,offset:$o){index code}}}",
                json!({"id": j["id"], "o": report.len()}),
            )
            .await["importJob"]["report"]
            .as_array()
            .expect("report")
            .iter()
            .map(|r| {
                let code = r["code"].as_str().unwrap_or("").to_owned();
                (r["index"].as_i64().unwrap_or(-1), code)
            })
            .collect::<Vec<_>>();
        if page.is_empty() {
            break;
        }
        report.extend(page);
    }
    let got = Expected {
        added: j["added"].as_i64().unwrap_or(-1),
        merged: j["merged"].as_i64().unwrap_or(-1),
        rejected: j["rejected"].as_i64().unwrap_or(-1),
        report,
    };
    assert!(
        got == *expected,
        "{}: {} rows reported of {}; counts {:?} {:?}",
        j["error"],
        got.report.len(),
        expected.report.len(),
        (got.added, got.merged, got.rejected),
        (expected.added, expected.merged, expected.rejected)
    );
    assert_eq!(j["warned"].as_i64(), Some(expected.merged), "{j}");
    let counts = s
        .ok(
            Some(token),
            "query($id:ID!){campaign(id:$id){leadCounts{status count}}}",
            json!({"id": campaign}),
        )
        .await["campaign"]["leadCounts"]
        .as_array()
        .expect("counts")
        .iter()
        .map(|c| c["count"].as_i64().unwrap_or(0))
        .sum::<i64>();
    assert_eq!(counts, expected.added, "each number once in the campaign");
}

async fn killed_mid_import(backend: Backend) {
    let dir = tempfile::tempdir().expect("dir");
    let db_url = match backend {
        Backend::Sqlite => None,
        Backend::Postgres => Some(pg::empty_database().await),
    };
    let args = ["--seed-demo", "--demo-agents", "0", "--demo-days", "0"];
    let first = Served::start(dir.path(), db_url.as_deref(), &args).await;
    let password = first.password.clone().expect("demo logins");
    let sup = first.login("supervisor@demo.pinline.test", &password).await;
    let campaign = new_campaign(&first, &sup, "Big list").await;
    let (body, expected) = file(0);
    let id = upload(&first, &sup, &campaign, body).await;
    let at = until_part_done(&first, &sup, &id).await;
    first.kill().await;
    println!("killed with {at} of {ROWS} rows done");
    let second = Served::start(dir.path(), db_url.as_deref(), &args).await;
    let sup = second
        .login("supervisor@demo.pinline.test", &password)
        .await;
    // PostgreSQL: the next start waits out the dead server's silence.
    let j = until_ended(&second, &sup, &id, Duration::from_secs(120)).await;
    check(&second, &sup, &campaign, &j, &expected).await;
    // The copy of the upload went with the job.
    if let Some(url) = &db_url {
        assert_eq!(count(url, "SELECT count(*) FROM import_uploads"), 0);
        assert_eq!(count(url, "SELECT count(*) FROM import_report_rows"), 0);
    }
    second.kill().await;
    if let Some(url) = db_url {
        pg::drop_database(&url).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_mid_import_the_next_start_finishes_it_on_sqlite() {
    killed_mid_import(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_mid_import_the_next_start_finishes_it_on_postgres() {
    killed_mid_import(Backend::Postgres).await;
}

/// Two servers on one PostgreSQL (a short lease, so silence is found out
/// soon): the one running an import is paused past its silence, the other
/// takes the job; woken, the first writes nothing more of it. Then the one
/// running the next import is killed: the other finishes it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_server_carries_on_the_import_of_one_that_died() {
    const LEASE: &str = "3";
    let db_url = pg::empty_database().await;
    let (dir_a, dir_b) = (
        tempfile::tempdir().expect("dir"),
        tempfile::tempdir().expect("dir"),
    );
    let seed = [
        "--lease-secs",
        LEASE,
        "--jwt-secret",
        "import-takeover-secret-0123456789abcdef",
        "--seed-demo",
        "--demo-agents",
        "0",
        "--demo-days",
        "0",
    ];
    let a = Served::start(dir_a.path(), Some(&db_url), &seed).await;
    let b = Served::start(dir_b.path(), Some(&db_url), &seed[..4]).await;
    let password = a.password.clone().expect("demo logins");
    let sup = a.login("supervisor@demo.pinline.test", &password).await;
    let a_id = instance_of(&a).await;
    let b_id = instance_of(&b).await;
    let held_by = |id: &str, by: &str| {
        count(
            &db_url,
            &format!("SELECT count(*) FROM import_jobs WHERE id = '{id}' AND instance_id = '{by}'"),
        ) == 1
    };

    // Paused: B takes the job; A, woken, is refused.
    let first = new_campaign(&a, &sup, "Paused").await;
    let (body, expected) = file(0);
    let id = upload(&a, &sup, &first, body).await;
    until_part_done(&a, &sup, &id).await;
    a.signal("-STOP");
    let deadline = Instant::now() + Duration::from_secs(30);
    while !held_by(&id, &b_id) && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let taken = held_by(&id, &b_id);
    a.signal("-CONT");
    assert!(taken, "the paused server's import taken over");
    let j = until_ended(&b, &sup, &id, Duration::from_secs(120)).await;
    check(&b, &sup, &first, &j, &expected).await;

    // Killed: B finishes it.
    let second = new_campaign(&a, &sup, "Killed").await;
    let (body, expected) = file(150_000);
    let id = upload(&a, &sup, &second, body).await;
    until_part_done(&a, &sup, &id).await;
    assert!(held_by(&id, &a_id));
    a.kill().await;
    let j = until_ended(&b, &sup, &id, Duration::from_secs(120)).await;
    check(&b, &sup, &second, &j, &expected).await;
    assert_eq!(count(&db_url, "SELECT count(*) FROM import_uploads"), 0);
    b.kill().await;
    pg::drop_database(&db_url).await;
}
