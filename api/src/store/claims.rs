//! Claiming leads for the dialer: one statement claims one lead, marking it
//! DIALING so no other claim can return it. PostgreSQL locks the chosen row
//! with `FOR UPDATE SKIP LOCKED` in a scalar subquery (concurrent claimers
//! skip each other's rows); SQLite runs the same statement without the lock
//! clause inside a `BEGIN IMMEDIATE` transaction (one writer at a time).
//!
//! The SQL keeps only what it can judge exactly: status, due time, attempt
//! count, the predictive abandon lockout, zones whose window is open now,
//! and the organization's DNC and invalid lists. The caller then asks the
//! eligibility gate about every claimed lead and releases those it refuses.

use chrono::NaiveDateTime;
use diesel::dsl::{exists, not};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;

use super::models::Lead;
use super::schema::{dnc_entries, invalid_numbers, leads};
use super::{Db, StoreError, StoreResult, with_conn, with_tx, with_write};
use crate::domain::eligibility::LeadStatus;

/// What the claim may take.
#[derive(Debug, Clone)]
pub struct ClaimSpec<'a> {
    pub organization_id: &'a str,
    pub campaign_id: &'a str,
    pub now: NaiveDateTime,
    /// Zones whose calling window is open for a whole ring now.
    pub open_zones: &'a [String],
    pub max_attempts: i32,
    /// Predictive campaigns: leads abandoned after this are locked out.
    pub abandoned_after: Option<NaiveDateTime>,
    pub limit: usize,
    /// Leased (several instances): the claim is made under the center's
    /// lease, and refused whole once it has moved on.
    pub fence: Option<&'a super::calls::Fence>,
}

/// Claimed in this order: callbacks due, retries due, new leads; within a
/// class by priority, then oldest (ids are time-ordered). One index,
/// `leads_for_claim (campaign_id, status, priority DESC, id)`, serves each.
pub(super) const CLASSES: [&str; 3] = ["CALLBACK", "RETRY", "NEW"];

/// The candidate query, shared by both backends; `$extra` appends the
/// backend's locking clause.
macro_rules! candidate {
    ($spec:expr, $class:expr, $($extra:tt)*) => {{
        let spec = $spec;
        let c = diesel::alias!(leads as candidates);
        // Non-predictive campaigns have no lockout: a cutoff far ahead.
        let cutoff = spec
            .abandoned_after
            .unwrap_or(spec.now + chrono::Duration::days(365 * 100));
        c.filter(c.field(leads::campaign_id).eq(spec.campaign_id))
            .filter(c.field(leads::status).eq($class))
            .filter(c.field(leads::not_before).is_null().or(c.field(leads::not_before).le(spec.now)))
            .filter(c.field(leads::attempts).lt(spec.max_attempts))
            .filter(c.field(leads::time_zone).eq_any(spec.open_zones))
            .filter(not(exists(
                dnc_entries::table
                    .filter(dnc_entries::organization_id.eq(spec.organization_id))
                    .filter(dnc_entries::phone.eq(c.field(leads::phone))),
            )))
            .filter(not(exists(
                invalid_numbers::table
                    .filter(invalid_numbers::organization_id.eq(spec.organization_id))
                    .filter(invalid_numbers::phone.eq(c.field(leads::phone))),
            )))
            .filter(
                c.field(leads::last_abandoned_at)
                    .is_null()
                    .or(c.field(leads::last_abandoned_at).le(cutoff)),
            )
            .order((c.field(leads::priority).desc(), c.field(leads::id).asc()))
            .select(c.field(leads::id))
            .limit(1)
            $($extra)*
    }};
}

/// Claim one lead at a time, class by class, until `limit` or none left.
macro_rules! claim_loop {
    ($conn:ident, $spec:expr, $dialing:expr, $($lock:tt)*) => {
        claim_loop!(@[.await] $conn, $spec, $dialing, $($lock)*)
    };
    (@[$($aw:tt)*] $conn:ident, $spec:expr, $dialing:expr, $($lock:tt)*) => {{
        let spec = $spec;
        let mut out = Vec::with_capacity(spec.limit);
        let mut classes = CLASSES.iter();
        let mut class = classes.next();
        while let (Some(status), true) = (class, out.len() < spec.limit) {
            let chosen = candidate!(spec, *status, $($lock)*).single_value();
            let claimed = diesel::update(leads::table.filter(leads::id.nullable().eq(chosen)))
                .set((
                    leads::claimed_from.eq(leads::status.nullable()),
                    leads::status.eq($dialing),
                    leads::claimed_at.eq(Some(spec.now)),
                    leads::updated_at.eq(spec.now),
                ))
                .returning(Lead::as_returning())
                .get_result($conn)
                $($aw)*
                .optional()?;
            match claimed {
                Some(lead) => out.push(lead),
                None => class = classes.next(),
            }
        }
        Ok(out)
    }};
}
pub(crate) use {candidate, claim_loop};

