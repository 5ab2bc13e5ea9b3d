//! The engine's hot transactions on SQLite — the writer's group of call
//! steps, the pacer's claim — in one trip to a blocking thread each:
//! diesel-async drives a SQLite connection by handing every statement to
//! a blocking thread and back, which for a dozen statements costs more
//! than SQLite itself, and holds the one write lock all the while. The
//! statements are the same macros the async path expands, run on the
//! connection directly.

use std::sync::Arc;

use chrono::NaiveDateTime;
use diesel::SqliteConnection;
use diesel::prelude::*;

use diesel::dsl::{exists, not};

use super::calls::{EngineWrite, LeadWrite, call_save, write_lead};
use super::claims::{CLASSES, ClaimSpec, candidate, claim_loop};
use super::models::{Call, CallEventRow, Lead};
use super::outage::Seen;
use super::schema::{call_events, calls, dial_attempts, dnc_entries, invalid_numbers, leads};
use super::{SqliteDb, StoreError, StoreResult};
use crate::domain::eligibility::LeadStatus;

/// [`super::calls::save_all`] on SQLite.
pub(super) async fn save_all(db: &SqliteDb, writes: Vec<EngineWrite>) -> StoreResult<()> {
    one_trip(db, move |conn| apply(conn, &writes)).await
}

/// [`super::claims::claim`] on SQLite: the claim's statements (one per
/// class of lead, and one per lead taken) hold the write lock for one
/// trip, not one per statement.
pub(super) async fn claim(db: &SqliteDb, spec: &ClaimSpec<'_>) -> StoreResult<Vec<Lead>> {
    let (organization_id, campaign_id) =
        (spec.organization_id.to_owned(), spec.campaign_id.to_owned());
    let open_zones = spec.open_zones.to_vec();
    let (now, max_attempts, abandoned_after, limit) = (
        spec.now,
        spec.max_attempts,
        spec.abandoned_after,
        spec.limit,
    );
    one_trip(db, move |conn| {
        let spec = ClaimSpec {
            organization_id: &organization_id,
            campaign_id: &campaign_id,
            now,
            open_zones: &open_zones,
            max_attempts,
            abandoned_after,
            limit,
            fence: None,
        };
        let dialing = LeadStatus::Dialing.as_str();
        claim_loop!(@[] conn, &spec, dialing,)
    })
    .await
}

/// `body` in one `BEGIN IMMEDIATE … COMMIT` on one blocking thread, after
/// the in-process write gate; counted and named like every other write
/// (outages, injected failures).
async fn one_trip<R: Send + 'static>(
    db: &SqliteDb,
    body: impl FnOnce(&mut SqliteConnection) -> StoreResult<R> + Send + 'static,
) -> StoreResult<R> {
    db.writes.begin()?;
    let seen = Arc::new(Seen::default());
    let result = {
        let _writer = db.writer.lock().await;
        match db.pool.get().await {
            Ok(mut pooled) => {
                let seen = seen.clone();
                pooled
                    .spawn_blocking(move |conn| {
                        Ok(conn.immediate_transaction(|conn| seen.keep(body(conn))))
                    })
                    .await
                    .map_err(StoreError::from)
                    .and_then(|r| r)
            }
            Err(e) => Err(StoreError::Connection(e.to_string())),
        }
    };
    let result = seen.name(result);
    db.writes.record(&result);
    result
}

fn apply(conn: &mut SqliteConnection, writes: &[EngineWrite]) -> StoreResult<()> {
    for w in writes {
        match w {
            EngineWrite::Call { row, events, lead } => {
                let (row, events): (&Call, &[CallEventRow]) = (row, events);
                call_save!(@[] conn, row, events, lead.as_ref())?
            }
            EngineWrite::Presence(p) => super::presence::presence_upsert!(@[] conn, p),
            EngineWrite::Release {
                lead_id,
                not_before,
            } => super::claims::lead_release!(@[] conn, lead_id, *not_before, None),
        }
    }
    Ok(())
}
