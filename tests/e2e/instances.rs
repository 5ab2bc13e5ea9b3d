//! Several instances on one PostgreSQL database: what one publishes, the
//! others' subscribers receive (`events/pg.rs`), and an ended session ends
//! on every instance.

use std::time::{Duration, Instant};

use chrono::Utc;
use futures::StreamExt;
use pinline::events::pg::PgBus;
use pinline::events::{Event, EventBus, EventKind, Revoked};
use pinline::metrics::Metrics;
use pinline::store::outbox::{self, OutboxRow};
use pinline::store::{Db, DbTarget};
use pinline_tests::ws::WsClient;
use pinline_tests::{Backend, TestServer, on_both_backends, pg};
use serde_json::json;

fn user_changed(id: &str) -> Event {
    Event {
        organization_id: "org".into(),
        at: Utc::now(),
        kind: EventKind::UserChanged { user_id: id.into() },
    }
}

/// An event larger than a notification may carry (8,000 bytes).
fn large(id: &str) -> Event {
    Event {
        organization_id: "org".into(),
        at: Utc::now(),
        kind: EventKind::ContactCenterChanged {
            contact_center_id: format!("{id}-{}", "x".repeat(20_000)),
        },
    }
}

fn id_of(e: &Event) -> String {
    match &e.kind {
        EventKind::UserChanged { user_id } => user_id.clone(),
        EventKind::ContactCenterChanged { contact_center_id } => {
            contact_center_id.split('-').next().unwrap_or("").to_owned()
        }
        other => format!("{other:?}"),
    }
}

