//! Three `pinline serve` processes on one PostgreSQL behind a
//! real load balancer (Debian's HAProxy, started by the test, websockets
//! through it): the contact centers spread over the three, a request that
//! lands on a server not running its center gets the owner's answer, a
//! subscriber sees what another server did, a SIGSTOPped owner is fenced
//! off and rejoins after SIGCONT, a SIGKILLed owner's center is
//! taken over within the lease time and its agent carries on through the
//! balancer, and a SIGTERM hands the leases over at once. Killed
//! mid-campaign with an agent on a call, the owner's center is taken and
//! the agents get calls again; nothing is dialed twice, lost or left open
//! (calls, wrap-ups, webhooks).

use std::path::PathBuf;
use std::time::{Duration, Instant};

use pinline::store::{Db, DbTarget, leases};
use pinline_tests::serve::Served;
use pinline_tests::{pg, ws::WsClient};
use serde_json::{Value, json};

const SECRET: &str = "cluster-test-secret-0123456789abcdef";
/// Longer than a killed server's takeover takes (its address refuses:
/// its centers are taken about two seconds after its last heartbeat), so
/// the test tells the two apart.
const LEASE_SECS: u64 = 6;

fn haproxy_bin() -> PathBuf {
    [
        "/usr/sbin/haproxy",
        "/usr/local/sbin/haproxy",
        "/usr/bin/haproxy",
    ]
    .iter()
    .map(PathBuf::from)
    .find(|p| p.is_file())
    .unwrap_or_else(|| PathBuf::from("haproxy"))
}

struct Balancer {
    url: String,
    _child: Option<tokio::process::Child>,
    _dir: tempfile::TempDir,
}