/// Claim up to `spec.limit` leads; each is now DIALING with `claimed_from`
/// holding its previous status.
pub async fn claim(db: &Db, spec: &ClaimSpec<'_>) -> StoreResult<Vec<Lead>> {
    if spec.open_zones.is_empty() || spec.limit == 0 {
        return Ok(Vec::new());
    }
    if let Db::Sqlite(sqlite) = db {
        return super::engine_sqlite::claim(sqlite, spec).await;
    }
    let dialing = LeadStatus::Dialing.as_str();
    db.writes().begin()?;
    let seen = super::outage::Seen::default();
    let result = match db {
        Db::Pg(pg) => match pg.pool.get().await {
            Ok(mut conn) => {
                use diesel_async::AsyncConnection as _;
                conn.transaction(async |conn| -> StoreResult<Vec<Lead>> {
                    seen.keep(
                        async {
                            if let Some(fence) = spec.fence {
                                fenced(conn, fence).await?;
                            }
                            claim_loop!(conn, spec, dialing, .for_update().skip_locked())
                        }
                        .await,
                    )
                })
                .await
            }
            Err(e) => Err(StoreError::Connection(e.to_string())),
        },
        Db::Sqlite(sqlite) => {
            let _writer = sqlite.writer.lock().await;
            match sqlite.pool.get().await {
                Ok(mut conn) => {
                    conn.immediate_transaction(async |conn| -> StoreResult<Vec<Lead>> {
                        seen.keep(async { claim_loop!(conn, spec, dialing,) }.await)
                    })
                    .await
                }
                Err(e) => Err(StoreError::Connection(e.to_string())),
            }
        }
    };
    let result = seen.name(result);
    db.writes().record(&result);
    result
}

/// Give a claimed lead back: its previous status, and not before
/// `not_before`; `verdict`: the gate's refusal that sends it back and when
/// it was taken (recorded as its last verdict).
pub async fn release(
    db: &Db,
    lead_id: &str,
    not_before: Option<NaiveDateTime>,
    verdict: Option<(&str, NaiveDateTime)>,
) -> StoreResult<()> {
    with_write!(db, |conn| {
        lead_release!(conn, lead_id, not_before, verdict);
        Ok(())
    })
}

/// [`release`]'s statement, on a given connection (the engine's writer
/// runs it inside its group transactions).
macro_rules! lead_release {
    ($conn:expr, $lead_id:expr, $not_before:expr, $verdict:expr) => {
        $crate::store::claims::lead_release!(@[.await] $conn, $lead_id, $not_before, $verdict)
    };
    (@[$($aw:tt)*] $conn:expr, $lead_id:expr, $not_before:expr, $verdict:expr) => {{
        use diesel::sql_types::{Nullable, Text, Timestamp};
        use $crate::store::coalesce;
        use $crate::store::schema::leads;
        let verdict: Option<(&str, chrono::NaiveDateTime)> = $verdict;
        let (verdict, judged) = (verdict.map(|v| v.0), verdict.map(|v| v.1));
        let new = $crate::domain::eligibility::LeadStatus::New.as_str();
        diesel::update(
            leads::table.filter(leads::id.eq($lead_id)).filter(
                leads::status.eq($crate::domain::eligibility::LeadStatus::Dialing.as_str()),
            ),
        )
        .set((
            leads::status.eq(coalesce::<Nullable<Text>, _, _>(
                leads::claimed_from,
                Some(new).into_sql::<Nullable<Text>>(),
            )
            .assume_not_null()),
            leads::claimed_from.eq(None::<String>),
            leads::claimed_at.eq(None::<chrono::NaiveDateTime>),
            leads::not_before.eq($not_before),
            leads::updated_at.eq($crate::store::now()),
            leads::last_verdict.eq(coalesce::<Nullable<Text>, _, _>(
                verdict.into_sql::<Nullable<Text>>(),
                leads::last_verdict,
            )),
            leads::judged_at.eq(coalesce::<Nullable<Timestamp>, _, _>(
                judged.into_sql::<Nullable<Timestamp>>(),
                leads::judged_at,
            )),
        ))
        .execute($conn)
        $($aw)*?;
    }};
}
pub(crate) use lead_release;

/// The zones a campaign's leads are in (for working out which are open).
pub async fn zones_of_campaign(db: &Db, campaign_id: &str) -> StoreResult<Vec<String>> {
    with_conn!(db, |conn| {
        let zones: Vec<Option<String>> = leads::table
            .filter(leads::campaign_id.eq(campaign_id))
            .select(leads::time_zone)
            .distinct()
            .load(conn)
            .await?;
        Ok(zones.into_iter().flatten().collect())
    })
}

