//! Seeding a campaign with many synthetic leads in one SQL statement, for
//! `pinline bench` only (a million rows in seconds, not the import path).

use diesel_async::{RunQueryDsl, SimpleAsyncConnection};

use super::models::Campaign;
use super::{Db, StoreResult, with_conn};

pub async fn seed_leads(db: &Db, campaign: &Campaign, n: usize) -> StoreResult<()> {
    let now = super::now().format("%Y-%m-%d %H:%M:%S").to_string();
    let (org, id) = (&campaign.organization_id, &campaign.id);
    // Ids and phones are generated from the row number: unique per campaign.
    let (series, pad_id, pad_phone) = match db {
        Db::Pg(_) => (
            format!("generate_series(1, {n}) AS s(x)"),
            "lpad(x::text, 9, '0')",
            "lpad(x::text, 10, '0')",
        ),
        Db::Sqlite(_) => (
            format!(
                "(WITH RECURSIVE seq(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM seq LIMIT {n}) SELECT x FROM seq)"
            ),
            "printf('%09d', x)",
            "printf('%010d', x)",
        ),
    };
    let sql = format!(
        "INSERT INTO leads (id, organization_id, campaign_id, phone, first_name, last_name, time_zone, \
         custom_properties, status, priority, attempts, created_at, updated_at) \
         SELECT 'bench-{id}-' || {pad_id}, '{org}', '{id}', '+1' || {pad_phone}, 'First', 'Last', \
         'America/New_York', '[]', 'NEW', 0, 0, '{now}', '{now}' FROM {series}"
    );
    with_conn!(db, |conn| {
        conn.batch_execute(&sql).await?;
        if matches!(db, Db::Pg(_)) {
            diesel::sql_query("ANALYZE leads").execute(conn).await?;
        }
        Ok(())
    })
}