/// HAProxy in front of `backends`, checking each one's `/readyz`, with
/// websockets tunnelled and a request to a dead server sent to another.
async fn haproxy(backends: &[&str]) -> Balancer {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("a free port")
        .local_addr()
        .expect("addr")
        .port();
    let servers: String = backends
        .iter()
        .enumerate()
        .map(|(i, url)| {
            format!(
                "    server s{i} {} check inter 300ms fall 1 rise 1\n",
                url.trim_start_matches("http://")
            )
        })
        .collect();
    let cfg = format!(
        "global\n    maxconn 2000\n\
         defaults\n    mode http\n    timeout connect 1s\n    timeout client 60s\n    \
         timeout server 60s\n    timeout tunnel 1h\n    retries 3\n    option redispatch\n\
         frontend fe\n    bind 127.0.0.1:{port}\n    default_backend be\n\
         backend be\n    balance roundrobin\n    option httpchk GET /readyz\n{servers}"
    );
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("haproxy.cfg");
    std::fs::write(&path, cfg).expect("config");
    let child = tokio::process::Command::new(haproxy_bin())
        .arg("-db")
        .arg("-f")
        .arg(&path)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("haproxy starts (./dev test installs it)");
    let url = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::new();
    let started = Instant::now();
    loop {
        let up = client.get(format!("{url}/healthz")).send().await;
        if up.is_ok_and(|r| r.status().is_success()) {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "haproxy is not up"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Balancer {
        url,
        _child: Some(child),
        _dir: dir,
    }
}

async fn gql(url: &str, token: Option<&str>, query: &str, variables: Value) -> Value {
    pinline_tests::serve::gql_at(&reqwest::Client::new(), url, token, query, variables).await
}

async fn ok(url: &str, token: Option<&str>, query: &str, variables: Value) -> Value {
    let body = gql(url, token, query, variables).await;
    assert!(body.get("errors").is_none(), "{body:#}\nquery: {query}");
    body["data"].clone()
}

/// The instance id a server says in `/readyz`.
pub(crate) async fn instance_of(s: &Served) -> String {
    let text = s
        .client
        .get(format!("{}/readyz", s.url))
        .send()
        .await
        .expect("readyz")
        .text()
        .await
        .expect("text");
    text.split("instance ")
        .nth(1)
        .and_then(|r| r.split(':').next())
        .unwrap_or_else(|| panic!("no instance in {text:?}"))
        .to_owned()
}

/// Wait until `check` holds of the lease holders, at most `within`.
async fn until_holders(
    db: &Db,
    within: Duration,
    what: &str,
    check: impl Fn(&[(String, String, i64)]) -> bool,
) -> Duration {
    let started = Instant::now();
    loop {
        let holders = leases::holders(db).await.expect("holders");
        if check(&holders) {
            return started.elapsed();
        }
        assert!(started.elapsed() < within, "{what}: {holders:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

const STATUS: &str = "mutation($cc:ID!,$s:AgentStatus!){setAgentStatus(input:{contactCenterId:$cc,status:$s}){presence{status}}}";
const PRESENCE: &str = "{ myPresence { status } }";

/// Three `serve` processes on a fresh database, each on an
/// address of its own (a restart keeps it: the balancer knows it), the
/// demo seeded with two more contact centers (three in all), behind
/// HAProxy.
struct Cluster {
    db_url: String,
    db: Db,
    dirs: Vec<tempfile::TempDir>,
    listen: Vec<String>,
    args: Vec<String>,
    servers: Vec<Served>,
    ids: Vec<String>,
    password: String,
    lb: Balancer,
}

impl Cluster {
    async fn start() -> Cluster {
        Self::start_with(&[]).await
    }

    /// [`Cluster::start`], every server with `extra` arguments too.
    async fn start_with(extra: &[&str]) -> Cluster {
        let db_url = pg::fresh_database().await;
        let db = Db::connect(&DbTarget::Postgres(db_url.clone()), 2)
            .await
            .expect("db");
        let dirs: Vec<tempfile::TempDir> =
            (0..3).map(|_| tempfile::tempdir().expect("dir")).collect();
        let listen: Vec<String> = (0..3)
            .map(|_| {
                let port = std::net::TcpListener::bind("127.0.0.1:0")
                    .expect("a free port")
                    .local_addr()
                    .expect("addr")
                    .port();
                format!("127.0.0.1:{port}")
            })
            .collect();
        let args: Vec<String> = [
            "--lease-secs",
            &LEASE_SECS.to_string(),
            "--jwt-secret",
            SECRET,
            "--demo-agents",
            "0",
            "--demo-days",
            "0",
        ]
        .iter()
        .chain(extra)
        .map(|a| a.to_string())
        .collect();
        let mut c = Cluster {
            db_url,
            db,
            dirs,
            listen,
            args,
            servers: Vec::new(),
            ids: Vec::new(),
            password: String::new(),
            lb: Balancer {
                url: String::new(),
                _child: None,
                _dir: tempfile::tempdir().expect("dir"),
            },
        };
        let first = c.serve(0, &["--seed-demo"]).await;
        c.password = first.password.clone().expect("the demo logins");
        let admin = first.login("admin@demo.pinline.test", &c.password).await;
        for name in ["East", "West"] {
            first
                .ok(
                    Some(&admin),
                    "mutation($n:String!){createContactCenter(input:{name:$n}){contactCenter{id}}}",
                    json!({"n": name}),
                )
                .await;
        }
        c.servers.push(first);
        for i in 1..3 {
            let s = c.serve(i, &[]).await;
            c.servers.push(s);
        }
        for s in &c.servers {
            c.ids.push(instance_of(s).await);
        }
        c.lb = haproxy(&c.listen.iter().map(String::as_str).collect::<Vec<_>>()).await;
        c
    }

    /// Server `i` (started, or restarted on its data dir and address).
    async fn serve(&self, i: usize, extra: &[&str]) -> Served {
        let mut args: Vec<&str> = self.args.iter().map(String::as_str).collect();
        args.extend_from_slice(extra);
        Served::start_at(
            &self.listen[i],
            self.dirs[i].path(),
            Some(&self.db_url),
            &args,
        )
        .await
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_servers_behind_haproxy_share_centers_and_survive_a_kill() {
    let c = Cluster::start().await;
    let Cluster {
        db_url,
        db,
        mut servers,
        mut ids,
        password,
        lb,
        ..
    } = c;
    // The three centers spread over the three servers.
    until_holders(&db, Duration::from_secs(15), "one center each", |h| {
        let mut owners: Vec<&str> = h.iter().map(|(_, o, _)| o.as_str()).collect();
        owners.sort();
        owners.dedup();
        h.len() == 3 && owners.len() == 3
    })
    .await;

    // Through the balancer (round robin: each request on another server),
    // every answer is the owner's.
    let agent = ok(
        &lb.url,
        None,
        "mutation($e:String!,$p:String!){login(input:{email:$e,password:$p}){token}}",
        json!({"e": "agent1@demo.pinline.test", "p": password}),
    )
    .await["login"]["token"]
        .as_str()
        .expect("token")
        .to_owned();
    let cc = ok(
        &lb.url,
        Some(&agent),
        "{ contactCenters { edges { node { id name } } } }",
        json!({}),
    )
    .await["contactCenters"]["edges"][0]["node"]["id"]
        .as_str()
        .expect("the demo center")
        .to_owned();
    let status = |s: &str| json!({"cc": cc, "s": s});
    for (i, s) in ["AVAILABLE", "BREAK", "AVAILABLE"].iter().enumerate() {
        let set = ok(&lb.url, Some(&agent), STATUS, status(s)).await;
        assert_eq!(set["setAgentStatus"]["presence"]["status"], *s, "#{i}");
        for _ in 0..3 {
            let p = ok(&lb.url, Some(&agent), PRESENCE, json!({})).await;
            assert_eq!(p["myPresence"]["status"], *s, "read after set #{i}");
        }
    }
    // A subscriber, on whichever server the balancer gave it, sees the
    // change made on whichever server took the request.
    let ws_url = format!("{}/graphql/ws", lb.url.replacen("http", "ws", 1));
    let mut ws = WsClient::signed_in(&ws_url, &agent).await;
    ws.subscribe(
        "p",
        "subscription { agentEvents { ... on PresenceChanged { presence { status } } } }",
    )
    .await;
    ok(&lb.url, Some(&agent), STATUS, status("BREAK")).await;
    let seen = loop {
        let got = ws
            .next_data("p", Duration::from_secs(5))
            .await
            .expect("an event");
        if got["data"]["agentEvents"]["presence"]["status"] == "BREAK" {
            break got;
        }
    };
    assert_eq!(seen["data"]["agentEvents"]["presence"]["status"], "BREAK");

    // SIGSTOP the owner past its lease: another takes the center over;
    // the agent's status set there stands after SIGCONT (the old owner's
    // engine for it is fenced off), and the woken one rejoins as an
    // ordinary server (the centers spread over the three again).
    let owner_of = |h: &[(String, String, i64)]| {
        h.iter()
            .find(|(c, _, _)| *c == cc)
            .map(|(_, o, _)| o.clone())
    };
    let paused_id = owner_of(&leases::holders(&db).await.expect("holders")).expect("held");
    let paused = ids
        .iter()
        .position(|i| *i == paused_id)
        .expect("one of ours");
    servers[paused].signal("-STOP");
    until_holders(
        &db,
        Duration::from_secs(LEASE_SECS + 8),
        "taken from the paused owner",
        |h| owner_of(h).is_some_and(|o| o != paused_id),
    )
    .await;
    let set = loop {
        let r = gql(&lb.url, Some(&agent), STATUS, status("AVAILABLE")).await;
        if r.get("errors").is_none() {
            break r;
        }
        assert_eq!(r["errors"][0]["extensions"]["code"], "UNAVAILABLE", "{r}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(
        set["data"]["setAgentStatus"]["presence"]["status"],
        "AVAILABLE"
    );
    servers[paused].signal("-CONT");
    until_holders(
        &db,
        Duration::from_secs(LEASE_SECS + 8),
        "spread again",
        |h| {
            let mut owners: Vec<&str> = h.iter().map(|(_, o, _)| o.as_str()).collect();
            owners.sort();
            owners.dedup();
            h.len() == 3 && owners.len() == 3
        },
    )
    .await;
    for _ in 0..3 {
        let p = ok(&lb.url, Some(&agent), PRESENCE, json!({})).await;
        let s = p["myPresence"]["status"].clone();
        // AVAILABLE, or OFFLINE if the center moved on again; never the
        // paused owner's BREAK.
        assert!(s == "AVAILABLE" || s == "OFFLINE", "{p}");
    }

    // SIGKILL the owner: its address refuses, so a survivor takes the
    // center once it has missed two heartbeats (not after the lease
    // time), and the agent carries on through the balancer.
    let owner = leases::holders(&db)
        .await
        .expect("holders")
        .into_iter()
        .find(|(c, _, _)| *c == cc)
        .map(|(_, o, _)| o)
        .expect("held");
    let dead = ids.iter().position(|i| *i == owner).expect("one of ours");
    servers.remove(dead).kill().await;
    ids.remove(dead);
    let killed = Instant::now();
    let took = until_holders(
        &db,
        Duration::from_secs(LEASE_SECS + 8),
        "the center taken over",
        |h| h.iter().any(|(c, o, _)| *c == cc && ids.contains(o)),
    )
    .await;
    println!("center taken over {took:?} after the SIGKILL (lease {LEASE_SECS} s)");
    assert!(
        took < Duration::from_millis(4500),
        "a killed server is found gone before its lease runs out: {took:?}"
    );
    let back = loop {
        let r = gql(&lb.url, Some(&agent), STATUS, status("AVAILABLE")).await;
        if r.get("errors").is_none() {
            break r;
        }
        assert_eq!(r["errors"][0]["extensions"]["code"], "UNAVAILABLE", "{r}");
        assert!(
            killed.elapsed() < Duration::from_secs(LEASE_SECS + 10),
            "{r}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(
        back["data"]["setAgentStatus"]["presence"]["status"],
        "AVAILABLE"
    );
    // Every center is run again, by the two left.
    until_holders(
        &db,
        Duration::from_secs(LEASE_SECS + 8),
        "all three held",
        |h| h.len() == 3 && h.iter().all(|(_, o, _)| ids.contains(o)),
    )
    .await;

    // SIGTERM one of the two: it hands its leases over, taken at once
    // (not after the lease time) by the last one.
    let leaving = servers.remove(0);
    let left = ids.remove(0);
    let stopping = Instant::now();
    assert!(leaving.stop().await, "a clean exit");
    let handed = until_holders(
        &db,
        Duration::from_secs(LEASE_SECS + 8),
        "all three on the last server",
        |h| h.len() == 3 && h.iter().all(|(_, o, _)| *o == ids[0]),
    )
    .await;
    assert!(
        handed < Duration::from_secs(LEASE_SECS),
        "handed over {handed:?} after {left} exited ({:?} in all)",
        stopping.elapsed()
    );
    let p = ok(&lb.url, Some(&agent), PRESENCE, json!({})).await;
    assert!(p["myPresence"]["status"].is_string(), "{p}");
    drop(lb);
    for s in servers {
        s.kill().await;
    }
    pg::drop_database(&db_url).await;
}

/// Sign `who` in through the balancer.
async fn sign_in(lb: &str, who: &str, password: &str) -> String {
    ok(
        lb,
        None,
        "mutation($e:String!,$p:String!){login(input:{email:$e,password:$p}){token}}",
        json!({"e": format!("{who}@demo.pinline.test"), "p": password}),
    )
    .await["login"]["token"]
        .as_str()
        .expect("token")
        .to_owned()
}

/// The first contact center `token` sees (the demo's), through `lb`.
async fn first_center(lb: &str, token: &str) -> String {
    ok(
        lb,
        Some(token),
        "{ contactCenters { edges { node { id } } } }",
        json!({}),
    )
    .await["contactCenters"]["edges"][0]["node"]["id"]
        .as_str()
        .expect("the demo center")
        .to_owned()
}

/// `query` through the balancer, sent again while the center changes
/// hands (UNAVAILABLE); the answer, or the error it settled on.
async fn settled(lb: &str, token: &str, query: &str, variables: Value) -> Value {
    let deadline = Instant::now() + Duration::from_secs(LEASE_SECS + 15);
    loop {
        let r = gql(lb, Some(token), query, variables.clone()).await;
        if r["errors"][0]["extensions"]["code"] != "UNAVAILABLE" {
            return r;
        }
        assert!(Instant::now() < deadline, "unavailable too long: {r}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// One round of an agent's work through the balancer: a call owed a
/// wrap-up is wrapped up (its id added to `wrapped`), an agent left
/// OFFLINE (their center moved) goes Available again. The status seen.
async fn work(lb: &str, token: &str, cc: &str, wrapped: &mut Vec<String>) -> String {
    let p = settled(
        lb,
        token,
        "{ myPresence { status wrapUpCall { id } } }",
        json!({}),
    )
    .await;
    let presence = &p["data"]["myPresence"];
    if let Some(call) = presence["wrapUpCall"]["id"].as_str() {
        let r = settled(
            lb,
            token,
            "mutation($c:ID!){submitWrapUp(input:{callId:$c,dispositionCode:\"INTERESTED\"}){wrapUp{id}}}",
            json!({"c": call}),
        )
        .await;
        // A CONFLICT: an answer lost in the takeover, the wrap-up written.
        let code = &r["errors"][0]["extensions"]["code"];
        assert!(r.get("errors").is_none() || code == "CONFLICT", "{r}");
        if !wrapped.iter().any(|c| c == call) {
            wrapped.push(call.to_owned());
        }
    } else if presence["status"] == "OFFLINE" {
        let r = settled(lb, token, STATUS, json!({"cc": cc, "s": "AVAILABLE"})).await;
        assert!(r.get("errors").is_none(), "{r}");
    }
    presence["status"].as_str().unwrap_or_default().to_owned()
}

/// SIGKILL the owner of a center mid-campaign, an agent on a call: a
/// survivor takes the center, the agents carry on through the balancer
/// and get calls again; at the end no lead was in two calls at once,
/// every call ended with one outcome, every wrap-up submitted is written
/// once, and every webhook it owed was delivered.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_owner_mid_campaign_loses_nothing() {
    use pinline_tests::receiver::{Receiver, free_port};
    let Cluster {
        db_url,
        db,
        mut servers,
        mut ids,
        password,
        lb: balancer,
        ..
    } = Cluster::start().await;
    let lb = balancer.url.clone();
    let admin = sign_in(&lb, "admin", &password).await;
    let sup = sign_in(&lb, "supervisor", &password).await;
    let agents = [
        sign_in(&lb, "agent1", &password).await,
        sign_in(&lb, "agent2", &password).await,
    ];
    let receiver = Receiver::start(free_port().await, &[]).await;
    let endpoint = ok(
        &lb,
        Some(&admin),
        "mutation($u:String!){createWebhookEndpoint(input:{name:\"CRM\",url:$u}){endpoint{id}}}",
        json!({"u": format!("{}/hook", receiver.url())}),
    )
    .await["createWebhookEndpoint"]["endpoint"]["id"]
        .clone();
    let cc = first_center(&lb, &sup).await;
    let campaign = ok(
        &lb,
        Some(&sup),
        "mutation($i:CreateCampaignInput!){createCampaign(input:$i){campaign{id}}}",
        json!({"i": {"contactCenterId": cc, "name": "Failover", "callerId": "+14155550100", "dialMode": "PROGRESSIVE"}}),
    )
    .await["createCampaign"]["campaign"]["id"]
        .as_str()
        .expect("campaign")
        .to_owned();
    ok(
        &lb,
        Some(&sup),
        "mutation($i:AddFollowUpRuleInput!){addFollowUpRule(input:$i){id}}",
        json!({"i": {"campaignId": campaign, "action": "WEBHOOK", "endpointId": endpoint}}),
    )
    .await;
    let leads: Vec<Value> = (0..30)
        .map(|i| {
            let mut l =
                pinline_tests::dialer::lead(&format!("+1202555{:04}", 700 + i), "human", 1, 2);
            l["timeZone"] = json!(pinline::bench::engine::daytime_zone());
            l["timeZoneVerified"] = json!(true);
            l
        })
        .collect();
    ok(
        &lb,
        Some(&sup),
        "mutation($i:AddLeadsInput!){addLeads(input:$i){added}}",
        json!({"i": {"campaignId": campaign, "leads": leads}}),
    )
    .await;
    ok(
        &lb,
        Some(&sup),
        "mutation($c:ID!){startCampaign(input:{campaignId:$c}){campaign{state}}}",
        json!({"c": campaign}),
    )
    .await;
    for a in &agents {
        let r = settled(&lb, a, STATUS, json!({"cc": cc, "s": "AVAILABLE"})).await;
        assert!(r.get("errors").is_none(), "{r}");
    }

    // Calls come and are wrapped up; the owner is killed while an agent
    // is on one.
    let mut wrapped = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let mut on_call = false;
        for a in &agents {
            on_call |= work(&lb, a, &cc, &mut wrapped).await == "ON_CALL";
        }
        if on_call && wrapped.len() >= 2 {
            break;
        }
        assert!(Instant::now() < deadline, "no calls: {wrapped:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let owner = leases::holder(&db, &cc)
        .await
        .expect("holder")
        .expect("held");
    let dead = ids.iter().position(|i| *i == owner).expect("one of ours");
    servers.remove(dead).kill().await;
    ids.remove(dead);
    let before = wrapped.len();
    println!("killed the owner with {before} calls wrapped up, one live");

    // The agents get calls again from the server that took the center.
    let deadline = Instant::now() + Duration::from_secs(LEASE_SECS + 60);
    while wrapped.len() < before + 3 {
        for a in &agents {
            work(&lb, a, &cc, &mut wrapped).await;
        }
        assert!(
            Instant::now() < deadline,
            "no calls after the takeover: {wrapped:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let taker = leases::holder(&db, &cc)
        .await
        .expect("holder")
        .expect("held");
    assert!(ids.contains(&taker), "held by a live server");
    ok(
        &lb,
        Some(&sup),
        "mutation($c:ID!){pauseCampaign(input:{campaignId:$c}){campaign{state}}}",
        json!({"c": campaign}),
    )
    .await;
    // What is still owed is wrapped up (calls in flight end first).
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let mut busy = false;
        for a in &agents {
            let s = work(&lb, a, &cc, &mut wrapped).await;
            busy |= s == "ON_CALL" || s == "WRAP_UP";
        }
        if !busy {
            break;
        }
        assert!(Instant::now() < deadline, "agents still busy");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // Every webhook owed is delivered.
    let owed = |sql: &str| count(&db_url, sql);
    let deadline = Instant::now() + Duration::from_secs(30);
    while owed("SELECT count(*) FROM outbox WHERE delivered_at IS NULL") > 0 {
        assert!(Instant::now() < deadline, "webhooks left undelivered");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    for s in servers {
        assert!(s.stop().await, "a clean exit");
    }

    let calls = owed("SELECT count(*) FROM calls");
    let overlapping = owed(
        "SELECT count(*) FROM calls a JOIN calls b ON a.lead_id = b.lead_id AND a.id < b.id \
         WHERE a.dialed_at IS NOT NULL AND b.dialed_at IS NOT NULL \
           AND a.dialed_at < COALESCE(b.ended_at, now()) AND b.dialed_at < COALESCE(a.ended_at, now())",
    );
    assert!(calls > before as i64, "calls after the takeover");
    assert_eq!(overlapping, 0, "a lead in two calls at once");
    assert_eq!(
        owed("SELECT count(*) FROM calls WHERE state <> 'ENDED'"),
        0,
        "a call left open"
    );
    assert_eq!(
        owed("SELECT count(*) FROM calls WHERE outcome IS NULL"),
        0,
        "a call without an outcome"
    );
    // Each wrap-up submitted is written, once.
    let listed = wrapped
        .iter()
        .map(|c| format!("'{c}'"))
        .collect::<Vec<_>>()
        .join(",");
    assert_eq!(
        owed(&format!(
            "SELECT count(*) FROM wrap_ups WHERE call_id IN ({listed})"
        )),
        wrapped.len() as i64
    );
    assert_eq!(
        owed(
            "SELECT count(*) FROM (SELECT call_id FROM wrap_ups GROUP BY call_id HAVING count(*) > 1) d"
        ),
        0,
        "a call wrapped up twice"
    );
    // One webhook per wrap-up, each delivered; a delivery is sent again
    // only when its sender died between the receiver's answer and its
    // record (the same Webhook-Id: receivers drop the repeat).
    let messages = owed("SELECT count(*) FROM outbox");
    assert_eq!(messages, owed("SELECT count(*) FROM wrap_ups"));
    let got = receiver.received();
    let mut seen: Vec<&str> = got.iter().filter_map(|r| r.header("webhook-id")).collect();
    seen.sort();
    let deliveries = seen.len();
    seen.dedup();
    assert_eq!(seen.len() as i64, messages, "every webhook delivered");
    println!("{messages} webhooks, {deliveries} deliveries, {calls} calls");
    assert!(
        deliveries <= seen.len() + 1,
        "{deliveries} deliveries of {messages}"
    );
    drop(balancer);
    pg::drop_database(&db_url).await;
}

/// An agent whose websocket is on a server that does not run their
/// center stays on the floor when the center moves: the owner is killed
/// (the server holding the socket paused meanwhile, so the third takes
/// the center and learns of the socket from it), then the new owner is
/// stopped with SIGTERM (the center handed to the socket's server). Each
/// time the agent comes back Available by itself, with a pinned leg from
/// the new owner, and stays so past the grace a connection-less agent
/// gets.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agent_connected_elsewhere_stays_on_the_floor_when_their_center_moves() {
    const GRACE: u64 = 3;
    let Cluster {
        db_url,
        db,
        mut servers,
        ids,
        password,
        lb: balancer,
        ..
    } = Cluster::start_with(&["--agent-grace-secs", &GRACE.to_string()]).await;
    let agent = sign_in(&balancer.url, "agent1", &password).await;
    let cc = first_center(&balancer.url, &agent).await;
    let owner = leases::holder(&db, &cc)
        .await
        .expect("holder")
        .expect("held");
    let o = ids.iter().position(|i| *i == owner).expect("ours");
    let (w, x) = ((o + 1) % 3, (o + 2) % 3);
    // The socket on W; every request through W too.
    let ws_url = format!("{}/graphql/ws", servers[w].url.replacen("http", "ws", 1));
    let _socket = WsClient::signed_in(&ws_url, &agent).await;
    let w_url = servers[w].url.clone();
    let r = settled(&w_url, &agent, STATUS, json!({"cc": cc, "s": "AVAILABLE"})).await;
    assert!(r.get("errors").is_none(), "{r}");
    let presence = "{ myPresence { status pinnedLeg { id state } } }";
    // Available with a pinned leg, and still so after the grace.
    let back = |moved: &'static str, old_leg: Option<String>| {
        let (url, agent) = (w_url.clone(), agent.clone());
        async move {
            let deadline = Instant::now() + Duration::from_secs(LEASE_SECS + 15);
            let leg = loop {
                let p = settled(&url, &agent, presence, json!({})).await;
                let me = &p["data"]["myPresence"];
                let leg = me["pinnedLeg"]["id"].as_str().map(str::to_owned);
                if me["status"] == "AVAILABLE" && leg.is_some() && leg != old_leg {
                    break leg;
                }
                assert!(Instant::now() < deadline, "{moved}: not back: {p}");
                tokio::time::sleep(Duration::from_millis(200)).await;
            };
            tokio::time::sleep(Duration::from_secs(2 * GRACE + 1)).await;
            let p = settled(&url, &agent, presence, json!({})).await;
            assert_eq!(
                p["data"]["myPresence"]["status"], "AVAILABLE",
                "{moved}: past the grace: {p}"
            );
            assert_eq!(
                p["data"]["myPresence"]["pinnedLeg"]["id"].as_str(),
                leg.as_deref()
            );
            leg
        }
    };
    let first_leg =
        settled(&w_url, &agent, presence, json!({})).await["data"]["myPresence"]["pinnedLeg"]["id"]
            .as_str()
            .map(str::to_owned);
    assert!(first_leg.is_some());

    // SIGKILL the owner, W paused: X takes the center.
    servers[w].signal("-STOP");
    servers.remove(o).kill().await;
    let killed = Instant::now();
    until_holders(
        &db,
        Duration::from_secs(LEASE_SECS + 8),
        "taken by X",
        |h| h.iter().any(|(c, h, _)| *c == cc && *h == ids[x]),
    )
    .await;
    servers[if w > o { w - 1 } else { w }].signal("-CONT");
    println!("X took the center {:?} after the kill", killed.elapsed());
    let leg = back("killed", first_leg).await;

    // SIGTERM X: the center is handed to W.
    let x_now = if x > o { x - 1 } else { x };
    assert!(servers.remove(x_now).stop().await, "a clean exit");
    until_holders(
        &db,
        Duration::from_secs(LEASE_SECS + 8),
        "handed to W",
        |h| h.iter().any(|(c, h, _)| *c == cc && *h == ids[w]),
    )
    .await;
    back("handed over", leg).await;
    drop(balancer);
    for s in servers {
        s.kill().await;
    }
    pg::drop_database(&db_url).await;
}

/// A count over the database (psql, from the PostgreSQL install the
/// tests use), for the chaos loop's invariants.
pub(crate) fn count(db_url: &str, sql: &str) -> i64 {
    let out = std::process::Command::new("psql")
        .args(["-X", "-tA", "-c", sql, db_url])
        .output()
        .expect("psql runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .trim()
        .parse()
        .expect("a count")
}

/// By hand (`cargo test -p pinline-tests --test e2e -- --ignored
/// cluster::chaos --nocapture`): three servers behind HAProxy with the
/// demo campaign dialing, 20 rounds of SIGKILL of a random server and its
/// restart; each takeover timed. At the end (every server stopped
/// cleanly): no lead was in two calls at once, every call ended with one
/// outcome, every center was held by one live server throughout.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a chaos loop of several minutes, run by hand; figures in docs/benchmarks.md"]
async fn chaos() {
    let rounds: usize = std::env::var("CHAOS_ROUNDS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(20);
    let mut c = Cluster::start().await;
    let (db_url, db, password) = (c.db_url.clone(), c.db.clone(), c.password.clone());
    let lb_url = c.lb.url.clone();
    let sup = sign_in(&lb_url, "supervisor", &password).await;
    let agents = [
        sign_in(&lb_url, "agent1", &password).await,
        sign_in(&lb_url, "agent2", &password).await,
        sign_in(&lb_url, "agent3", &password).await,
    ];
    let cc = first_center(&lb_url, &sup).await;
    let campaign = ok(
        &lb_url,
        Some(&sup),
        "query($cc:ID!){campaigns(contactCenterId:$cc){edges{node{id}}}}",
        json!({"cc": cc}),
    )
    .await["campaigns"]["edges"][0]["node"]["id"]
        .as_str()
        .expect("the demo campaign")
        .to_owned();
    ok(
        &lb_url,
        Some(&sup),
        "mutation($c:ID!){startCampaign(input:{campaignId:$c}){campaign{state}}}",
        json!({"c": campaign}),
    )
    .await;
    // Agents go (or go back) Available, through the balancer, retrying
    // while their center changes hands.
    let available = |deadline: Duration| {
        let (url, cc, agents) = (lb_url.clone(), cc.clone(), agents.clone());
        async move {
            let started = Instant::now();
            for a in &agents {
                loop {
                    let r = gql(&url, Some(a), STATUS, json!({"cc": cc, "s": "AVAILABLE"})).await;
                    let code = r["errors"][0]["extensions"]["code"].clone();
                    if r.get("errors").is_none() || code == "CONFLICT" {
                        break; // Available, or on a call / in wrap-up.
                    }
                    assert_eq!(code, "UNAVAILABLE", "{r}");
                    assert!(started.elapsed() < deadline, "{r}");
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
            }
        }
    };
    available(Duration::from_secs(20)).await;
    let mut takeovers = Vec::new();
    let mut seed = 0x5eed_u64;
    for round in 0..rounds {
        tokio::time::sleep(Duration::from_secs(2)).await;
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let victim = (seed >> 33) as usize % c.servers.len();
        let dead = c.ids[victim].clone();
        let held_before = leases::holders(&db)
            .await
            .expect("holders")
            .iter()
            .filter(|(_, o, _)| *o == dead)
            .count();
        c.servers.remove(victim).kill().await;
        c.ids.remove(victim);
        let took = until_holders(
            &db,
            Duration::from_secs(LEASE_SECS + 10),
            "taken over",
            |h| h.len() == 3 && h.iter().all(|(_, o, _)| c.ids.contains(o)),
        )
        .await;
        if held_before > 0 {
            takeovers.push(took);
        }
        println!(
            "round {round}: killed a server holding {held_before} centers; all held again after {took:?}"
        );
        // It comes back on its data dir and address (the balancer's), as
        // a supervisor would restart it.
        let back = c.serve(victim, &[]).await;
        c.ids.insert(victim, instance_of(&back).await);
        c.servers.insert(victim, back);
        available(Duration::from_secs(LEASE_SECS + 15)).await;
    }
    // Every server stops cleanly: their calls end, written.
    for s in std::mem::take(&mut c.servers) {
        assert!(s.stop().await);
    }
    let calls = count(&db_url, "SELECT count(*) AS n FROM calls");
    let overlapping = count(
        &db_url,
        "SELECT count(*) AS n FROM calls a JOIN calls b ON a.lead_id = b.lead_id AND a.id < b.id \
         WHERE a.dialed_at IS NOT NULL AND b.dialed_at IS NOT NULL \
           AND a.dialed_at < COALESCE(b.ended_at, now()) AND b.dialed_at < COALESCE(a.ended_at, now())",
    );
    let open = count(
        &db_url,
        "SELECT count(*) AS n FROM calls WHERE state <> 'ENDED'",
    );
    let no_outcome = count(
        &db_url,
        "SELECT count(*) AS n FROM calls WHERE state = 'ENDED' AND outcome IS NULL",
    );
    takeovers.sort();
    let pct = |p: f64| {
        takeovers
            .get(((takeovers.len() as f64 - 1.0) * p).round() as usize)
            .copied()
            .unwrap_or_default()
    };
    println!(
        "{rounds} kills, {} of a server holding centers: takeover p50 {:?}, p99 {:?}, max {:?} (lease {LEASE_SECS} s); {calls} calls",
        takeovers.len(),
        pct(0.5),
        pct(0.99),
        takeovers.last().copied().unwrap_or_default()
    );
    assert!(calls > 0, "the campaign dialed");
    assert_eq!(overlapping, 0, "a lead in two calls at once");
    assert_eq!(open, 0, "a call left open");
    assert_eq!(no_outcome, 0, "an ended call without an outcome");
    drop(c);
    pg::drop_database(&db_url).await;
}