async fn next_within(stream: &mut futures::stream::BoxStream<'static, Event>) -> Option<Event> {
    tokio::time::timeout(Duration::from_secs(5), stream.next())
        .await
        .ok()
        .flatten()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_reach_every_instance_in_order_large_ones_too() {
    let url = pg::fresh_database().await;
    let db = Db::connect(&DbTarget::Postgres(url.clone()), 4)
        .await
        .expect("db");
    // A bus sends only while another instance beats.
    for who in ["instance-a", "instance-b"] {
        let now = Utc::now().naive_utc();
        pinline::store::heartbeats::beat(&db, who, now, now, &Default::default())
            .await
            .expect("beat");
    }
    let metrics_a = Metrics::new("postgresql");
    let metrics_b = Metrics::new("postgresql");
    let a = PgBus::start(&db, "instance-a".into(), 256, metrics_a.bus.clone());
    let b = PgBus::start(&db, "instance-b".into(), 256, metrics_b.bus.clone());
    let mut on_a = a.subscribe();
    let mut on_b = b.subscribe();
    let mut revoked_on_b = b.subscribe_revocations();
    // Both listen before anything is sent (LISTEN is not retroactive).
    let started = Instant::now();
    loop {
        a.publish(user_changed("probe"));
        if tokio::time::timeout(Duration::from_millis(200), on_b.next())
            .await
            .is_ok()
        {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "B never heard A"
        );
    }
    while tokio::time::timeout(Duration::from_millis(300), on_b.next())
        .await
        .is_ok()
    {}
    while tokio::time::timeout(Duration::from_millis(10), on_a.next())
        .await
        .is_ok()
    {}

    let sent: Vec<Event> = (0..60)
        .map(|i| {
            if i % 20 == 7 {
                large(&format!("big{i}"))
            } else {
                user_changed(&format!("e{i}"))
            }
        })
        .collect();
    for e in &sent {
        a.publish(e.clone());
    }
    let want: Vec<String> = sent.iter().map(id_of).collect();
    let mut got_b = Vec::new();
    while got_b.len() < want.len() {
        match next_within(&mut on_b).await {
            Some(e) => got_b.push(id_of(&e)),
            None => break,
        }
    }
    assert_eq!(got_b, want, "B receives A's events, in A's order");
    let mut got_a = Vec::new();
    while let Ok(Some(e)) = tokio::time::timeout(Duration::from_millis(500), on_a.next()).await {
        got_a.push(id_of(&e));
    }
    assert_eq!(got_a, want, "A's own subscribers get each event once");
    let rendered = metrics_b.render();
    assert!(
        rendered.contains("pinline_bus_events_received_total"),
        "{rendered}"
    );

    // Revocations cross too (every socket of an ended session closes).
    a.publish(Event {
        organization_id: "org".into(),
        at: Utc::now(),
        kind: EventKind::AccessRevoked(Revoked::User {
            user_id: "u1".into(),
        }),
    });
    let r = tokio::time::timeout(Duration::from_secs(5), revoked_on_b.next())
        .await
        .expect("in time");
    assert_eq!(
        r,
        Some(Revoked::User {
            user_id: "u1".into()
        })
    );

    // Alone (no other heartbeat), an instance sends nothing: its events
    // stay with its own subscribers.
    pinline::store::heartbeats::take_last(&db)
        .await
        .expect("forget beats");
    tokio::time::sleep(Duration::from_millis(1500)).await;
    for stream in [&mut on_a, &mut on_b] {
        while tokio::time::timeout(Duration::from_millis(100), stream.next())
            .await
            .is_ok()
        {}
    }
    let sent = metrics_a.bus.sent.get();
    a.publish(user_changed("alone"));
    let mine = next_within(&mut on_a).await.expect("still delivered here");
    assert_eq!(id_of(&mine), "alone");
    let heard = tokio::time::timeout(Duration::from_secs(1), on_b.next()).await;
    assert!(heard.is_err(), "nothing sent: {heard:?}");
    assert_eq!(metrics_a.bus.sent.get(), sent);
    drop((a, b));
    pg::drop_database(&url).await;
}

/// A second server on the first one's database.
async fn second_instance(first: &TestServer) -> TestServer {
    let shared = first.database_url.clone();
    TestServer::start_with(Backend::Postgres, move |c| c.database_url = Some(shared)).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn subscribers_and_sessions_span_instances() {
    let a = TestServer::start(Backend::Postgres).await;
    a.seed_demo().await;
    let b = second_instance(&a).await;

    // An admin watching the directory on B sees a change made through A.
    let admin = a.login_demo("admin").await;
    let mut watch = WsClient::signed_in(&b.ws_url(), &admin).await;
    watch
        .subscribe("d", "subscription { directoryEvents { change userId } }")
        .await;
    let agent_id = a
        .ok(
            Some(&admin),
            "{ users(first: 50) { edges { node { id email } } } }",
            json!({}),
        )
        .await["users"]["edges"]
        .as_array()
        .expect("users")
        .iter()
        .find(|e| e["node"]["email"] == "agent2@demo.pinline.test")
        .map(|e| e["node"]["id"].as_str().expect("id").to_owned())
        .expect("agent2");
    // The subscription is live once the first change arrives: retry the
    // change until it does (LISTEN and the subscription start async).
    let started = Instant::now();
    let got = loop {
        a.ok(
            Some(&admin),
            "mutation($i: UpdateUserInput!) { updateUser(input: $i) { user { id } } }",
            json!({"i": {"id": agent_id, "name": format!("Agent Two {}", started.elapsed().as_millis())}}),
        )
        .await;
        match watch.next_data("d", Duration::from_millis(500)).await {
            Ok(v) => break v,
            Err(e) if e == "timeout" && started.elapsed() < Duration::from_secs(10) => continue,
            Err(e) => panic!("no directory event on B: {e}"),
        }
    };
    assert_eq!(
        got["data"]["directoryEvents"]["userId"], agent_id,
        "the change made on A, seen on B: {got}"
    );

    // Logging out on A closes the session's socket on B within a second.
    let agent = a.login_demo("agent1").await;
    let mut ws = WsClient::signed_in(&b.ws_url(), &agent).await;
    ws.subscribe("1", "subscription { agentEvents { __typename } }")
        .await;
    let _ = ws.next(Duration::from_secs(2)).await;
    a.ok(Some(&agent), "mutation { logout }", json!({})).await;
    let ended = Instant::now();
    let closed = ws.until_closed(Duration::from_secs(3)).await;
    assert!(
        matches!(&closed, Err(e) if e.starts_with("closed 4403")),
        "{closed:?}"
    );
    assert!(
        ended.elapsed() < Duration::from_secs(1),
        "{:?}",
        ended.elapsed()
    );
    b.finish().await;
    a.finish().await;
}

on_both_backends!(
    an_owed_webhook_is_claimed_by_one_sender,
    the_server_running_a_center_is_named
);

async fn run_by(srv: &TestServer, token: &str, cc: &str) -> serde_json::Value {
    srv.ok(Some(token), RUN_BY, json!({"cc": cc})).await["contactCenter"]["runBy"].clone()
}

const RUN_BY: &str = "query($cc:ID!){contactCenter(id:$cc){runBy{id name thisServer}}}";

/// `ContactCenter.runBy` names the server running the center (alone:
/// this one; its id when it has no name), `servers` lists the servers on
/// the database (admins), and neither is an agent's to read.
async fn the_server_running_a_center_is_named(srv: TestServer) {
    srv.seed_demo().await;
    let admin = srv.login_demo("admin").await;
    let agent = srv.login_demo("agent1").await;
    let cc = pinline_tests::dialer::first_contact_center(&srv, &admin).await;
    let mut run_by = json!(null);
    // PostgreSQL: the lease of a center just made is taken within a second.
    for _ in 0..40 {
        run_by = self::run_by(&srv, &admin, &cc).await;
        if !run_by.is_null() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        run_by,
        json!({"id": srv.app.instance, "name": srv.app.instance, "thisServer": true})
    );
    let servers = srv
        .ok(Some(&admin), "{ servers { id thisServer } }", json!({}))
        .await;
    assert_eq!(
        servers["servers"],
        json!([{"id": srv.app.instance, "thisServer": true}])
    );
    for (query, vars) in [
        (RUN_BY, json!({"cc": cc})),
        ("{ servers { id } }", json!({})),
    ] {
        let refused = srv.gql(Some(&agent), query, vars).await;
        assert_eq!(
            refused["errors"][0]["extensions"]["code"], "FORBIDDEN",
            "{refused}"
        );
    }
    srv.finish().await;
}

/// Several senders (instances) claiming the outbox at once: every row
/// goes to exactly one of them.
async fn an_owed_webhook_is_claimed_by_one_sender(srv: TestServer) {
    srv.seed_demo().await;
    let admin = srv.login_demo("admin").await;
    srv.ok(
        Some(&admin),
        "mutation { createWebhookEndpoint(input: {name: \"CRM\", url: \"http://127.0.0.1:9/hook\"}) { endpoint { id } } }",
        json!({}),
    )
    .await;
    let db = &srv.app.db;
    let user = pinline::store::users::with_email(db, "admin@demo.pinline.test", 1)
        .await
        .expect("users")
        .pop()
        .expect("admin");
    let endpoint = pinline::store::follow_ups::endpoints_of(db, &user.organization_id)
        .await
        .expect("endpoints")
        .pop()
        .expect("the endpoint");
    // Due tomorrow: the server's own sender leaves them alone; the
    // claimers below look from tomorrow.
    let tomorrow = Utc::now().naive_utc() + chrono::Duration::days(1);
    let rows: Vec<OutboxRow> = (0..60)
        .map(|i| OutboxRow {
            id: format!("msg-{i:02}"),
            organization_id: user.organization_id.clone(),
            endpoint_id: endpoint.id.clone(),
            event: "test".into(),
            payload: "{}".into(),
            created_at: tomorrow,
            next_attempt_at: tomorrow,
            attempts: 0,
            delivered_at: None,
            last_error: None,
        })
        .collect();
    outbox::add(db, &rows).await.expect("rows");
    let hold = tomorrow + chrono::Duration::minutes(5);
    let claimer = |db: Db| async move {
        let mut mine = Vec::new();
        loop {
            let got = outbox::claim_due(&db, tomorrow, 4, hold)
                .await
                .expect("claim");
            if got.is_empty() {
                return mine;
            }
            mine.extend(got.into_iter().map(|r| r.id));
        }
    };
    let (a, b, c) = tokio::join!(
        tokio::spawn(claimer(db.clone())),
        tokio::spawn(claimer(db.clone())),
        tokio::spawn(claimer(db.clone()))
    );
    let (a, b, c) = (a.expect("a"), b.expect("b"), c.expect("c"));
    let mut all: Vec<String> = a.iter().chain(&b).chain(&c).cloned().collect();
    all.sort();
    let want: Vec<String> = rows.iter().map(|r| r.id.clone()).collect();
    assert_eq!(
        all,
        want,
        "each row claimed once ({} / {} / {})",
        a.len(),
        b.len(),
        c.len()
    );
    // Held: not due again until the hold passes, then due to one sender.
    assert!(
        outbox::claim_due(db, tomorrow, 100, hold)
            .await
            .expect("claim")
            .is_empty()
    );
    let again = outbox::claim_due(db, hold, 100, hold + chrono::Duration::minutes(5))
        .await
        .expect("claim");
    assert_eq!(again.len(), rows.len());
    srv.finish().await;
}

/// A fresh PostgreSQL database with the demo seeded, and no server on it.
async fn demo_database() -> (String, Db) {
    let url = pg::fresh_database().await;
    let db = Db::connect(&DbTarget::Postgres(url.clone()), 4)
        .await
        .expect("db");
    pinline::bootstrap::seed_demo(&db, Some(pinline_tests::DEMO_PASSWORD))
        .await
        .expect("seeded");
    (url, db)
}

async fn demo_user(db: &Db, who: &str) -> pinline::store::models::User {
    pinline::store::users::with_email(db, &format!("{who}@demo.pinline.test"), 1)
        .await
        .expect("users")
        .pop()
        .expect("a demo user")
}

/// Leases spread contact centers over the live instances, move to another
/// instance when their owner stops renewing (under a new epoch, naming
/// the owner it was taken from), and the fence refuses the old owner's
/// writes from then on; a write under way holds a taking off until it
/// ends.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn leases_spread_move_on_and_fence_the_old_owner() {
    use pinline::cluster::{Keeper, LeaseConfig};
    use pinline::store::{StoreError, heartbeats, leases};

    // A database of its own, without a server (whose heartbeat would
    // count as one more instance): the demo's center and two more.
    let (url, db) = demo_database().await;
    let db = &db;
    let org = demo_user(db, "admin").await.organization_id;
    let demo = pinline::store::contact_centers::list(db, &org, None, None, 10)
        .await
        .expect("centers")
        .items
        .pop()
        .expect("the demo center");
    for name in ["North", "South"] {
        let now = Utc::now().naive_utc();
        let cc = pinline::store::models::ContactCenter {
            id: pinline::store::new_id(),
            name: name.into(),
            created_at: now,
            updated_at: now,
            ..demo.clone()
        };
        let audit = pinline::store::models::AuditEntry {
            id: pinline::store::new_id(),
            organization_id: cc.organization_id.clone(),
            actor_id: None,
            action: "test".into(),
            subject_id: cc.id.clone(),
            detail: "{}".into(),
            created_at: now,
        };
        pinline::store::contact_centers::insert(db, cc, audit)
            .await
            .expect("center");
    }
    let cfg = LeaseConfig {
        ttl: Duration::from_secs(2),
        renew_every: Duration::from_millis(200),
    };
    let beat = |who: &'static str| async move {
        let now = Utc::now().naive_utc();
        heartbeats::beat(db, who, now, now, &Default::default())
            .await
            .expect("beat");
    };
    let mut a = Keeper::new(db.clone(), "instance-a".into(), cfg);
    beat("instance-a").await;
    a.step(|_| true).await.expect("a");
    let (centers, live) = leases::census(db, "instance-a", cfg.ttl, &[])
        .await
        .expect("census");
    assert_eq!((centers, live), (3, 1), "a lease row for each center");
    assert_eq!(a.held().len(), 3, "alone, A takes them all");

    let mut b = Keeper::new(db.clone(), "instance-b".into(), cfg);
    beat("instance-b").await;
    b.step(|_| true).await.expect("b");
    a.step(|_| true)
        .await
        .expect("a gives back what is over its share");
    b.step(|_| true).await.expect("b takes it");
    let held_a: Vec<String> = a.held().keys().cloned().collect();
    let held_b: Vec<String> = b.held().keys().cloned().collect();
    assert_eq!(
        (held_a.len(), held_b.len()),
        (2, 1),
        "{held_a:?} / {held_b:?}"
    );
    assert!(held_a.iter().all(|c| !held_b.contains(c)), "one owner each");
    let holders = leases::holders(db).await.expect("holders");
    for (center, owner, epoch) in &holders {
        let mine = if owner == "instance-a" {
            a.held()
        } else {
            b.held()
        };
        assert_eq!(mine.get(center), Some(epoch), "{holders:?}");
    }

    let (center, epoch) = a
        .held()
        .iter()
        .next()
        .map(|(c, e)| (c.clone(), *e))
        .expect("held");
    leases::check_fence(db, &center, epoch)
        .await
        .expect("A's epoch passes");

    // A stops renewing (paused): after the TTL, B takes A's centers under
    // new epochs and knows whom from.
    // A write of A's under way (its fence holds the lease row) when the
    // lease expires: B does not take that center until the write ends.
    use diesel_async::{AsyncConnection, AsyncPgConnection, SimpleAsyncConnection};
    let mut writing = AsyncPgConnection::establish(&url).await.expect("connect");
    writing
        .batch_execute(&format!(
            "BEGIN; SELECT pinline_fence('{center}', {epoch});"
        ))
        .await
        .expect("A's write begins");
    tokio::time::sleep(cfg.ttl + Duration::from_millis(300)).await;
    beat("instance-b").await;
    b.step(|_| true).await.expect("b");
    assert!(
        !b.held().contains_key(&center),
        "not taken while A's write is under way"
    );
    writing
        .batch_execute("COMMIT")
        .await
        .expect("A's write ends");
    b.step(|_| true).await.expect("b");
    assert!(
        held_a.iter().all(|c| b.held().contains_key(c)),
        "B holds A's centers: {:?}",
        b.held()
    );
    assert_eq!(b.held().get(&center), Some(&(epoch + 1)), "a new epoch");
    let from: Vec<Option<String>> = b
        .taken_over()
        .into_iter()
        .map(|l| l.previous_owner)
        .collect();
    assert!(from.contains(&Some("instance-a".into())), "{from:?}");
    // A's writes under the old epoch are refused; B's pass.
    let refused = leases::check_fence(db, &center, epoch).await;
    assert!(
        matches!(refused, Err(StoreError::LeaseLost(_))),
        "{refused:?}"
    );
    leases::check_fence(db, &center, epoch + 1)
        .await
        .expect("B's epoch passes");
    // A pacing claim under the old epoch is refused whole: no lead is left
    // DIALING by an owner that lost its lease between deciding and
    // claiming. Under B's epoch it goes through.
    let campaign = pinline::store::campaigns::list(db, &org, None, None, None, 1)
        .await
        .expect("campaigns")
        .items
        .pop()
        .expect("the demo campaign");
    let zones = pinline::store::claims::zones_of_campaign(db, &campaign.id)
        .await
        .expect("zones");
    let claim = |epoch: i64| {
        let fence = pinline::store::calls::Fence {
            contact_center_id: center.clone(),
            epoch,
        };
        let (campaign, zones) = (&campaign, &zones);
        async move {
            let spec = pinline::store::claims::ClaimSpec {
                organization_id: &campaign.organization_id,
                campaign_id: &campaign.id,
                now: Utc::now().naive_utc(),
                open_zones: zones,
                max_attempts: 10,
                abandoned_after: None,
                limit: 2,
                fence: Some(&fence),
            };
            pinline::store::claims::claim(db, &spec).await
        }
    };
    let stale = claim(epoch).await;
    assert!(matches!(stale, Err(StoreError::LeaseLost(_))), "{stale:?}");
    let dialing = pinline::store::leads::count_by_status(db, &campaign.id)
        .await
        .expect("counts");
    assert!(
        !dialing.iter().any(|(s, n)| s == "DIALING" && *n > 0),
        "{dialing:?}"
    );
    let fresh = claim(epoch + 1).await.expect("B's claim");
    assert!(!fresh.is_empty(), "the demo campaign has leads to claim");
    // A wakes: its renewal finds the centers gone, and it holds nothing.
    a.step(|_| false).await.expect("a");
    assert!(
        held_a.iter().all(|c| !a.held().contains_key(c)),
        "A let go: {:?}",
        a.held()
    );
    drop((a, b));
    pg::drop_database(&url).await;
}

