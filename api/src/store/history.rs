//! A finished past inserted at once — the demo's simulated days: ended
//! calls, their wrap-ups and the agents' time, with the hourly rollups the
//! reports read, as the engine would have kept them call by call.

use std::collections::HashMap;

use chrono::{NaiveDateTime, Timelike};
use diesel::ExpressionMethods;
use diesel_async::RunQueryDsl;

use super::models::{AuditEntry, Call, WrapUp};
use super::schema::{agent_time, call_hours, calls, wrap_hours, wrap_ups};
use super::{Db, StoreResult, audit_log_insert, with_tx};

/// Milliseconds an agent spent in a status within one UTC hour.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgentHour {
    pub contact_center_id: String,
    pub hour: NaiveDateTime,
    pub user_id: String,
    pub status: String,
    pub organization_id: String,
    pub ms: i64,
}

/// The UTC hour `t` falls in.
pub fn hour_of(t: NaiveDateTime) -> NaiveDateTime {
    t.date().and_hms_opt(t.hour(), 0, 0).unwrap_or(t)
}

/// Insert `calls` (ended), `wraps` and `time` in one transaction with
/// `entry` saying what they are, and add their counts to the hourly
/// rollups. `wraps` carry their contact center through their call.
pub async fn insert(
    db: &Db,
    calls_in: &[Call],
    wraps: &[WrapUp],
    time: &[AgentHour],
    entry: AuditEntry,
) -> StoreResult<()> {
    // call_hours: (cc, campaign, hour, agent, outcome, answered_by, dialed,
    // connected) → (calls, talk, hold).
    type CallKey = (
        String,
        String,
        NaiveDateTime,
        String,
        String,
        String,
        bool,
        bool,
    );
    let mut by_call: HashMap<CallKey, (i64, i64, i64)> = HashMap::new();
    let mut center_of: HashMap<&str, &str> = HashMap::new();
    for c in calls_in {
        center_of.insert(&c.id, &c.contact_center_id);
        let Some(campaign) = &c.campaign_id else {
            continue;
        };
        let e = by_call
            .entry((
                c.contact_center_id.clone(),
                campaign.clone(),
                hour_of(c.created_at),
                c.agent_id.clone().unwrap_or_default(),
                c.outcome.clone().unwrap_or_default(),
                c.answered_by.clone().unwrap_or_default(),
                c.dialed_at.is_some(),
                c.connected_at.is_some(),
            ))
            .or_default();
        e.0 += 1;
        e.1 += i64::from(c.talk_ms);
        e.2 += i64::from(c.hold_ms);
    }
    // wrap_hours: (cc, campaign, hour, agent, code, category, conversion)
    // → (wrap-ups, wrap ms).
    type WrapKey = (String, String, NaiveDateTime, String, String, String, bool);
    let mut by_wrap: HashMap<WrapKey, (i64, i64)> = HashMap::new();
    for w in wraps {
        let (Some(campaign), Some(cc)) = (&w.campaign_id, center_of.get(w.call_id.as_str())) else {
            continue;
        };
        let e = by_wrap
            .entry((
                (*cc).to_owned(),
                campaign.clone(),
                hour_of(w.created_at),
                w.agent_id.clone(),
                w.disposition_code.clone(),
                w.category.clone(),
                w.conversion,
            ))
            .or_default();
        e.0 += 1;
        e.1 += i64::from(w.wrap_ms);
    }
    with_tx!(db, |conn| {
        audit_log_insert!(conn, &entry);
        // Row by row (SQLite takes no multi-row insert of optional
        // columns), in the one transaction.
        for c in calls_in {
            diesel::insert_into(calls::table)
                .values(c)
                .execute(conn)
                .await?;
        }
        for w in wraps {
            diesel::insert_into(wrap_ups::table)
                .values(w)
                .execute(conn)
                .await?;
        }
        for t in time {
            diesel::insert_into(agent_time::table)
                .values((
                    agent_time::contact_center_id.eq(&t.contact_center_id),
                    agent_time::hour.eq(t.hour),
                    agent_time::user_id.eq(&t.user_id),
                    agent_time::status.eq(&t.status),
                    agent_time::organization_id.eq(&t.organization_id),
                    agent_time::ms.eq(t.ms),
                ))
                .execute(conn)
                .await?;
        }
        for (
            (cc, campaign, hour, agent, outcome, answered_by, dialed, connected),
            (n, talk, hold),
        ) in &by_call
        {
            diesel::insert_into(call_hours::table)
                .values((
                    call_hours::contact_center_id.eq(cc),
                    call_hours::campaign_id.eq(campaign),
                    call_hours::hour.eq(hour),
                    call_hours::agent_id.eq(agent),
                    call_hours::outcome.eq(outcome),
                    call_hours::answered_by.eq(answered_by),
                    call_hours::dialed.eq(dialed),
                    call_hours::connected.eq(connected),
                    call_hours::calls.eq(n),
                    call_hours::talk_ms.eq(talk),
                    call_hours::hold_ms.eq(hold),
                ))
                .execute(conn)
                .await?;
        }
        for ((cc, campaign, hour, agent, code, category, conversion), (n, ms)) in &by_wrap {
            diesel::insert_into(wrap_hours::table)
                .values((
                    wrap_hours::contact_center_id.eq(cc),
                    wrap_hours::campaign_id.eq(campaign),
                    wrap_hours::hour.eq(hour),
                    wrap_hours::agent_id.eq(agent),
                    wrap_hours::disposition_code.eq(code),
                    wrap_hours::category.eq(category),
                    wrap_hours::conversion.eq(conversion),
                    wrap_hours::wrap_ups.eq(n),
                    wrap_hours::wrap_ms.eq(ms),
                ))
                .execute(conn)
                .await?;
        }
        Ok(())
    })
}
