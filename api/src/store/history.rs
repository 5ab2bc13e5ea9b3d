//! A finished past inserted at once — the demo's simulated days: ended
//! calls, their wrap-ups and the agents' time, with the hourly rollups the
//! reports read, kept by the same upserts as a live call's end and a
//! wrap-up ([`super::reports::call_hours_add`], `wrap_hours_add`).

use std::collections::HashMap;

use chrono::NaiveDateTime;
use diesel::ExpressionMethods;
use diesel_async::RunQueryDsl;

use super::models::{AuditEntry, Call, WrapUp};
use super::reports::{call_hours_add, wrap_hours_add};
use super::schema::{agent_time, calls, wrap_ups};
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

/// Insert `calls` (ended), `wraps` and `time` in one transaction with
/// `entry` saying what they are, and add them to the hourly rollups.
/// `wraps` carry their contact center through their call.
pub async fn insert(
    db: &Db,
    calls_in: &[Call],
    wraps: &[WrapUp],
    time: &[AgentHour],
    entry: AuditEntry,
) -> StoreResult<()> {
    let center_of: HashMap<&str, &str> = calls_in
        .iter()
        .map(|c| (c.id.as_str(), c.contact_center_id.as_str()))
        .collect();
    with_tx!(db, |conn| {
        audit_log_insert!(conn, &entry);
        // Row by row (SQLite takes no multi-row insert of optional
        // columns), in the one transaction.
        for c in calls_in {
            diesel::insert_into(calls::table)
                .values(c)
                .execute(conn)
                .await?;
            call_hours_add!(conn, c);
        }
        for w in wraps {
            diesel::insert_into(wrap_ups::table)
                .values(w)
                .execute(conn)
                .await?;
            if let Some(cc) = center_of.get(w.call_id.as_str()) {
                wrap_hours_add!(conn, *cc, w, 1);
            }
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
        Ok(())
    })
}
