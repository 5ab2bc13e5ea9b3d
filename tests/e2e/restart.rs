//! Kill and restart: `pinline serve` killed with SIGKILL mid-campaign (an
//! agent in wrap-up, one on a call, one with a preview offer, a call
//! ringing), then started again on the same data: calls in flight end with
//! SERVER_RESTART and their leads are retried (not dialed twice), the
//! offered lead goes back untouched, what was written stays, agents are
//! OFFLINE without a pinned leg, and those who owed a wrap-up still do.

use std::time::Duration;

use pinline_tests::dialer;
use pinline_tests::serve::Served;
use pinline_tests::ws::WsClient;
use pinline_tests::{Backend, pg};
use serde_json::{Value, json};

const PRESENCE: &str = "{ myPresence { status pinnedLeg { state } activeCall { id state } wrapUpCall { id } offeredCall { id } } }";

struct Floor<'a> {
    s: &'a Served,
    sup: String,
    agents: Vec<String>,
    cc: String,
}

impl Floor<'_> {
    async fn presence(&self, agent: usize) -> Value {
        self.s
            .ok(Some(&self.agents[agent]), PRESENCE, json!({}))
            .await["myPresence"]
            .clone()
    }

    /// Poll agent `agent`'s presence until `pred` holds (10 s at most).
    async fn wait_for(&self, agent: usize, what: &str, pred: impl Fn(&Value) -> bool) -> Value {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        loop {
            let p = self.presence(agent).await;
            if pred(&p) {
                return p;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "waiting for {what}: {p}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    async fn available(&self, agent: usize) -> Value {
        self.s
            .ok(
                Some(&self.agents[agent]),
                "mutation($cc:ID!){setAgentStatus(input:{contactCenterId:$cc,status:AVAILABLE}){presence{status}}}",
                json!({"cc": self.cc}),
            )
            .await["setAgentStatus"]["presence"]
            .clone()
    }

    async fn campaign(&self, mode: &str) -> String {
        let id = self
            .s
            .ok(
                Some(&self.sup),
                "mutation($i:CreateCampaignInput!){createCampaign(input:$i){campaign{id}}}",
                json!({"i": {"contactCenterId": self.cc, "name": mode, "callerId": "+14155550100", "dialMode": mode}}),
            )
            .await["createCampaign"]["campaign"]["id"]
            .as_str()
            .expect("campaign")
            .to_owned();
        self.state(&id, "startCampaign").await;
        id
    }

    async fn state(&self, campaign: &str, mutation: &str) {
        self.s
            .ok(
                Some(&self.sup),
                &format!(
                    "mutation($c:ID!){{{mutation}(input:{{campaignId:$c}}){{campaign{{state}}}}}}"
                ),
                json!({"c": campaign}),
            )
            .await;
    }

    async fn add(&self, campaign: &str, l: Value) {
        let r = self
            .s
            .ok(
                Some(&self.sup),
                "mutation($i:AddLeadsInput!){addLeads(input:$i){added}}",
                json!({"i": {"campaignId": campaign, "leads": [l]}}),
            )
            .await;
        assert_eq!(r["addLeads"]["added"], 1, "{r}");
    }

    async fn lead(&self, campaign: &str, phone: &str) -> Value {
        let data = self
            .s
            .ok(
                Some(&self.sup),
                "query($c:ID!){leads(campaignId:$c,first:50){edges{node{phone status attempts lastOutcome}}}}",
                json!({"c": campaign}),
            )
            .await;
        data["leads"]["edges"]
            .as_array()
            .expect("edges")
            .iter()
            .map(|e| e["node"].clone())
            .find(|n| n["phone"] == phone)
            .unwrap_or_else(|| panic!("no lead {phone}"))
    }

    async fn call(&self, id: &str) -> Value {
        self.s
            .ok(
                Some(&self.sup),
                "query($id:ID!){call(id:$id){state outcome connectedAt endedAt talkSeconds events{step}}}",
                json!({"id": id}),
            )
            .await["call"]
            .clone()
    }
}

async fn sign_in<'a>(s: &'a Served, password: &str) -> Floor<'a> {
    let sup = s.login("supervisor@demo.pinline.test", password).await;
    let mut agents = Vec::new();
    for i in 1..=4 {
        agents.push(
            s.login(&format!("agent{i}@demo.pinline.test"), password)
                .await,
        );
    }
    let cc = s.first_contact_center(&sup).await;
    Floor { s, sup, agents, cc }
}