/// Claim one given lead (a manual call to it): DIALING unless it is being
/// dialed already or cannot be dialed. Returns the lead as claimed.
/// The lease check that opens a claim's transaction: refused
/// ([`StoreError::LeaseLost`]) once the center's lease has moved on; it
/// holds the lease row until the transaction ends, so no other instance
/// takes the center meanwhile.
async fn fenced(
    conn: &mut diesel_async::AsyncPgConnection,
    fence: &super::calls::Fence,
) -> StoreResult<()> {
    diesel::sql_query("SELECT pinline_fence($1, $2)")
        .bind::<diesel::sql_types::Text, _>(&fence.contact_center_id)
        .bind::<diesel::sql_types::BigInt, _>(fence.epoch)
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn claim_one(db: &Db, lead_id: &str, now: NaiveDateTime) -> StoreResult<Option<Lead>> {
    let dialable = [
        LeadStatus::New.as_str(),
        LeadStatus::Retry.as_str(),
        LeadStatus::Callback.as_str(),
        LeadStatus::Finished.as_str(),
    ];
    with_tx!(db, |conn| {
        Ok(diesel::update(
            leads::table
                .filter(leads::id.eq(lead_id))
                .filter(leads::status.eq_any(dialable)),
        )
        .set((
            leads::claimed_from.eq(leads::status.nullable()),
            leads::status.eq(LeadStatus::Dialing.as_str()),
            leads::claimed_at.eq(Some(now)),
            leads::updated_at.eq(now),
        ))
        .returning(Lead::as_returning())
        .get_result(conn)
        .await
        .optional()?)
    })
}

/// After a restart: leads left DIALING with no call in flight go back to
/// the status they were claimed from. Returns how many.
pub async fn release_orphans(
    db: &Db,
    now: NaiveDateTime,
    contact_center_id: Option<&str>,
) -> StoreResult<usize> {
    with_tx!(db, |conn| {
        let mut dialing = leads::table
            .filter(leads::status.eq(LeadStatus::Dialing.as_str()))
            .into_boxed();
        if let Some(center) = contact_center_id {
            dialing = dialing.filter(
                leads::campaign_id.eq_any(
                    super::schema::campaigns::table
                        .filter(super::schema::campaigns::contact_center_id.eq(center))
                        .select(super::schema::campaigns::id),
                ),
            );
        }
        Ok(
            diesel::update(leads::table.filter(leads::id.eq_any(dialing.select(leads::id))))
                .set((
                    leads::status.eq(diesel::dsl::sql::<diesel::sql_types::Text>(
                        "COALESCE(claimed_from, 'NEW')",
                    )),
                    leads::claimed_from.eq(None::<String>),
                    leads::claimed_at.eq(None::<NaiveDateTime>),
                    leads::updated_at.eq(now),
                ))
                .execute(conn)
                .await?,
        )
    })
}

/// The statuses of leads waiting to be dialed, which the review judges.
const WAITING: [&str; 4] = ["NEW", "RETRY", "CALLBACK", "NEEDS_TIME_ZONE"];

/// Leads of `campaign_id` for the review of what the claim passes over:
/// waiting, due at `now`, and not judged since `since` — never-judged
/// first, then the longest ago.
pub async fn to_review(
    db: &Db,
    campaign_id: &str,
    now: NaiveDateTime,
    since: NaiveDateTime,
    limit: i64,
) -> StoreResult<Vec<Lead>> {
    with_conn!(db, |conn| {
        let due = leads::not_before.is_null().or(leads::not_before.le(now));
        let mut out: Vec<Lead> = leads::table
            .filter(leads::campaign_id.eq(campaign_id))
            .filter(leads::judged_at.is_null())
            .filter(leads::status.eq_any(WAITING))
            .filter(due)
            .order(leads::id.asc())
            .limit(limit)
            .select(Lead::as_select())
            .load(conn)
            .await?;
        let left = limit - out.len() as i64;
        if left > 0 {
            let due = leads::not_before.is_null().or(leads::not_before.le(now));
            out.extend(
                leads::table
                    .filter(leads::campaign_id.eq(campaign_id))
                    .filter(leads::judged_at.lt(since))
                    .filter(leads::status.eq_any(WAITING))
                    .filter(due)
                    .order((leads::judged_at.asc(), leads::id.asc()))
                    .limit(left)
                    .select(Lead::as_select())
                    .load::<Lead>(conn)
                    .await?,
            );
        }
        Ok(out)
    })
}

/// Record the gate's verdict on a lead as judged at `now`; `not_before`:
/// when it may be judged again (a refusal), or leave the lead's own. Only
/// while the lead is as `lead` was read (not claimed or changed since):
/// `false` otherwise.
pub async fn judged(
    db: &Db,
    lead: &Lead,
    verdict: &str,
    not_before: Option<NaiveDateTime>,
    now: NaiveDateTime,
) -> StoreResult<bool> {
    with_write!(db, |conn| {
        let same = leads::table
            .filter(leads::id.eq(&lead.id))
            .filter(leads::status.eq(&lead.status))
            .filter(leads::updated_at.eq(lead.updated_at));
        let n = diesel::update(same)
            .set((
                leads::last_verdict.eq(Some(verdict)),
                leads::judged_at.eq(Some(now)),
                leads::not_before.eq(not_before.or(lead.not_before)),
            ))
            .execute(conn)
            .await?;
        Ok(n == 1)
    })
}