/// A campaign's history for `bench reports`: `agents` agent users, `n`
/// calls spread evenly over the 30 days from `start` (30 % connected to an
/// agent with a wrap-up, 20 % machine, 1 % abandoned, the rest busy or
/// unanswered), and every agent's hourly status time.
pub async fn seed_history(
    db: &Db,
    campaign: &Campaign,
    agents: usize,
    n: usize,
    start: &str,
) -> StoreResult<()> {
    let (org, cc, id) = (
        &campaign.organization_id,
        &campaign.contact_center_id,
        &campaign.id,
    );
    let seq = |n: usize, name: &str| match db {
        Db::Pg(_) => format!("generate_series(0, {n} - 1) AS s_{name}({name})"),
        Db::Sqlite(_) => format!(
            "(WITH RECURSIVE q({name}) AS (SELECT 0 UNION ALL SELECT {name} + 1 FROM q LIMIT {n}) SELECT {name} FROM q)"
        ),
    };
    let pad = |e: &str| match db {
        Db::Pg(_) => format!("lpad(({e})::text, 9, '0')"),
        Db::Sqlite(_) => format!("printf('%09d', {e})"),
    };
    // `start` plus `secs` seconds, as stored.
    let at = |secs: &str| match db {
        Db::Pg(_) => format!("(TIMESTAMP '{start}' + ({secs}) * INTERVAL '1 second')"),
        Db::Sqlite(_) => format!("datetime('{start}', '+' || ({secs}) || ' seconds')"),
    };
    let step = 30.0 * 86_400.0 / n.max(1) as f64;
    let created = at(&format!("CAST(x * {step} AS INTEGER)"));
    let answered = at(&format!("CAST(x * {step} AS INTEGER) + 20"));
    let connected = at(&format!("CAST(x * {step} AS INTEGER) + 21"));
    let ended = at(&format!("CAST(x * {step} AS INTEGER) + 141"));
    let wrapped = at(&format!("CAST(x * {step} AS INTEGER) + 161"));
    let agent = format!("'bench-agent-{id}-' || {}", pad(&format!("x % {agents}")));
    let users = format!(
        "INSERT INTO users (id, organization_id, email, name, role, password_hash, active, created_at, updated_at) \
         SELECT 'bench-agent-{id}-' || {p}, '{org}', 'agent' || {p} || '@bench-{id}.test', 'Agent', 'AGENT', 'x', TRUE, {t0}, {t0} \
         FROM {s}",
        p = pad("a"),
        t0 = at("0"),
        s = seq(agents, "a"),
    );
    let calls = format!(
        "INSERT INTO calls (id, organization_id, contact_center_id, campaign_id, agent_id, origin, phone, caller_id, \
           state, outcome, answered_by, muted, on_hold, created_at, dialed_at, answered_at, connected_at, ended_at, \
           updated_at, hold_ms, talk_ms) \
         SELECT 'bench-call-{id}-' || {p}, '{org}', '{cc}', '{id}', \
           CASE WHEN x % 10 < 3 THEN {agent} END, 'DIALER', '+1' || {p}, '+14155550100', 'ENDED', \
           CASE WHEN x % 10 < 3 THEN 'COMPLETED' WHEN x % 10 < 5 THEN 'MACHINE' WHEN x % 100 = 55 THEN 'ABANDONED' \
                WHEN x % 10 = 5 THEN 'BUSY' ELSE 'NO_ANSWER' END, \
           CASE WHEN x % 10 < 3 OR x % 100 = 55 THEN 'HUMAN' WHEN x % 10 < 5 THEN 'MACHINE' END, \
           FALSE, FALSE, {created}, {created}, \
           CASE WHEN x % 10 < 5 OR x % 100 = 55 THEN {answered} END, \
           CASE WHEN x % 10 < 3 THEN {connected} END, {ended}, {ended}, \
           CASE WHEN x % 10 < 3 THEN 5000 ELSE 0 END, CASE WHEN x % 10 < 3 THEN 115000 ELSE 0 END \
         FROM {s}",
        p = pad("x"),
        s = seq(n, "x"),
    );
    let wraps = format!(
        "INSERT INTO wrap_ups (id, organization_id, call_id, campaign_id, agent_id, disposition_code, notes, automatic, \
           created_at, do_not_call, do_not_text, corrections, wrap_ms, category, conversion) \
         SELECT 'bench-wrap-{id}-' || {p}, '{org}', 'bench-call-{id}-' || {p}, '{id}', {agent}, \
           CASE x % 3 WHEN 0 THEN 'INTERESTED' WHEN 1 THEN 'NOT_INTERESTED' ELSE 'LEFT_VOICEMAIL' END, 'bench', FALSE, \
           {wrapped}, FALSE, FALSE, 0, 20000, \
           CASE x % 3 WHEN 0 THEN 'CONTACT' WHEN 1 THEN 'FINAL' ELSE 'NON_CONTACT' END, x % 3 = 0 \
         FROM {s} WHERE x % 10 < 3",
        p = pad("x"),
        s = seq(n, "x"),
    );
    let time = format!(
        "INSERT INTO agent_time (contact_center_id, hour, user_id, status, organization_id, ms) \
         SELECT '{cc}', {hour}, 'bench-agent-{id}-' || {p}, st, '{org}', \
           CASE st WHEN 'AVAILABLE' THEN 900000 WHEN 'ON_CALL' THEN 2100000 ELSE 600000 END \
         FROM {hours} CROSS JOIN {ags} CROSS JOIN (SELECT 'AVAILABLE' AS st UNION ALL SELECT 'ON_CALL' UNION ALL SELECT 'WRAP_UP') AS k",
        hour = at("h * 3600"),
        p = pad("a"),
        hours = seq(30 * 24, "h"),
        ags = seq(agents, "a"),
    );
    // The rollups, as a call's end and a wrap-up would have kept them.
    let hour = |col: &str| match db {
        Db::Pg(_) => format!("date_trunc('hour', {col})"),
        Db::Sqlite(_) => format!("strftime('%Y-%m-%d %H:00:00', {col})"),
    };
    let call_hours = format!(
        "INSERT INTO call_hours SELECT c.contact_center_id, c.campaign_id, {h}, COALESCE(c.agent_id, ''), \
           COALESCE(c.outcome, ''), COALESCE(c.answered_by, ''), c.dialed_at IS NOT NULL, \
           c.connected_at IS NOT NULL, COUNT(*), SUM(c.talk_ms), SUM(c.hold_ms) \
         FROM calls c WHERE c.campaign_id = '{id}' GROUP BY 1, 2, 3, 4, 5, 6, 7, 8",
        h = hour("c.created_at")
    );
    let wrap_hours = format!(
        "INSERT INTO wrap_hours SELECT '{cc}', w.campaign_id, {h}, w.agent_id, w.disposition_code, \
           w.category, w.conversion, COUNT(*), SUM(w.wrap_ms) \
         FROM wrap_ups w WHERE w.campaign_id = '{id}' GROUP BY 1, 2, 3, 4, 5, 6, 7",
        h = hour("w.created_at")
    );
    with_conn!(db, |conn| {
        for sql in [&users, &calls, &wraps, &time, &call_hours, &wrap_hours] {
            conn.batch_execute(sql).await?;
        }
        if matches!(db, Db::Pg(_)) {
            // One statement each: VACUUM cannot run in a multi-statement batch.
            for sql in [
                "VACUUM ANALYZE calls",
                "VACUUM ANALYZE wrap_ups",
                "ANALYZE agent_time",
                "ANALYZE call_hours",
                "ANALYZE wrap_hours",
            ] {
                conn.batch_execute(sql).await?;
            }
        } else {
            conn.batch_execute("ANALYZE").await?;
        }
        Ok(())
    })
}
