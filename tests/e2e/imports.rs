//! CSV uploads of leads: messy files get per-row results and the good rows
//! land exactly once; progress is live; big files import; files over the
//! limit are refused and write nothing.

use std::time::Duration;

use pinline_tests::ws::{InitOutcome, TRANSPORT_WS, WsClient};
use pinline_tests::{Backend, TestServer, on_both_backends};
use serde_json::{Value, json};

on_both_backends!(
    messy_csv_rows_get_results,
    fifty_megabytes_import_with_live_progress,
    a_full_disk_is_named_to_importers_and_api_clients,
);

async fn campaign(srv: &TestServer, sup: &str, name: &str) -> String {
    let cc = srv
        .ok(
            Some(sup),
            "{ contactCenters { edges { node { id } } } }",
            json!({}),
        )
        .await["contactCenters"]["edges"][0]["node"]["id"]
        .clone();
    srv.ok(
        Some(sup),
        "mutation($cc:ID!,$n:String!){createCampaign(input:{contactCenterId:$cc,name:$n,callerId:\"+14155550100\"}){campaign{id}}}",
        json!({"cc": cc, "n": name}),
    )
    .await["createCampaign"]["campaign"]["id"]
        .as_str()
        .expect("id")
        .to_owned()
}

pub(crate) async fn upload(
    srv: &TestServer,
    token: &str,
    campaign: &str,
    body: Vec<u8>,
) -> (u16, Value) {
    let resp = srv
        .client
        .post(format!(
            "{}/imports/leads?campaignId={campaign}&fileName=leads.csv",
            srv.url
        ))
        .bearer_auth(token)
        .header("content-type", "text/csv")
        .body(body)
        .send()
        .await
        .expect("upload");
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(Value::Null))
}

const JOB: &str = "query($id:ID!){importJob(id:$id){state totalRows processedRows added merged rejected warned error report{index phone code message}}}";