/// A lead in a zone where it is daytime now (this test runs on the real
/// clock, so a fixed zone would be outside its calling window at night).
fn lead(phone: &str, outcome: &str, ring: u32, talk: u32) -> Value {
    let mut l = dialer::lead(phone, outcome, ring, talk);
    l["timeZone"] = json!(pinline::bench::engine::daytime_zone());
    l["timeZoneVerified"] = json!(true);
    l
}

fn id(v: &Value) -> String {
    v["id"]
        .as_str()
        .unwrap_or_else(|| panic!("no id in {v}"))
        .to_owned()
}

/// A data dir (and a database on PostgreSQL) for two runs of the server.
async fn data_for(backend: Backend) -> (tempfile::TempDir, Option<String>) {
    let dir = tempfile::tempdir().expect("dir");
    let db_url = match backend {
        Backend::Sqlite => None,
        Backend::Postgres => Some(pg::empty_database().await),
    };
    (dir, db_url)
}

/// The demo, no simulated agents, and `then`.
fn demo_args(then: [&str; 2]) -> [&str; 7] {
    [
        "--seed-demo",
        "--demo-agents",
        "0",
        "--demo-days",
        "0",
        then[0],
        then[1],
    ]
}

/// A time field of `v`.
fn time_of(v: &Value, k: &str) -> chrono::DateTime<chrono::Utc> {
    v[k].as_str()
        .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
        .map(|t| t.with_timezone(&chrono::Utc))
        .unwrap_or_else(|| panic!("{k}: {v}"))
}

