//! Campaigns: settings, the disposition set (JSON), and lifecycle changes
//! applied with compare-and-set so two supervisors cannot race a state.

use crate::domain::consent::ConsentPolicy;
use chrono::NaiveTime;
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use serde::{Deserialize, Serialize};

use super::models::{AuditEntry, Campaign, ContactCenter};
use super::schema::campaigns;
use super::{Db, Page, StoreError, StoreResult, audit_log_insert, with_conn, with_tx};
use crate::domain::campaign::{
    CampaignSettings, CampaignState, DialMode, Disposition, DispositionCategory, MachineHandling,
    RetryDelays,
};
use crate::domain::window::{CallingWindow, Weekdays, parse_week, week_text};

#[derive(Serialize, Deserialize)]
struct DispositionJson {
    code: String,
    label: String,
    category: String,
    ends_lead: bool,
    #[serde(default)]
    retry_delay_minutes: Option<u32>,
    #[serde(default)]
    conversion: bool,
}

fn corrupt(what: &str, id: &str) -> StoreError {
    StoreError::Corrupt(format!("campaign {id}: bad {what}"))
}

/// The row's settings as domain values.
pub fn settings_of(row: &Campaign) -> StoreResult<CampaignSettings> {
    let id = &row.id;
    let time = |s: &str| NaiveTime::parse_from_str(s, "%H:%M").map_err(|_| corrupt("window", id));
    let dispositions: Vec<DispositionJson> =
        serde_json::from_str(&row.dispositions).map_err(|_| corrupt("dispositions", id))?;
    let u = |v: i32| u32::try_from(v).map_err(|_| corrupt("number", id));
    Ok(CampaignSettings {
        dial_mode: DialMode::parse(&row.dial_mode).ok_or_else(|| corrupt("dial mode", id))?,
        caller_id: row.caller_id.clone(),
        calling_window: match &row.window_hours {
            Some(text) => {
                CallingWindow::from_week(parse_week(text).ok_or_else(|| corrupt("window", id))?)
            }
            None => {
                let days = Weekdays::from_bits(
                    u8::try_from(row.window_days).map_err(|_| corrupt("days", id))?,
                );
                let hours = Some((time(&row.window_start)?, time(&row.window_end)?));
                let mut week = [None; 7];
                for d in days.iter() {
                    week[d.num_days_from_monday() as usize] = hours;
                }
                CallingWindow::from_week(week)
            }
        },
        ring_timeout_secs: u(row.ring_timeout_secs)?,
        max_attempts: u(row.max_attempts)?,
        max_attempts_per_day: u(row.max_attempts_per_day)?,
        retry_delays: RetryDelays {
            no_answer: u(row.retry_no_answer_min)?,
            busy: u(row.retry_busy_min)?,
            machine: u(row.retry_machine_min)?,
            abandoned: u(row.retry_abandoned_min)?,
            failed: u(row.retry_failed_min)?,
        },
        max_abandon_rate: row.max_abandon_rate,
        max_dial_ratio: row.max_dial_ratio,
        wrap_up_limit_secs: row.wrap_up_limit_secs.map(u).transpose()?,
        dispositions: dispositions
            .into_iter()
            .map(|d| {
                Ok(Disposition {
                    category: DispositionCategory::parse(&d.category)
                        .ok_or_else(|| corrupt("disposition category", id))?,
                    code: d.code,
                    label: d.label,
                    ends_lead: d.ends_lead,
                    retry_delay_minutes: d.retry_delay_minutes,
                    conversion: d.conversion,
                })
            })
            .collect::<StoreResult<_>>()?,
        machine_handling: MachineHandling::parse(&row.machine_handling)
            .ok_or_else(|| corrupt("machine handling", id))?,
        safe_harbor_message: row.safe_harbor_message.clone(),
        automated_consent: ConsentPolicy::parse(&row.automated_consent)
            .ok_or_else(|| corrupt("automated consent", id))?,
        allow_toll_free: row.allow_toll_free,
    })
}

pub fn state_of(row: &Campaign) -> StoreResult<CampaignState> {
    CampaignState::parse(&row.state).ok_or_else(|| corrupt("state", &row.id))
}