pub(crate) async fn wait_done(srv: &TestServer, token: &str, job: &str) -> Value {
    for _ in 0..600 {
        let j = srv.ok(Some(token), JOB, json!({"id": job})).await["importJob"].clone();
        if j["state"] != "RUNNING" {
            return j;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("import {job} did not finish");
}

async fn messy_csv_rows_get_results(srv: TestServer) {
    srv.seed_demo().await;
    let sup = srv.login_demo("supervisor").await;
    let c = campaign(&srv, &sup, "CSV").await;
    let mut file = b"\xEF\xBB\xBFPhone,First Name,Last Name,Plan,Notes\r\n".to_vec();
    file.extend_from_slice(b"(212) 555-0101,Ann,Ames,Gold,\"calls, mornings\"\r\n"); // 0 ok
    file.extend_from_slice(b"not-a-number,Bob,Best,Silver,\r\n"); //                      1 BAD_NUMBER
    file.extend_from_slice(b"212 555 0102,Cy,Cole\r\n"); //                               2 BAD_ROW (missing columns)
    file.extend_from_slice(b"212 555 0103,Caf\xE9,Dunn,Gold,x\r\n"); //                  3 BAD_ENCODING
    file.extend_from_slice(b"+1 212 555 0101,Ann,Again,Gold,dup\r\n"); //                 4 DUPLICATE_MERGED
    file.extend_from_slice(b"208 555 0104,Eve,Idaho,Bronze,\n"); //                       5 NEEDS_TIME_ZONE
    file.extend_from_slice(b"312 555 0105,Fay,\"Quote, Jr.\",Silver,\"said \"\"hi\"\"\"\r\n"); // 6 ok
    file.extend_from_slice(b"312 555 0106,Gus,\"Open,Gold,x\r\n"); //                  7 BAD_ROW (a quote never closed)
    file.extend_from_slice(b"312 555 0107,Hal,Hill,Gold,y\r\n"); //                    8 ok, not swallowed
    let (status, body) = upload(&srv, &sup, &c, file).await;
    assert_eq!(status, 202, "{body}");
    assert_eq!(body["totalRows"], 9);
    let job = wait_done(&srv, &sup, body["jobId"].as_str().expect("job")).await;
    assert_eq!(job["state"], "DONE", "{job}");
    assert_eq!(
        (job["added"].clone(), job["merged"].clone()),
        (json!(4), json!(1))
    );
    let report: Vec<(i64, String)> = job["report"]
        .as_array()
        .expect("report")
        .iter()
        .map(|r| {
            (
                r["index"].as_i64().expect("i"),
                r["code"].as_str().expect("c").to_owned(),
            )
        })
        .collect();
    assert_eq!(
        report,
        vec![
            (1, "BAD_NUMBER".into()),
            (2, "BAD_ROW".into()),
            (3, "BAD_ENCODING".into()),
            (4, "DUPLICATE_MERGED".into()),
            (5, "NEEDS_TIME_ZONE".into()),
            (7, "BAD_ROW".into()),
        ]
    );
    let stray = &job["report"].as_array().expect("report")[5];
    assert!(
        stray["message"]
            .as_str()
            .unwrap_or("")
            .starts_with("line 9: a quoted field"),
        "{stray}"
    );
    let leads = srv
        .ok(
            Some(&sup),
            "query($c:ID!){leads(campaignId:$c){edges{node{phone firstName lastName customProperties{key value}}}}}",
            json!({"c": c}),
        )
        .await;
    let edges = leads["leads"]["edges"].as_array().expect("edges").clone();
    assert_eq!(edges.len(), 4, "the good rows land exactly once");
    assert_eq!(edges[3]["node"]["firstName"], "Hal");
    assert_eq!(
        edges[0]["node"]["customProperties"],
        json!([{"key": "Plan", "value": "Gold"}, {"key": "Notes", "value": "calls, mornings"}])
    );
    assert_eq!(edges[2]["node"]["lastName"], "Quote, Jr.");
    assert_eq!(
        edges[2]["node"]["customProperties"][1]["value"],
        "said \"hi\""
    );

    // A file without a phone column is refused whole.
    let (status, body) = upload(&srv, &sup, &c, b"name,plan\nAnn,Gold\n".to_vec()).await;
    assert_eq!(
        (status, body["code"].clone()),
        (400, json!("VALIDATION")),
        "{body}"
    );
    // Agents cannot upload.
    let agent = srv.login_demo("agent1").await;
    assert_eq!(
        upload(&srv, &agent, &c, b"phone\n2125550199\n".to_vec())
            .await
            .0,
        403
    );
    srv.finish().await;
}

/// ~50 MB: 10 000 leads with five 1 000-character properties each (the
/// most a field may hold), followed live over `importProgress`.
async fn fifty_megabytes_import_with_live_progress(srv: TestServer) {
    srv.seed_demo().await;
    let sup = srv.login_demo("supervisor").await;
    let c = campaign(&srv, &sup, "Big").await;
    let note = "x".repeat(1_000);
    let mut file = String::from("phone,first_name,a,b,c,d,e\n");
    for i in 0..10_000 {
        file.push_str(&format!(
            "+1212201{i:04},Lead {i},{note},{note},{note},{note},{note}\n"
        ));
    }
    assert!(file.len() > 50_000_000);
    let (status, body) = upload(&srv, &sup, &c, file.into_bytes()).await;
    assert_eq!(status, 202, "{body}");
    let job_id = body["jobId"].as_str().expect("job").to_owned();

    let mut ws = WsClient::connect(&srv.ws_url(), TRANSPORT_WS).await;
    assert!(matches!(
        ws.init(json!({"token": sup})).await,
        InitOutcome::Ack
    ));
    ws.subscribe(
        "p",
        &format!("subscription {{ importProgress(jobId: \"{job_id}\") {{ state processedRows totalRows percent added }} }}"),
    )
    .await;
    let mut seen = Vec::new();
    loop {
        let msg = ws
            .next_data("p", Duration::from_secs(120))
            .await
            .expect("progress");
        let p = msg["data"]["importProgress"].clone();
        seen.push(p["processedRows"].as_i64().unwrap_or(-1));
        if p["state"] != "RUNNING" {
            assert_eq!(p["state"], "DONE", "{p}");
            assert_eq!(p["added"], 10_000);
            assert_eq!(p["percent"], 100.0);
            break;
        }
    }
    assert!(
        seen.windows(2).all(|w| w[0] <= w[1]),
        "progress only grows: {seen:?}"
    );
    // The upload was spooled to the data dir and is gone with the import.
    let uploads = srv.data_dir.join("uploads");
    let mut left = Vec::new();
    for _ in 0..50 {
        left = std::fs::read_dir(&uploads)
            .map(|d| d.flatten().map(|e| e.path()).collect())
            .unwrap_or_default();
        if left.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(uploads.is_dir() && left.is_empty(), "{left:?}");
    srv.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn files_over_the_limit_are_refused_and_write_nothing() {
    let srv = TestServer::start_with(Backend::Sqlite, |c| c.max_upload_bytes = 64 * 1024).await;
    srv.seed_demo().await;
    let sup = srv.login_demo("supervisor").await;
    let c = campaign(&srv, &sup, "Limit").await;
    let mut file = String::from("phone\n");
    for i in 0..10_000 {
        file.push_str(&format!("+1212201{i:04}\n"));
    }
    let (status, body) = upload(&srv, &sup, &c, file.into_bytes()).await;
    assert_eq!(status, 413, "{body}");
    assert!(
        body["message"].as_str().unwrap_or("").contains("limit"),
        "{body}"
    );
    let leads = srv
        .ok(
            Some(&sup),
            "query($c:ID!){leads(campaignId:$c){edges{node{id}}}}",
            json!({"c": c}),
        )
        .await;
    assert_eq!(leads["leads"]["edges"], json!([]));
    srv.finish().await;
}

on_both_backends!(list_csv_import);

async fn list_csv_import(srv: TestServer) {
    srv.seed_demo().await;
    let sup = srv.login_demo("supervisor").await;
    let file = b"Phone,Reason\r\n(212) 555-0101,asked on the phone\r\n212 555 0102,\r\nnope,x\r\n(212) 555-0101,again\r\n".to_vec();
    let resp = srv
        .client
        .post(format!(
            "{}/imports/list?list=DO_NOT_CALL&reason=bulk",
            srv.url
        ))
        .bearer_auth(&sup)
        .body(file)
        .send()
        .await
        .expect("upload");
    assert_eq!(resp.status().as_u16(), 200);
    let out: Value = resp.json().await.expect("json");
    assert_eq!(out["added"], 2, "{out}");
    assert_eq!(out["alreadyListed"], 1);
    assert_eq!(out["rejected"][0]["index"], 2);
    assert_eq!(out["rejected"][0]["code"], "BAD_NUMBER");
    let entries = srv
        .ok(
            Some(&sup),
            "{ listEntries(list: DO_NOT_CALL) { edges { node { phone reason source } } } }",
            json!({}),
        )
        .await;
    let mut rows: Vec<Value> = entries["listEntries"]["edges"]
        .as_array()
        .expect("edges")
        .iter()
        .map(|e| e["node"].clone())
        .collect();
    rows.sort_by_key(|r| r["phone"].as_str().unwrap_or("").to_owned());
    assert_eq!(
        rows,
        vec![
            json!({"phone": "+12125550101", "reason": "asked on the phone", "source": "IMPORT"}),
            json!({"phone": "+12125550102", "reason": "bulk", "source": "IMPORT"}),
        ]
    );

    // The export is the same list, in a file the import reads back.
    let export = |token: Option<String>, list: &'static str| {
        let req = srv
            .client
            .get(format!("{}/exports/list.csv?list={list}", srv.url));
        async move {
            let req = match token {
                Some(t) => req.bearer_auth(t),
                None => req,
            };
            let resp = req.send().await.expect("export");
            let status = resp.status().as_u16();
            (status, resp.text().await.expect("body"))
        }
    };
    let (status, text) = export(Some(sup.clone()), "DO_NOT_CALL").await;
    assert_eq!(status, 200, "{text}");
    let mut lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines.remove(0),
        "phone,reason,invalid_reason,source,created_at,created_by_email"
    );
    lines.sort();
    assert_eq!(lines.len(), 2, "{text}");
    assert!(
        lines[0].starts_with("+12125550101,asked on the phone,,IMPORT,"),
        "{text}"
    );
    assert!(
        lines[0].ends_with(",supervisor@demo.pinline.test"),
        "{text}"
    );
    assert!(lines[1].starts_with("+12125550102,bulk,,IMPORT,"), "{text}");
    let (status, text) = export(Some(sup.clone()), "DO_NOT_TEXT").await;
    assert_eq!((status, text.lines().count()), (200, 1), "{text}");
    assert_eq!(export(None, "DO_NOT_CALL").await.0, 401);
    let agent = srv.login_demo("agent1").await;
    assert_eq!(export(Some(agent), "DO_NOT_CALL").await.0, 403);
    assert_eq!(export(Some(sup.clone()), "NOPE").await.0, 400);

    let bad = srv
        .client
        .post(format!("{}/imports/list?list=NOPE", srv.url))
        .bearer_auth(&sup)
        .body("phone\n2125550101\n")
        .send()
        .await
        .expect("upload");
    assert_eq!(bad.status().as_u16(), 400);
    srv.finish().await;
}

/// A database that cannot take writes (injected: the disk is full) is
/// named as such: `UNAVAILABLE` with a retry time to API clients, the
/// cause in an import job's error — and the same request works once the
/// space is back.
async fn a_full_disk_is_named_to_importers_and_api_clients(srv: TestServer) {
    srv.seed_demo().await;
    let sup = srv.login_demo("supervisor").await;
    let c = campaign(&srv, &sup, "Full disk").await;
    let add = "mutation($i:AddLeadsInput!){addLeads(input:$i){added}}";
    let input = json!({"i": {"campaignId": c, "leads": [{"phone": "+12125550141", "timeZone": "America/New_York"}]}});
    let writes = srv.app.db.clone();
    writes.writes().fail_all(true);
    let body = srv.gql(Some(&sup), add, input.clone()).await;
    let err = &body["errors"][0];
    assert_eq!(err["extensions"]["code"], "UNAVAILABLE", "{body:#}");
    assert_eq!(err["extensions"]["retryAfterSeconds"], 5, "{body:#}");
    assert!(
        err["message"]
            .as_str()
            .unwrap_or_default()
            .contains("disk full"),
        "{body:#}"
    );
    writes.writes().fail_all(false);
    let done = srv.ok(Some(&sup), add, input).await;
    assert_eq!(done["addLeads"]["added"], 1);

    // An import whose first batch meets the full disk: the job says why.
    // (Writes before it: the job's row, the upload's copy for whoever
    // carries the job on, and its settings.)
    writes.writes().fail_nth(4);
    let file = b"Phone,First Name\n212 555 0142,Ann\n212 555 0143,Bo\n".to_vec();
    let (status, body) = upload(&srv, &sup, &c, file).await;
    assert_eq!(status, 202, "{body}");
    let job = wait_done(&srv, &sup, body["jobId"].as_str().expect("job")).await;
    assert_eq!(job["state"], "FAILED", "{job}");
    let error = job["error"].as_str().unwrap_or_default();
    assert!(
        error.contains("disk full") && error.contains("rows before were kept"),
        "{error}"
    );
}
