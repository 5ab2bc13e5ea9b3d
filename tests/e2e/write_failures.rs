//! The database stops taking writes (a full disk, injected in the store)
//! at every step of a call's life, and the floor recovers without a
//! restart: memory and database agree again, the agent can hang up, take
//! a break and the next call; nobody was told what was not written; the
//! API answers `UNAVAILABLE` with `retryAfterSeconds` meanwhile.

use pinline::store;
use pinline_tests::dialer::{Floor, lead};
use pinline_tests::{Backend, engine_tests, error_code};
use serde_json::{Value, json};

engine_tests!(
    a_write_failing_at_each_step_leaves_the_floor_whole,
    a_full_disk_while_the_lead_hangs_up_then_space_back,
);

const HANG_UP: &str = "mutation($c:ID!){hangUp(input:{callId:$c})}";
const WRAP_UP: &str = "mutation($c:ID!){submitWrapUp(input:{callId:$c,dispositionCode:\"INTERESTED\",notes:\"ok\"}){presence{status}}}";
const STATUS: &str = "mutation($cc:ID!,$s:AgentStatus!){setAgentStatus(input:{contactCenterId:$cc,status:$s}){presence{status}}}";

/// Agent 0 sends `q` until it is done; every refusal meanwhile must be
/// `UNAVAILABLE` with a retry time (the clock moves a second between).
async fn until_done(f: &mut Floor, q: &str, v: Value) -> Value {
    for _ in 0..20 {
        let body = f.srv.gql(Some(&f.agents[0].token), q, v.clone()).await;
        let Some(code) = error_code(&body) else {
            return body["data"].clone();
        };
        assert_eq!(code, "UNAVAILABLE", "{body:#}");
        assert!(
            body["errors"][0]["extensions"]["retryAfterSeconds"].as_u64() >= Some(1),
            "{body:#}"
        );
        f.advance(1).await;
    }
    panic!("{q} never went through");
}

/// The engine holds nothing the database lacks, and the other way round.
async fn consistent(f: &Floor) {
    let db = &f.srv.app.db;
    let health = f.srv.app.engine.health().await.expect("engine");
    assert_eq!(health.backlog, 0, "writes still waiting");
    let mut open: Vec<String> = store::calls::open(db)
        .await
        .expect("calls")
        .into_iter()
        .map(|c| c.id)
        .collect();
    open.sort();
    assert_eq!(open, health.live_calls, "open calls: database vs engine");
    let agent = &f.agents[0].id;
    let mem = f
        .srv
        .app
        .engine
        .presence(agent)
        .await
        .expect("engine")
        .expect("known");
    let row = store::presence::get(db, agent)
        .await
        .expect("presence")
        .expect("row");
    assert_eq!(
        row.status,
        mem.status.as_str(),
        "presence: database vs engine"
    );
    let live_leads: Vec<String> = store::calls::open(db)
        .await
        .expect("calls")
        .into_iter()
        .filter_map(|c| c.lead_id)
        .collect();
    for lead in f.leads_of(&f.campaign).await {
        if lead["status"] == "DIALING" {
            let id = lead["id"].as_str().unwrap_or_default().to_owned();
            assert!(live_leads.contains(&id), "lead left DIALING: {lead}");
        }
    }
}

/// From Break: Available, one call, wrap-up, Break again; the call's id.
async fn one_call(f: &mut Floor) -> String {
    let cc = f.cc.clone();
    until_done(f, STATUS, json!({"cc": cc, "s": "AVAILABLE"})).await;
    let mut call = None;
    for _ in 0..30 {
        f.advance(1).await;
        let c = f.active_call(0).await;
        if c["state"] == "CONNECTED" {
            call = c["id"].as_str().map(str::to_owned);
            break;
        }
    }
    let call = call.expect("a call connected to the agent");
    f.advance(2).await;
    until_done(f, HANG_UP, json!({"c": call})).await;
    // A second hang-up answers the same (a retry after a lost answer).
    f.agent_ok(0, HANG_UP, json!({"c": call})).await;
    let done = until_done(f, WRAP_UP, json!({"c": call})).await;
    assert_eq!(done["submitWrapUp"]["presence"]["status"], "AVAILABLE");
    until_done(f, STATUS, json!({"cc": cc, "s": "BREAK"})).await;
    call
}