/// Write `settings` into `row`'s columns.
pub fn apply_settings(row: &mut Campaign, s: &CampaignSettings) {
    let n = |v: u32| i32::try_from(v).unwrap_or(i32::MAX);
    row.dial_mode = s.dial_mode.as_str().to_owned();
    row.caller_id = s.caller_id.clone();
    // The columns of the uniform form hold the week's outline; a week of
    // different days is written out day by day.
    let w = s.calling_window;
    row.window_days = i32::from(w.days().bits());
    row.window_start = w.earliest_start().format("%H:%M").to_string();
    row.window_end = w.latest_end().format("%H:%M").to_string();
    row.window_hours = w.uniform().is_none().then(|| week_text(&w.week()));
    row.ring_timeout_secs = n(s.ring_timeout_secs);
    row.max_attempts = n(s.max_attempts);
    row.max_attempts_per_day = n(s.max_attempts_per_day);
    row.retry_no_answer_min = n(s.retry_delays.no_answer);
    row.retry_busy_min = n(s.retry_delays.busy);
    row.retry_machine_min = n(s.retry_delays.machine);
    row.retry_abandoned_min = n(s.retry_delays.abandoned);
    row.retry_failed_min = n(s.retry_delays.failed);
    row.max_abandon_rate = s.max_abandon_rate;
    row.max_dial_ratio = s.max_dial_ratio;
    row.wrap_up_limit_secs = s.wrap_up_limit_secs.map(n);
    let json: Vec<DispositionJson> = s
        .dispositions
        .iter()
        .map(|d| DispositionJson {
            code: d.code.clone(),
            label: d.label.clone(),
            category: d.category.as_str().to_owned(),
            ends_lead: d.ends_lead,
            retry_delay_minutes: d.retry_delay_minutes,
            conversion: d.conversion,
        })
        .collect();
    row.dispositions = serde_json::to_string(&json).unwrap_or_else(|_| "[]".into());
    row.machine_handling = s.machine_handling.as_str().to_owned();
    row.safe_harbor_message = s.safe_harbor_message.clone();
    row.automated_consent = s.automated_consent.as_str().to_owned();
    row.allow_toll_free = s.allow_toll_free;
}

/// A new DRAFT campaign's row in `cc`.
pub fn new_row(cc: &ContactCenter, name: String, settings: &CampaignSettings) -> Campaign {
    let now = super::now();
    let mut row = Campaign {
        id: super::new_id(),
        organization_id: cc.organization_id.clone(),
        contact_center_id: cc.id.clone(),
        name,
        state: CampaignState::Draft.as_str().to_owned(),
        dial_mode: String::new(),
        caller_id: String::new(),
        window_days: 0,
        window_start: String::new(),
        window_end: String::new(),
        window_hours: None,
        ring_timeout_secs: 0,
        max_attempts: 0,
        max_attempts_per_day: 0,
        retry_no_answer_min: 0,
        retry_busy_min: 0,
        retry_machine_min: 0,
        retry_abandoned_min: 0,
        retry_failed_min: 0,
        max_abandon_rate: 0.0,
        max_dial_ratio: 0.0,
        wrap_up_limit_secs: None,
        dispositions: String::new(),
        machine_handling: String::new(),
        safe_harbor_message: String::new(),
        created_at: now,
        updated_at: now,
        automated_consent: String::new(),
        allow_toll_free: false,
    };
    apply_settings(&mut row, settings);
    row
}

pub async fn insert(db: &Db, row: Campaign, audit: AuditEntry) -> StoreResult<Campaign> {
    with_tx!(db, |conn| {
        diesel::insert_into(campaigns::table)
            .values(&row)
            .execute(conn)
            .await
            .map_err(|e| {
                StoreError::unique_as(e, "a campaign with this name in the contact center")
            })?;
        audit_log_insert!(conn, &audit);
        Ok(row.clone())
    })
}

pub async fn get(db: &Db, id: &str) -> StoreResult<Option<Campaign>> {
    with_conn!(db, |conn| {
        Ok(campaigns::table
            .find(id)
            .select(Campaign::as_select())
            .first(conn)
            .await
            .optional()?)
    })
}

/// A page of an organization's campaigns, optionally of some contact
/// centers only and in some states.
pub async fn list(
    db: &Db,
    organization_id: &str,
    contact_centers: Option<&[String]>,
    states: Option<&[String]>,
    after: Option<&str>,
    limit: usize,
) -> StoreResult<Page<Campaign>> {
    let rows = with_conn!(db, |conn| {
        let mut q = campaigns::table
            .filter(campaigns::organization_id.eq(organization_id))
            .select(Campaign::as_select())
            .order(campaigns::id.asc())
            .limit(limit as i64 + 1)
            .into_boxed();
        if let Some(after) = after {
            q = q.filter(campaigns::id.gt(after));
        }
        if let Some(ccs) = contact_centers {
            q = q.filter(campaigns::contact_center_id.eq_any(ccs));
        }
        if let Some(states) = states {
            q = q.filter(campaigns::state.eq_any(states));
        }
        q.load(conn).await?
    });
    Ok(Page::from_overfetch(rows, limit))
}