/// A holder that missed its heartbeats is asked who it is at its address:
/// refused there, or another instance answering, means its process is
/// gone and its centers are taken at once (not after the lease time),
/// named as taken from it; a holder that answers as itself, or whose
/// address does not answer in time (a pause, a partition), keeps them
/// until its lease runs out; a holder still beating is not asked.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_gone_holder_is_found_out_and_its_centers_taken_at_once() {
    use pinline::cluster::{Keeper, LeaseConfig, Probed, probe};
    use pinline::store::heartbeats::{self, Said};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    // Addresses: one that refuses; one that accepts and never answers;
    // one where "holder" answers; one where another instance does.
    let refusing = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        format!("http://{}", l.local_addr().expect("addr"))
    };
    let silent = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let silent_url = format!("http://{}", silent.local_addr().expect("addr"));
    let answering = |id: &'static str| async move {
        let l = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let url = format!("http://{}", l.local_addr().expect("addr"));
        tokio::spawn(async move {
            while let Ok((mut s, _)) = l.accept().await {
                let mut buf = [0u8; 1024];
                let _ = s.read(&mut buf).await;
                let reply = format!(
                    "HTTP/1.1 200 OK\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{id}",
                    id.len()
                );
                let _ = s.write_all(reply.as_bytes()).await;
            }
        });
        url
    };
    let holder_url = answering("holder").await;
    let other_url = answering("someone-else").await;
    let client = reqwest::Client::builder()
        .timeout(Duration::from_millis(500))
        .build()
        .expect("client");
    assert_eq!(probe(&client, &refusing, "holder").await, Probed::Gone);
    assert_eq!(probe(&client, &other_url, "holder").await, Probed::Gone);
    assert_eq!(probe(&client, &holder_url, "holder").await, Probed::Alive);
    assert_eq!(probe(&client, &silent_url, "holder").await, Probed::Unknown);

    // The demo's one center, held by "holder" for a minute.
    let (url, db) = demo_database().await;
    let db = &db;
    let cfg = LeaseConfig {
        ttl: Duration::from_secs(60),
        renew_every: Duration::from_millis(200),
    };
    let beat = |who: &'static str, ago: i64, url: &str| {
        let said = Said {
            url: Some(url.to_owned()),
            name: None,
        };
        async move {
            let at = Utc::now().naive_utc() - chrono::Duration::seconds(ago);
            heartbeats::beat(db, who, at, at, &said)
                .await
                .expect("beat");
        }
    };
    let mut holder = Keeper::new(db.clone(), "holder".into(), cfg);
    holder.step(|_| true).await.expect("holder");
    assert_eq!(holder.held().len(), 1);
    let mut other = Keeper::new(db.clone(), "other".into(), cfg);
    let takes = |other: &mut Keeper| {
        let taken = other.taken_over();
        assert!(taken.len() <= 1);
        taken.into_iter().next()
    };
    beat("other", 0, "http://127.0.0.1:9").await;

    // Still beating, its address refusing (it may be leaving): not asked.
    beat("holder", 0, &refusing).await;
    other.step(|_| true).await.expect("other");
    assert!(
        takes(&mut other).is_none(),
        "a beating holder keeps its centers"
    );
    // Silent, but answering as itself (only slow): kept.
    beat("holder", 5, &holder_url).await;
    other.step(|_| true).await.expect("other");
    assert!(
        takes(&mut other).is_none(),
        "an answering holder keeps them"
    );
    // Silent and not answering in time (paused, cut off): kept.
    beat("holder", 5, &silent_url).await;
    other.step(|_| true).await.expect("other");
    assert!(takes(&mut other).is_none(), "no answer is no proof");
    // Silent, and another instance answers at its address (a restart
    // there): gone, its center taken now, named as taken from it.
    beat("holder", 5, &other_url).await;
    let started = Instant::now();
    other.step(|_| true).await.expect("other");
    let lease = takes(&mut other).expect("taken at once");
    assert_eq!(lease.previous_owner.as_deref(), Some("holder"));
    assert!(started.elapsed() < Duration::from_secs(2));
    assert_eq!(other.held().len(), 1);
    // And nothing is left for the gone one: its renewal finds it lost.
    holder.step(|_| true).await.expect("holder");
    assert!(holder.held().is_empty());
    drop(silent);
    pg::drop_database(&url).await;
}