async fn a_write_failing_at_each_step_leaves_the_floor_whole(backend: Backend) {
    let leads: Vec<Value> = (0..40)
        .map(|i| lead(&format!("+1202555{:04}", 2000 + i), "human", 2, 600))
        .collect();
    let mut f = Floor::new(backend, json!({"dialMode": "PROGRESSIVE"}), leads, 1).await;
    f.start_campaign().await;
    f.set_status(0, "BREAK").await;
    // A clean call first: how many writes one takes.
    let db = f.srv.app.db.clone();
    let writes = db.writes();
    let before = writes.count();
    one_call(&mut f).await;
    let per_call = writes.count() - before;
    assert!(per_call >= 8, "a call writes its steps: {per_call}");
    consistent(&f).await;
    for n in 1..=per_call {
        f.srv.app.db.writes().fail_nth(n);
        let call = one_call(&mut f).await;
        // A write kept a moment ago is retried within a second; a call
        // dialed before the break ends within seconds.
        for _ in 0..10 {
            let h = f.srv.app.engine.health().await.expect("engine");
            if h.backlog == 0 && h.live_calls.is_empty() {
                break;
            }
            f.advance(1).await;
        }
        consistent(&f).await;
        let c = f.call(&call).await;
        assert_eq!(
            (c["state"].as_str(), c["outcome"].as_str()),
            (Some("ENDED"), Some("COMPLETED")),
            "write {n} failed: {c}"
        );
        assert_eq!(
            c["wrapUp"]["dispositionCode"], "INTERESTED",
            "write {n}: {c}"
        );
        // What was published for the call is what was written, in order.
        let steps = f.steps_of(&call);
        let written: Vec<String> = c["events"]
            .as_array()
            .expect("events")
            .iter()
            .filter_map(|e| e["step"].as_str().map(str::to_owned))
            .collect();
        let logged: Vec<&String> = steps
            .iter()
            .filter(|s| !matches!(s.as_str(), "WRAP_UP_REQUIRED" | "WRAPPED_UP"))
            .collect();
        assert_eq!(
            logged,
            written.iter().collect::<Vec<_>>(),
            "write {n}: published vs written"
        );
    }
    f.finish().await;
}

async fn a_full_disk_while_the_lead_hangs_up_then_space_back(backend: Backend) {
    let leads = vec![
        lead("+12025553001", "human", 2, 8),
        lead("+12025553002", "human", 2, 600),
    ];
    let mut f = Floor::new(backend, json!({"dialMode": "PROGRESSIVE"}), leads, 1).await;
    f.start_campaign().await;
    f.set_status(0, "AVAILABLE").await;
    let call = f.until_connected(0).await;
    let db = f.srv.app.db.clone();
    let writes = db.writes();
    writes.fail_all(true);
    // The lead hangs up while nothing can be written.
    f.advance(12).await;
    let ended = f.steps_of(&call);
    assert!(
        !ended.contains(&"ENDED".to_owned()),
        "ENDED published before it was written: {ended:?}"
    );
    let health = f.srv.app.engine.health().await.expect("engine");
    assert!(health.backlog > 0);
    assert_eq!(health.outage, Some(store::Outage::DiskFull));
    // Every command that needs a write says so, with a retry time.
    for (q, v) in [
        (HANG_UP, json!({"c": call})),
        (WRAP_UP, json!({"c": call})),
        (STATUS, json!({"cc": f.cc, "s": "BREAK"})),
    ] {
        let body = f.srv.gql(Some(&f.agents[0].token), q, v).await;
        assert_eq!(
            error_code(&body).as_deref(),
            Some("UNAVAILABLE"),
            "{body:#}"
        );
        let message = body["errors"][0]["message"].as_str().unwrap_or_default();
        assert!(message.contains("disk full"), "{message}");
        assert_eq!(body["errors"][0]["extensions"]["retryAfterSeconds"], 5);
    }
    // Still down 10 s later: nothing moved, nothing lost.
    f.advance(10).await;
    assert!(f.srv.app.engine.health().await.expect("engine").backlog > 0);
    writes.fail_all(false);
    f.advance(1).await;
    consistent(&f).await;
    let steps = f.steps_of(&call);
    assert_eq!(
        steps.iter().rev().take(2).rev().collect::<Vec<_>>(),
        vec!["ENDED", "WRAP_UP_REQUIRED"],
        "{steps:?}"
    );
    let c = f.call(&call).await;
    assert_eq!(c["outcome"], "COMPLETED", "{c}");
    // The agent finishes the call, takes a break and the next call.
    assert_eq!(f.presence(0).await["status"], "WRAP_UP");
    f.agent_ok(0, HANG_UP, json!({"c": call})).await;
    f.wrap_up(0, &call, "INTERESTED").await;
    f.set_status(0, "BREAK").await;
    f.set_status(0, "AVAILABLE").await;
    let next = f.until_connected(0).await;
    assert_ne!(next, call);
    f.finish().await;
}