/// Replace the settings (and name) of a campaign.
pub async fn update(db: &Db, row: Campaign, audit: AuditEntry) -> StoreResult<Campaign> {
    let now = super::now();
    with_tx!(db, |conn| {
        let updated = diesel::update(campaigns::table.find(&row.id))
            .set((
                campaigns::name.eq(&row.name),
                campaigns::dial_mode.eq(&row.dial_mode),
                campaigns::caller_id.eq(&row.caller_id),
                campaigns::window_days.eq(row.window_days),
                campaigns::window_start.eq(&row.window_start),
                campaigns::window_end.eq(&row.window_end),
                campaigns::window_hours.eq(&row.window_hours),
                campaigns::ring_timeout_secs.eq(row.ring_timeout_secs),
                campaigns::max_attempts.eq(row.max_attempts),
                campaigns::max_attempts_per_day.eq(row.max_attempts_per_day),
                campaigns::retry_no_answer_min.eq(row.retry_no_answer_min),
                campaigns::retry_busy_min.eq(row.retry_busy_min),
                campaigns::retry_machine_min.eq(row.retry_machine_min),
                campaigns::retry_abandoned_min.eq(row.retry_abandoned_min),
                campaigns::retry_failed_min.eq(row.retry_failed_min),
                campaigns::max_abandon_rate.eq(row.max_abandon_rate),
                campaigns::max_dial_ratio.eq(row.max_dial_ratio),
                campaigns::wrap_up_limit_secs.eq(row.wrap_up_limit_secs),
                campaigns::dispositions.eq(&row.dispositions),
                campaigns::machine_handling.eq(&row.machine_handling),
                campaigns::safe_harbor_message.eq(&row.safe_harbor_message),
                campaigns::automated_consent.eq(&row.automated_consent),
                campaigns::allow_toll_free.eq(row.allow_toll_free),
                campaigns::updated_at.eq(now),
            ))
            .returning(Campaign::as_returning())
            .get_result(conn)
            .await
            .map_err(|e| {
                StoreError::unique_as(e, "a campaign with this name in the contact center")
            })?;
        audit_log_insert!(conn, &audit);
        Ok(updated)
    })
}

/// Outcome of a lifecycle change.
#[derive(Debug)]
pub enum StateChange {
    Changed(Box<Campaign>),
    /// The campaign was no longer in the expected state.
    Raced,
    /// Another campaign of the contact center is running.
    AnotherRunning,
}

/// Move from `from` to `to` if the campaign is still in `from`.
pub async fn set_state(
    db: &Db,
    id: &str,
    from: CampaignState,
    to: CampaignState,
    audit: AuditEntry,
) -> StoreResult<StateChange> {
    let now = super::now();
    let result = with_tx!(db, |conn| {
        let changed = diesel::update(
            campaigns::table
                .filter(campaigns::id.eq(id))
                .filter(campaigns::state.eq(from.as_str())),
        )
        .set((
            campaigns::state.eq(to.as_str()),
            campaigns::updated_at.eq(now),
        ))
        .returning(Campaign::as_returning())
        .get_result(conn)
        .await
        .optional()
        .map_err(|e| StoreError::unique_as(e, "a running campaign"))?;
        if changed.is_some() {
            audit_log_insert!(conn, &audit);
        }
        Ok(changed)
    });
    match result {
        Ok(Some(c)) => Ok(StateChange::Changed(Box::new(c))),
        Ok(None) => Ok(StateChange::Raced),
        Err(StoreError::Duplicate(_)) => Ok(StateChange::AnotherRunning),
        Err(e) => Err(e),
    }
}

/// Every RUNNING campaign (the engine paces them).
pub async fn running(db: &Db) -> StoreResult<Vec<Campaign>> {
    with_conn!(db, |conn| {
        Ok(campaigns::table
            .filter(campaigns::state.eq("RUNNING"))
            .select(Campaign::as_select())
            .load(conn)
            .await?)
    })
}
