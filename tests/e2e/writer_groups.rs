//! The engine's writer commits its writes in groups (pipelined on
//! PostgreSQL, in one blocking trip on SQLite), reading what each write
//! replaces once for the whole group. A group must leave the database as
//! the same writes saved one by one do: the agent's time per status and
//! the call's hours counted once, however many of one call's or agent's
//! writes share a group.

use chrono::{NaiveDate, NaiveDateTime, TimeDelta};
use pinline::store::calls::{self, EngineWrite};
use pinline::store::models::{Call, CallEventRow, Presence};
use pinline::store::{self, Db, presence, reports};
use pinline_tests::{TestServer, on_both_backends};

on_both_backends!(
    a_group_of_engine_writes_counts_what_the_writes_one_by_one_count,
    a_group_refused_midway_writes_nothing_and_the_next_group_goes_in,
    a_long_span_is_capped_and_cut_by_the_hour_alike_in_a_group,
);

struct Who {
    org: String,
    cc: String,
    agent: String,
}

fn at(minutes: i64) -> NaiveDateTime {
    NaiveDate::from_ymd_opt(2026, 1, 5)
        .and_then(|d| d.and_hms_opt(9, 40, 0))
        .expect("a date")
        + TimeDelta::minutes(minutes)
}

fn presence_at(who: &Who, status: &str, minutes: i64) -> EngineWrite {
    EngineWrite::Presence(Box::new(Presence {
        user_id: who.agent.clone(),
        organization_id: who.org.clone(),
        contact_center_id: Some(who.cc.clone()),
        status: status.into(),
        reason: None,
        since: at(minutes),
        pending_wrap_up_call_id: None,
        updated_at: at(minutes),
    }))
}

fn call_at(who: &Who, id: &str, state: &str, minutes: i64) -> EngineWrite {
    let ended = state == "ENDED";
    let row = Call {
        id: id.into(),
        organization_id: who.org.clone(),
        contact_center_id: who.cc.clone(),
        campaign_id: None,
        lead_id: None,
        agent_id: Some(who.agent.clone()),
        target_agent_id: None,
        origin: "MANUAL".into(),
        phone: "+12025550123".into(),
        caller_id: "+14155550100".into(),
        state: state.into(),
        outcome: ended.then(|| "HUMAN_ANSWERED".into()),
        answered_by: Some("HUMAN".into()),
        muted: false,
        on_hold: false,
        created_at: at(4),
        dialed_at: Some(at(4)),
        answered_at: Some(at(5)),
        connected_at: Some(at(5)),
        ended_at: ended.then(|| at(30)),
        updated_at: at(minutes),
        hold_ms: 0,
        talk_ms: if ended { 25 * 60_000 } else { 0 },
        held_at: None,
    };
    let event = CallEventRow {
        id: format!("{id}-{state}-{minutes}"),
        organization_id: who.org.clone(),
        contact_center_id: who.cc.clone(),
        call_id: Some(id.into()),
        agent_id: Some(who.agent.clone()),
        kind: state.into(),
        detail: "{}".into(),
        at: at(minutes),
    };
    EngineWrite::Call {
        row: Box::new(row),
        events: vec![event],
        lead: None,
    }
}

/// An agent's shift: ready, a call (connected, ended across the hour,
/// ended again at its wrap-up), wrap-up, ready again.
fn shift(who: &Who, call: &str) -> Vec<EngineWrite> {
    vec![
        presence_at(who, "READY", 0),
        call_at(who, call, "CONNECTED", 5),
        presence_at(who, "ON_CALL", 5),
        call_at(who, call, "ENDED", 30),
        presence_at(who, "WRAP_UP", 30),
        call_at(who, call, "ENDED", 32),
        EngineWrite::Release {
            lead_id: "no-such-lead".into(),
            not_before: None,
        },
        presence_at(who, "READY", 32),
    ]
}

/// One agent's rows of `time_by_status`: (hour, status, ms), sorted.
fn time_of(
    time: &[(NaiveDateTime, String, String, i64)],
    agent: &str,
) -> Vec<(NaiveDateTime, String, i64)> {
    let mut rows: Vec<(NaiveDateTime, String, i64)> = time
        .iter()
        .filter(|r| r.1 == agent)
        .map(|r| (r.0, r.2.clone(), r.3))
        .collect();
    rows.sort();
    rows
}

async fn who(db: &Db, name: &str) -> Who {
    let user = store::users::with_email(db, &format!("{name}@demo.pinline.test"), 1)
        .await
        .expect("users")
        .pop()
        .expect("a demo agent");
    let cc = store::contact_centers::ids_of_member(db, &user.id)
        .await
        .expect("centers")
        .pop()
        .expect("a contact center");
    Who {
        org: user.organization_id,
        cc,
        agent: user.id,
    }
}