/// The engine's writes for a center carry the epoch of its lease: a group
/// made under an epoch that has moved on is refused whole.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_group_under_a_lost_lease_is_refused_whole() {
    use pinline::store::calls::{self, EngineWrite, Fence, Kept};
    use pinline::store::{StoreError, leases, presence};

    let (url, db) = demo_database().await;
    let db = &db;
    let agent = demo_user(db, "agent1").await;
    let cc = pinline::store::contact_centers::ids_of_member(db, &agent.id)
        .await
        .expect("centers")
        .pop()
        .expect("a center");
    let status_write = |status: &str| {
        let now = Utc::now().naive_utc();
        EngineWrite::Presence(Box::new(pinline::store::models::Presence {
            user_id: agent.id.clone(),
            organization_id: agent.organization_id.clone(),
            contact_center_id: Some(cc.clone()),
            status: status.into(),
            reason: None,
            since: now,
            pending_wrap_up_call_id: None,
            updated_at: now,
        }))
    };
    let status = || async {
        presence::get(db, &agent.id)
            .await
            .expect("presence")
            .map(|p| p.status)
    };
    leases::add_missing(db).await.expect("rows");
    let ttl = Duration::from_secs(10);
    let first = leases::take(db, "instance-a", ttl, 10).await.expect("take");
    let epoch = first
        .iter()
        .find(|l| l.contact_center_id == cc)
        .expect("A holds the center")
        .epoch;
    let under = |epoch: i64| Fence {
        contact_center_id: cc.clone(),
        epoch,
    };
    let ready = status_write("READY");
    calls::save_all_kept(db, &mut Kept::default(), Some(&under(epoch)), &[&ready])
        .await
        .expect("written under A's epoch");
    assert_eq!(status().await.as_deref(), Some("READY"));

    // B takes the center over: A's group under the old epoch is refused,
    // and nothing of it is written.
    leases::release(db, "instance-a", std::slice::from_ref(&cc))
        .await
        .expect("release");
    let taken = leases::take(db, "instance-b", ttl, 10).await.expect("take");
    assert!(
        taken
            .iter()
            .any(|l| l.contact_center_id == cc && l.epoch == epoch + 1)
    );
    let on_break = status_write("BREAK");
    let refused =
        calls::save_all_kept(db, &mut Kept::default(), Some(&under(epoch)), &[&on_break]).await;
    assert!(
        matches!(refused, Err(StoreError::LeaseLost(_))),
        "{refused:?}"
    );
    assert_eq!(status().await.as_deref(), Some("READY"), "nothing written");
    calls::save_all_kept(
        db,
        &mut Kept::default(),
        Some(&under(epoch + 1)),
        &[&on_break],
    )
    .await
    .expect("written under B's epoch");
    assert_eq!(status().await.as_deref(), Some("BREAK"));
    pg::drop_database(&url).await;
}