async fn killed_mid_campaign(backend: Backend) {
    let (dir, db_url) = data_for(backend).await;
    // Agents keep their presence without a websocket for the test's length.
    let args = demo_args(["--agent-grace-secs", "600"]);
    let first = Served::start(dir.path(), db_url.as_deref(), &args).await;
    let password = first.password.clone().expect("demo logins");
    let f = sign_in(&first, &password).await;

    // agent3: a preview offer waiting (its campaign then paused: one
    // campaign runs per contact center).
    let preview = f.campaign("PREVIEW").await;
    f.add(&preview, lead("+12025550204", "human", 1, 30)).await;
    f.available(2).await;
    let p = f
        .wait_for(2, "agent3's offer", |p| p["offeredCall"]["id"].is_string())
        .await;
    let offer = id(&p["offeredCall"]);
    f.state(&preview, "pauseCampaign").await;
    // agent1: a short call, then wrap-up pending.
    let progressive = f.campaign("PROGRESSIVE").await;
    f.add(&progressive, lead("+12025550201", "human", 1, 1))
        .await;
    f.available(0).await;
    let p = f
        .wait_for(0, "agent1 in wrap-up", |p| p["status"] == "WRAP_UP")
        .await;
    let short = id(&p["wrapUpCall"]);
    // agent2: on a long call.
    f.add(&progressive, lead("+12025550202", "human", 1, 600))
        .await;
    f.available(1).await;
    let p = f
        .wait_for(1, "agent2 on a call", |p| {
            p["activeCall"]["state"] == "CONNECTED"
        })
        .await;
    let long = id(&p["activeCall"]);
    // agent4: idle while a call rings.
    f.add(&progressive, lead("+12025550203", "no_answer", 600, 0))
        .await;
    f.available(3).await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while f.lead(&progressive, "+12025550203").await["status"] != "DIALING" {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the third call was not placed"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // The long call talks a few seconds more before the crash.
    tokio::time::sleep(Duration::from_millis(2500)).await;

    let killed_at = chrono::Utc::now();
    first.kill().await;
    // The next start comes well after: calls cut off must not end then.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let second = Served::start(dir.path(), db_url.as_deref(), &args).await;
    let f = sign_in(&second, &password).await;

    // In flight: SERVER_RESTART, the lead retried later (one attempt).
    let c = f.call(&long).await;
    assert_eq!(
        (c["state"].as_str(), c["outcome"].as_str()),
        (Some("ENDED"), Some("SERVER_RESTART")),
        "{c}"
    );
    // Ended at the last heartbeat before the kill (at most ~1 s old), with
    // the talk time it had then — not at the restart.
    let (connected, ended) = (time_of(&c, "connectedAt"), time_of(&c, "endedAt"));
    let before_kill = (killed_at - ended).num_milliseconds();
    assert!(
        (-100..=2_000).contains(&before_kill),
        "ended {before_kill} ms before the kill: {c}"
    );
    let talk = c["talkSeconds"].as_f64().expect("talk time");
    let span = (ended - connected).num_milliseconds() as f64 / 1000.0;
    assert!(
        talk >= 1.5 && (talk - span).abs() < 0.01,
        "talk {talk} s, connected for {span} s: {c}"
    );
    for phone in ["+12025550202", "+12025550203"] {
        let l = f.lead(&progressive, phone).await;
        assert_eq!(
            (
                l["status"].as_str(),
                l["attempts"].as_i64(),
                l["lastOutcome"].as_str()
            ),
            (Some("RETRY"), Some(1), Some("SERVER_RESTART")),
            "{l}"
        );
    }
    // Offered, never dialed: back as it was.
    assert_eq!(f.call(&offer).await["state"], "ENDED");
    let l = f.lead(&preview, "+12025550204").await;
    assert_eq!(
        (l["status"].as_str(), l["attempts"].as_i64()),
        (Some("NEW"), Some(0)),
        "{l}"
    );
    // What was written before the kill is there.
    let c = f.call(&short).await;
    assert_eq!(c["outcome"], "COMPLETED", "{c}");
    let steps: Vec<&str> = c["events"]
        .as_array()
        .expect("events")
        .iter()
        .filter_map(|e| e["step"].as_str())
        .collect();
    for step in ["DIALING", "TONE", "CONNECTED", "ENDED"] {
        assert!(steps.contains(&step), "{steps:?}");
    }
    // Everyone OFFLINE, no pinned leg; owed wrap-ups kept.
    for (agent, owes) in [(0, Some(&short)), (1, Some(&long)), (2, None), (3, None)] {
        let p = f.presence(agent).await;
        assert_eq!(
            (p["status"].as_str(), &p["pinnedLeg"]),
            (Some("OFFLINE"), &Value::Null),
            "{p}"
        );
        assert_eq!(
            p["wrapUpCall"]["id"].as_str(),
            owes.map(String::as_str),
            "agent{}: {p}",
            agent + 1
        );
    }
    // A wrap-up owed from before the restart can be submitted while
    // still OFFLINE (the web app shows it before the agent goes
    // Available); the agent stays OFFLINE.
    let done = second
        .ok(
            Some(&f.agents[0]),
            "mutation($c:ID!){submitWrapUp(input:{callId:$c,dispositionCode:\"NOT_INTERESTED\"}){presence{status wrapUpCall{id}}}}",
            json!({"c": short}),
        )
        .await;
    assert_eq!(
        done["submitWrapUp"]["presence"],
        json!({"status": "OFFLINE", "wrapUpCall": null}),
        "{done}"
    );
    let p = f.presence(0).await;
    assert_eq!(
        (p["status"].as_str(), &p["wrapUpCall"]),
        (Some("OFFLINE"), &Value::Null),
        "{p}"
    );
    // Coming back: the wrap-up first, then calls again.
    f.state(&progressive, "pauseCampaign").await;
    f.state(&preview, "startCampaign").await;
    assert_eq!(f.available(1).await["status"], "WRAP_UP");
    second
        .ok(
            Some(&f.agents[1]),
            "mutation($c:ID!){submitWrapUp(input:{callId:$c,dispositionCode:\"NOT_INTERESTED\"}){presence{status}}}",
            json!({"c": long}),
        )
        .await;
    let p = f
        .wait_for(1, "agent2 offered the released lead", |p| {
            p["offeredCall"]["id"].is_string()
        })
        .await;
    assert_ne!(
        id(&p["offeredCall"]),
        offer,
        "a new offer for the released lead"
    );
    // Nobody dialed anything twice.
    tokio::time::sleep(Duration::from_secs(1)).await;
    for (campaign, phone) in [
        (&progressive, "+12025550201"),
        (&progressive, "+12025550202"),
        (&progressive, "+12025550203"),
        (&preview, "+12025550204"),
    ] {
        let l = f.lead(campaign, phone).await;
        assert!(l["attempts"].as_i64() <= Some(1), "{l}");
    }
    assert!(second.stop().await);
    if let Some(url) = db_url {
        pg::drop_database(&url).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_mid_campaign_on_sqlite() {
    killed_mid_campaign(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_mid_campaign_on_postgres() {
    killed_mid_campaign(Backend::Postgres).await;
}

/// SIGTERM with a call connected: the server ends it at once — the lead's
/// leg hung up, the end and its talk time written, ENDED published to the
/// agent and the supervisor on their open websockets — sets the agent
/// OFFLINE owing the wrap-up, closes the sockets with 1001 and exits
/// cleanly within the drain time. The next start has nothing to mend.
async fn stopped_with_sigterm(backend: Backend) {
    let (dir, db_url) = data_for(backend).await;
    let args = demo_args(["--drain-secs", "5"]);
    let first = Served::start(dir.path(), db_url.as_deref(), &args).await;
    let password = first.password.clone().expect("demo logins");
    let f = sign_in(&first, &password).await;
    let ws_url = format!("{}/graphql/ws", first.url.replacen("http", "ws", 1));
    let mut agent = WsClient::signed_in(&ws_url, &f.agents[0]).await;
    agent
        .subscribe(
            "a",
            "subscription { agentEvents { __typename ... on CallEvent { step call { id } } } }",
        )
        .await;
    let mut sup = WsClient::signed_in(&ws_url, &f.sup).await;
    sup.subscribe(
        "s",
        &format!(
            "subscription {{ callEvents(contactCenterId: \"{}\") {{ step call {{ id }} }} }}",
            f.cc
        ),
    )
    .await;
    let campaign = f.campaign("PROGRESSIVE").await;
    f.add(&campaign, lead("+12025550211", "human", 1, 600))
        .await;
    f.available(0).await;
    let p = f
        .wait_for(0, "agent1 on a call", |p| {
            p["activeCall"]["state"] == "CONNECTED"
        })
        .await;
    let call = id(&p["activeCall"]);
    tokio::time::sleep(Duration::from_millis(1500)).await;

    let stopped = std::time::Instant::now();
    let signalled = chrono::Utc::now();
    let exit = tokio::spawn(first.stop());
    // Each socket hears the call end, then the close with 1001.
    for (ws, id, field) in [
        (&mut agent, "a", "agentEvents"),
        (&mut sup, "s", "callEvents"),
    ] {
        let mut ended = false;
        let close = loop {
            match ws.next(Duration::from_secs(10)).await {
                Ok(v) => {
                    let e = &v["payload"]["data"][field];
                    if v["id"] == id && e["step"] == "ENDED" && e["call"]["id"] == call.as_str() {
                        ended = true;
                    }
                }
                Err(close) => break close,
            }
        };
        assert!(ended, "{field}: no ENDED before the close ({close})");
        assert!(close.starts_with("closed 1001"), "{field}: {close}");
    }
    assert!(exit.await.expect("joined"), "a clean exit");
    assert!(
        stopped.elapsed() < Duration::from_secs(7),
        "stopped in {:?} (drain 5 s)",
        stopped.elapsed()
    );

    let second = Served::start(dir.path(), db_url.as_deref(), &args).await;
    let f = sign_in(&second, &password).await;
    let c = f.call(&call).await;
    assert_eq!(
        (c["state"].as_str(), c["outcome"].as_str()),
        (Some("ENDED"), Some("SERVER_RESTART")),
        "{c}"
    );
    let ended = time_of(&c, "endedAt");
    let after_signal = (ended - signalled).num_milliseconds();
    assert!(
        (0..2_000).contains(&after_signal),
        "ended {after_signal} ms after the signal: {c}"
    );
    let talk = c["talkSeconds"].as_f64().expect("talk");
    assert!(talk >= 1.4, "talk {talk}: {c}");
    let steps: Vec<&str> = c["events"]
        .as_array()
        .expect("events")
        .iter()
        .filter_map(|e| e["step"].as_str())
        .collect();
    assert_eq!(steps.last(), Some(&"ENDED"), "{steps:?}");
    let p = f.presence(0).await;
    assert_eq!(
        (p["status"].as_str(), p["wrapUpCall"]["id"].as_str()),
        (Some("OFFLINE"), Some(call.as_str())),
        "{p}"
    );
    let l = f.lead(&campaign, "+12025550211").await;
    assert_eq!(l["status"], "RETRY", "{l}");
    assert!(second.stop().await);
    if let Some(url) = db_url {
        pg::drop_database(&url).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stopped_with_sigterm_on_sqlite() {
    stopped_with_sigterm(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stopped_with_sigterm_on_postgres() {
    stopped_with_sigterm(Backend::Postgres).await;
}