async fn a_group_of_engine_writes_counts_what_the_writes_one_by_one_count(srv: TestServer) {
    srv.seed_demo().await;
    let db = &srv.app.db;
    let (grouped, single) = (who(db, "agent4").await, who(db, "agent5").await);

    // One agent's shift in one group; the other's one write at a time,
    // through the one-by-one saves (their own reads).
    let writes = shift(&grouped, "call-grouped");
    let refs: Vec<&EngineWrite> = writes.iter().collect();
    calls::save_all(db, &refs).await.expect("the group");
    for w in shift(&single, "call-single") {
        match &w {
            EngineWrite::Call { row, events, lead } => {
                calls::save(db, row, events, lead.as_ref()).await
            }
            EngineWrite::Presence(p) => presence::save(db, p).await,
            EngineWrite::Release { .. } => calls::save_all(db, &[&w]).await,
        }
        .expect("one write");
    }

    let (from, to) = (at(-40), at(140));
    let time = presence::time_by_status(db, &grouped.cc, from, to)
        .await
        .expect("time");
    let of = |agent: &str| time_of(&time, agent);
    let (nine, ten) = (at(-40), at(20));
    assert_eq!(
        of(&grouped.agent),
        vec![
            (nine, "ON_CALL".into(), 15 * 60_000),
            (nine, "READY".into(), 5 * 60_000),
            (ten, "ON_CALL".into(), 10 * 60_000),
            (ten, "WRAP_UP".into(), 2 * 60_000),
        ],
        "the grouped agent's time per status and hour"
    );
    assert_eq!(
        of(&grouped.agent),
        of(&single.agent),
        "group and one by one"
    );

    let hours = reports::agent_calls(db, &grouped.cc, from, to)
        .await
        .expect("call hours");
    let of = |agent: &str| -> Vec<(NaiveDateTime, i64, i64)> {
        hours
            .iter()
            .filter(|h| h.agent_id == agent)
            .map(|h| (h.hour, h.calls, h.talk_ms))
            .collect()
    };
    assert_eq!(
        of(&grouped.agent),
        vec![(nine, 1, 25 * 60_000)],
        "the grouped call is counted once, when it first ends"
    );
    assert_eq!(
        of(&grouped.agent),
        of(&single.agent),
        "group and one by one"
    );
    srv.finish().await;
}

async fn a_group_refused_midway_writes_nothing_and_the_next_group_goes_in(srv: TestServer) {
    srv.seed_demo().await;
    let db = &srv.app.db;
    let agent = who(db, "agent3").await;
    let nobody = Who {
        agent: "no-such-user".into(),
        ..who(db, "agent3").await
    };
    // The second write breaks a constraint (no such user): the group is
    // one transaction, so the first is not written either.
    let refused = [
        presence_at(&agent, "READY", 0),
        presence_at(&nobody, "READY", 0),
        call_at(&agent, "call-refused", "CONNECTED", 5),
    ];
    let refs: Vec<&EngineWrite> = refused.iter().collect();
    let e = calls::save_all(db, &refs)
        .await
        .expect_err("a refused group");
    assert!(e.outage().is_none(), "a constraint, not an outage: {e}");
    assert_eq!(presence::get(db, &agent.agent).await.expect("get"), None);
    assert_eq!(calls::get(db, "call-refused").await.expect("get"), None);

    // The connection it used is clean: the next group goes in whole.
    for i in 0..3 {
        let next = [
            presence_at(&agent, "READY", i),
            call_at(&agent, "call-next", "CONNECTED", 5 + i),
        ];
        let refs: Vec<&EngineWrite> = next.iter().collect();
        calls::save_all(db, &refs).await.expect("the next group");
    }
    let row = presence::get(db, &agent.agent).await.expect("get");
    assert_eq!(row.map(|p| p.status), Some("READY".into()));
    let call = calls::get(db, "call-next").await.expect("get");
    assert_eq!(call.map(|c| c.state), Some("CONNECTED".into()));
    srv.finish().await;
}

/// A status left standing for days is credited for one day at most, cut
/// at UTC hours to the millisecond, the same in a group as one by one
/// (on PostgreSQL the group counts it in SQL from the stored row).
async fn a_long_span_is_capped_and_cut_by_the_hour_alike_in_a_group(srv: TestServer) {
    srv.seed_demo().await;
    let db = &srv.app.db;
    let (grouped, single) = (who(db, "agent4").await, who(db, "agent5").await);
    let micros = TimeDelta::microseconds;
    let with_since = |w: EngineWrite, since: NaiveDateTime| match w {
        EngineWrite::Presence(mut p) => {
            p.since = since;
            EngineWrite::Presence(p)
        }
        w => w,
    };
    for who in [&grouped, &single] {
        let long_ago = with_since(presence_at(who, "READY", 0), at(-3 * 24 * 60) + micros(123));
        let EngineWrite::Presence(p) = &long_ago else {
            unreachable!()
        };
        presence::save(db, p).await.expect("stored long ago");
    }
    let later = |who: &Who| {
        vec![
            with_since(presence_at(who, "BREAK", 0), at(0) + micros(456_789)),
            with_since(presence_at(who, "READY", 7), at(7) + micros(1)),
            presence_at(who, "OFFLINE", 9),
        ]
    };
    let writes = later(&grouped);
    let refs: Vec<&EngineWrite> = writes.iter().collect();
    calls::save_all(db, &refs).await.expect("the group");
    for w in later(&single) {
        let EngineWrite::Presence(p) = &w else {
            unreachable!()
        };
        presence::save(db, p).await.expect("one write");
    }

    let time = presence::time_by_status(db, &grouped.cc, at(-4 * 24 * 60), at(60))
        .await
        .expect("time");
    let of = |agent: &str| time_of(&time, agent);
    let ready: i64 = of(&grouped.agent)
        .iter()
        .filter(|r| r.1 == "READY")
        .map(|r| r.2)
        .sum();
    // Three days before the break, one day credited (25 hours touched;
    // the pieces cut to whole milliseconds), then two minutes more.
    assert!(
        (86_520_000 - 3..=86_520_000).contains(&ready),
        "one day of READY at most, and two minutes: {ready}"
    );
    assert_eq!(
        of(&grouped.agent).iter().filter(|r| r.1 == "READY").count(),
        25,
        "cut at every hour: {:?}",
        of(&grouped.agent)
    );
    assert_eq!(
        of(&grouped.agent),
        of(&single.agent),
        "group and one by one"
    );
    srv.finish().await;
}