/// Who holds `center`'s lease now.
async fn holder_of(db: &Db, center: &str) -> Option<String> {
    pinline::store::leases::holders(db)
        .await
        .expect("holders")
        .into_iter()
        .find(|(c, _, _)| c == center)
        .map(|(_, owner, _)| owner)
}

/// Wait (at most `within`) until `who` holds `center`'s lease.
async fn until_held(db: &Db, center: &str, who: &str, within: Duration) {
    let started = Instant::now();
    while holder_of(db, center).await.as_deref() != Some(who) {
        assert!(
            started.elapsed() < within,
            "{who} did not take {center} within {within:?} (held by {:?})",
            holder_of(db, center).await
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

const SET_STATUS: &str = "mutation($cc:ID!,$s:AgentStatus!){setAgentStatus(input:{contactCenterId:$cc,status:$s}){presence{status}}}";

/// Two clustered servers on one PostgreSQL: the center runs on the one
/// holding its lease, and a command sent to the other gets the owner's
/// answer (forwarded); when the holder stops renewing (paused), the other
/// takes the center after the lease time, recovers it (its agent OFFLINE)
/// and runs it, while the paused one's write is refused by the fence and
/// its engine for the center stops (its commands then go to the new
/// owner); a clean give-back moves the center at once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clustered_servers_run_each_center_where_its_lease_is() {
    use pinline::cluster::LeaseConfig;
    let lease = LeaseConfig {
        ttl: Duration::from_secs(2),
        renew_every: Duration::from_millis(200),
    };
    let a = TestServer::start_with(Backend::Postgres, |c| {
        c.leases = lease;
        c.instance_name = Some("server-a".into());
    })
    .await;
    a.seed_demo().await;
    let admin = a.login_demo("admin").await;
    let cc = pinline_tests::dialer::first_contact_center(&a, &admin).await;
    let db = a.app.db.clone();
    until_held(&db, &cc, &a.app.instance, Duration::from_secs(5)).await;
    let shared = a.database_url.clone();
    let b = TestServer::start_with(Backend::Postgres, move |c| {
        c.database_url = Some(shared);
        c.leases = lease;
        c.instance_name = Some("server-b".into());
    })
    .await;
    let agent = a.login_demo("agent1").await;
    let status = |s: &str| json!({"cc": cc, "s": s});
    let on_a = a.ok(Some(&agent), SET_STATUS, status("AVAILABLE")).await;
    assert_eq!(on_a["setAgentStatus"]["presence"]["status"], "AVAILABLE");
    // B does not run the center: its commands get A's answers.
    let on_b = b.ok(Some(&agent), SET_STATUS, status("BREAK")).await;
    assert_eq!(on_b["setAgentStatus"]["presence"]["status"], "BREAK");
    let p = a
        .ok(Some(&agent), "{ myPresence { status } }", json!({}))
        .await;
    assert_eq!(p["myPresence"]["status"], "BREAK", "done by A: {p}");
    let floor = b
        .ok(
            Some(&admin),
            "query($cc:ID!){agentFloor(contactCenterId:$cc){status}}",
            json!({"cc": cc}),
        )
        .await;
    assert_eq!(floor["agentFloor"], json!([{"status": "BREAK"}]));
    // Either server names the one running the center.
    let by = run_by(&b, &admin, &cc).await;
    assert_eq!(
        (&by["name"], &by["thisServer"]),
        (&json!("server-a"), &json!(false))
    );
    assert_eq!(run_by(&a, &admin, &cc).await["thisServer"], true);
    let servers = b
        .ok(Some(&admin), "{ servers { name thisServer } }", json!({}))
        .await;
    let mut names: Vec<(String, bool)> = servers["servers"]
        .as_array()
        .expect("servers")
        .iter()
        .map(|s| {
            (
                s["name"].as_str().unwrap_or_default().to_owned(),
                s["thisServer"].as_bool().unwrap_or_default(),
            )
        })
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            ("server-a".to_owned(), false),
            ("server-b".to_owned(), true)
        ]
    );
    let info = reqwest::get(format!("{}/metrics", b.url))
        .await
        .expect("metrics")
        .text()
        .await
        .expect("text");
    assert!(info.contains(r#"name="server-b""#), "{info}");
    assert!(b.app.metrics.leases.forwarded.get() >= 2);
    assert_eq!(a.app.metrics.leases.forwarded.get(), 0);
    a.ok(Some(&agent), SET_STATUS, status("AVAILABLE")).await;
    let ready = reqwest::get(format!("{}/readyz", a.url))
        .await
        .expect("readyz")
        .text()
        .await
        .expect("text");
    assert!(ready.contains("1 contact centers leased here"), "{ready}");

    // Nobody without the shared secret drives an engine through the
    // internal route.
    let forged = r#"{"center":"x","command":{"SessionEnded":{"agent_id":"y"}}}"#;
    for signature in [None, Some("00"), Some("zz")] {
        let mut req = reqwest::Client::new()
            .post(format!("{}/internal/engine", a.url))
            .body(forged);
        if let Some(sig) = signature {
            req = req.header("x-pinline-signature", sig);
        }
        let status = req.send().await.expect("sent").status();
        assert_eq!(status, reqwest::StatusCode::FORBIDDEN, "{signature:?}");
    }

    // A stops renewing (its keeper held, as a paused process's would be).
    let leases_a = a.app.leases.clone().expect("clustered");
    let paused = leases_a.lock().await;
    until_held(
        &db,
        &cc,
        &b.app.instance,
        lease.ttl + Duration::from_secs(3),
    )
    .await;
    // B recovered the center: the agent A had is OFFLINE there.
    let p = b
        .ok(Some(&agent), "{ myPresence { status reason } }", json!({}))
        .await;
    assert_eq!(p["myPresence"]["status"], "OFFLINE", "{p}");
    assert_eq!(run_by(&a, &admin, &cc).await["name"], "server-b");
    // A still thinks it runs the center: its write is refused by the
    // fence, and nothing of it lands.
    let late = a.gql(Some(&agent), SET_STATUS, status("BREAK")).await;
    assert_eq!(
        late["errors"][0]["extensions"]["code"], "UNAVAILABLE",
        "{late}"
    );
    let user = pinline::store::users::with_email(&db, "agent1@demo.pinline.test", 1)
        .await
        .expect("users")
        .pop()
        .expect("agent1");
    let row = pinline::store::presence::get(&db, &user.id)
        .await
        .expect("presence")
        .expect("a row");
    assert_eq!(row.status, "OFFLINE", "A's write did not land");
    // A's engine for the center stopped: A sends its commands to B.
    let via_a = a.ok(Some(&agent), SET_STATUS, status("AVAILABLE")).await;
    assert_eq!(via_a["setAgentStatus"]["presence"]["status"], "AVAILABLE");
    let on_b = b
        .ok(Some(&agent), "{ myPresence { status } }", json!({}))
        .await;
    assert_eq!(on_b["myPresence"]["status"], "AVAILABLE", "B runs it");
    // A wakes and holds nothing.
    drop(paused);
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert!(leases_a.lock().await.held().is_empty());

    // B gives its leases back (a clean stop): A takes the center at once,
    // not after the lease time.
    let given = Instant::now();
    b.app.release_leases().await;
    until_held(&db, &cc, &a.app.instance, Duration::from_secs(2)).await;
    assert!(given.elapsed() < lease.ttl, "{:?}", given.elapsed());
    let on_a = a.ok(Some(&agent), SET_STATUS, status("AVAILABLE")).await;
    assert_eq!(on_a["setAgentStatus"]["presence"]["status"], "AVAILABLE");
    b.finish().await;
    a.finish().await;
}

/// Several instances on one database: an import RUNNING on a live
/// instance is left alone when another starts; one whose instance died
/// (no heartbeat for the lease time), or that names none, is taken — and,
/// its upload never stored whole, FAILED.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_a_dead_instances_imports_are_taken() {
    use pinline::store::{heartbeats, imports};
    let (url, db) = demo_database().await;
    let admin = demo_user(&db, "admin").await;
    let campaign =
        pinline::store::campaigns::list(&db, &admin.organization_id, None, None, None, 1)
            .await
            .expect("campaigns")
            .items
            .pop()
            .expect("the demo campaign");
    let now = Utc::now().naive_utc();
    heartbeats::beat(&db, "alive", now, now, &Default::default())
        .await
        .expect("beat");
    let long_ago = now - chrono::Duration::minutes(5);
    heartbeats::beat(&db, "dead", long_ago, long_ago, &Default::default())
        .await
        .expect("beat");
    let job = |name: &str| {
        imports::ImportJob::running(&admin.organization_id, &campaign.id, None, name, 10)
    };
    let (mine, theirs) = (job("alive.csv"), job("dead.csv"));
    imports::insert(&db, &mine, "alive").await.expect("job");
    imports::insert(&db, &theirs, "dead").await.expect("job");
    let since = now - chrono::Duration::seconds(10);
    let taken = imports::take_orphans(&db, "me", Some(since))
        .await
        .expect("swept");
    assert!(taken.is_empty(), "nothing to carry on: {taken:?}");
    let state = |id: String| {
        let db = db.clone();
        async move {
            imports::get(&db, &id)
                .await
                .expect("get")
                .expect("job")
                .state
        }
    };
    assert_eq!(state(mine.id.clone()).await, "RUNNING");
    assert_eq!(state(theirs.id.clone()).await, "FAILED");
    // A server starting on PostgreSQL leaves the live instance's import be.
    let srv = TestServer::start_with(Backend::Postgres, |c| {
        c.database_url = Some(url.clone());
    })
    .await;
    assert_eq!(state(mine.id.clone()).await, "RUNNING");
    srv.finish().await;
    // A server alone (SQLite) fails whatever was running.
    imports::take_orphans(&db, "me", None).await.expect("all");
    assert_eq!(state(mine.id).await, "FAILED");
    pg::drop_database(&url).await;
}

/// The log-in limits hold across servers sharing one PostgreSQL: failures
/// on an account spread over two servers lock it on both, and attempts
/// from one address count together whichever server takes them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_limits_hold_across_servers() {
    use pinline_tests::error_code;
    let a = TestServer::start_with(Backend::Postgres, |c| c.login_ip_limit.max = 8).await;
    a.seed_demo().await;
    let shared = a.database_url.clone();
    let b = TestServer::start_with(Backend::Postgres, move |c| {
        c.database_url = Some(shared);
        c.login_ip_limit.max = 8;
    })
    .await;
    let servers = [&a, &b];
    // Five failures on one account, alternating servers (the limit: 5).
    for i in 0..5 {
        let body = servers[i % 2]
            .try_login("agent3@demo.pinline.test", "wrong-password")
            .await;
        assert_eq!(error_code(&body).as_deref(), Some("UNAUTHENTICATED"));
    }
    for srv in servers {
        let body = srv
            .try_login("agent3@demo.pinline.test", pinline_tests::DEMO_PASSWORD)
            .await;
        assert_eq!(error_code(&body).as_deref(), Some("RATE_LIMITED"), "{body}");
        let retry = body["errors"][0]["extensions"]["retryAfterSeconds"]
            .as_u64()
            .expect("retry after");
        assert!(retry > 0 && retry <= 15 * 60, "{retry}");
    }
    // Another account opens (the address has made 6 counted attempts).
    b.login_demo("agent4").await;
    for srv in servers {
        let body = srv
            .try_login("nobody@demo.pinline.test", "x-wrong-pw")
            .await;
        assert_eq!(error_code(&body).as_deref(), Some("UNAUTHENTICATED"));
    }
    // The address's eighth counted attempt was the last: refused on both.
    for srv in servers {
        let body = srv
            .try_login("agent5@demo.pinline.test", pinline_tests::DEMO_PASSWORD)
            .await;
        assert_eq!(error_code(&body).as_deref(), Some("RATE_LIMITED"), "{body}");
    }
    b.finish().await;
    a.finish().await;
}
