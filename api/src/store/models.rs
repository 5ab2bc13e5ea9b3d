//! Rows as they are stored. Conversion to domain types (roles) happens at
//! the repository boundary.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::*;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = organizations)]
pub struct Organization {
    pub id: String,
    pub name: String,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = users)]
pub struct User {
    pub id: String,
    pub organization_id: String,
    pub email: String,
    pub name: String,
    pub role: String,
    pub password_hash: String,
    pub active: bool,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable, serde::Serialize, serde::Deserialize)]
#[diesel(table_name = contact_centers)]
pub struct ContactCenter {
    pub id: String,
    pub organization_id: String,
    pub name: String,
    pub dialer_enabled: bool,
    pub default_region: String,
    pub time_zone: String,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = memberships)]
pub struct Membership {
    pub contact_center_id: String,
    pub user_id: String,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = sessions)]
pub struct Session {
    pub id: String,
    pub user_id: String,
    pub created_at: NaiveDateTime,
    pub expires_at: NaiveDateTime,
    pub ended_at: Option<NaiveDateTime>,
    pub client_ip: Option<String>,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = api_tokens)]
pub struct ApiToken {
    pub id: String,
    pub organization_id: String,
    pub name: String,
    pub role: String,
    pub created_by: String,
    pub created_at: NaiveDateTime,
    pub expires_at: Option<NaiveDateTime>,
    pub revoked_at: Option<NaiveDateTime>,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = audit_log)]
pub struct AuditEntry {
    pub id: String,
    pub organization_id: String,
    pub actor_id: Option<String>,
    pub action: String,
    pub subject_id: String,
    pub detail: String,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = campaigns)]
pub struct Campaign {
    pub id: String,
    pub organization_id: String,
    pub contact_center_id: String,
    pub name: String,
    pub state: String,
    pub dial_mode: String,
    pub caller_id: String,
    pub window_days: i32,
    pub window_start: String,
    pub window_end: String,
    pub ring_timeout_secs: i32,
    pub max_attempts: i32,
    pub max_attempts_per_day: i32,
    pub retry_no_answer_min: i32,
    pub retry_busy_min: i32,
    pub retry_machine_min: i32,
    pub retry_abandoned_min: i32,
    pub retry_failed_min: i32,
    pub max_abandon_rate: f64,
    pub max_dial_ratio: f64,
    pub wrap_up_limit_secs: Option<i32>,
    pub dispositions: String,
    pub machine_handling: String,
    pub safe_harbor_message: String,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    /// LAW, EXPRESS or EXPRESS_WRITTEN (`ConsentPolicy`).
    pub automated_consent: String,
    pub allow_toll_free: bool,
    /// Each day's hours when the days differ (`window::week_text`).
    pub window_hours: Option<String>,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable, serde::Serialize, serde::Deserialize)]
#[diesel(table_name = leads, treat_none_as_default_value = false)]
pub struct Lead {
    pub id: String,
    pub organization_id: String,
    pub campaign_id: String,
    pub phone: String,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub time_zone: Option<String>,
    /// JSON: `[["key", "value"], …]`, in the order given.
    pub custom_properties: String,
    pub status: String,
    pub priority: i32,
    pub attempts: i32,
    pub not_before: Option<NaiveDateTime>,
    pub last_attempt_at: Option<NaiveDateTime>,
    pub last_outcome: Option<String>,
    pub last_abandoned_at: Option<NaiveDateTime>,
    pub claimed_at: Option<NaiveDateTime>,
    /// The status the lead had when the dialer claimed it.
    pub claimed_from: Option<String>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    /// A scheduled callback reserved for this agent.
    pub callback_agent_id: Option<String>,
    /// The state or province of the lead's address (ISO 3166-2).
    pub region: Option<String>,
    /// Someone confirmed `time_zone` where the number suggests others: only
    /// then does it alone decide the lead's local time.
    pub time_zone_verified: bool,
    /// The gate's last verdict on the lead (at claim or in the review of
    /// leads the claim passes over), and when.
    pub last_verdict: Option<String>,
    pub judged_at: Option<NaiveDateTime>,
}

/// A call: placed by the dialer, by an agent, or (later) inbound.
#[derive(
    Debug,
    Clone,
    PartialEq,
    Eq,
    Queryable,
    Selectable,
    Insertable,
    AsChangeset,
    serde::Serialize,
    serde::Deserialize,
)]
#[diesel(table_name = calls, treat_none_as_null = true)]
pub struct Call {
    pub id: String,
    pub organization_id: String,
    pub contact_center_id: String,
    pub campaign_id: Option<String>,
    pub lead_id: Option<String>,
    /// The agent the call is (or was last) with.
    pub agent_id: Option<String>,
    /// The agent the call is reserved for (a named callback, a preview).
    pub target_agent_id: Option<String>,
    pub origin: String,
    pub phone: String,
    pub caller_id: String,
    pub state: String,
    pub outcome: Option<String>,
    /// HUMAN or MACHINE once answered.
    pub answered_by: Option<String>,
    pub muted: bool,
    pub on_hold: bool,
    pub created_at: NaiveDateTime,
    pub dialed_at: Option<NaiveDateTime>,
    pub answered_at: Option<NaiveDateTime>,
    pub connected_at: Option<NaiveDateTime>,
    pub ended_at: Option<NaiveDateTime>,
    pub updated_at: NaiveDateTime,
    /// Time on hold so far, and in conversation (connected → ended minus
    /// hold, set when the call ends), in milliseconds.
    pub hold_ms: i32,
    pub talk_ms: i32,
    /// When the current hold began.
    pub held_at: Option<NaiveDateTime>,
}

/// One step in a call's (or an agent's) life, as logged.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable)]
#[diesel(table_name = call_events)]
pub struct CallEventRow {
    pub id: String,
    pub organization_id: String,
    pub contact_center_id: String,
    pub call_id: Option<String>,
    pub agent_id: Option<String>,
    pub kind: String,
    /// JSON object with the step's details.
    pub detail: String,
    pub at: NaiveDateTime,
}

/// An agent's presence as last written (the engine's memory is the live
/// copy; this row survives restarts).
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = agent_presence, treat_none_as_null = true)]
pub struct Presence {
    pub user_id: String,
    pub organization_id: String,
    pub contact_center_id: Option<String>,
    pub status: String,
    pub reason: Option<String>,
    pub since: NaiveDateTime,
    pub pending_wrap_up_call_id: Option<String>,
    pub updated_at: NaiveDateTime,
}

#[derive(
    Debug,
    Clone,
    PartialEq,
    Eq,
    Queryable,
    Selectable,
    Insertable,
    serde::Serialize,
    serde::Deserialize,
)]
#[diesel(table_name = wrap_ups)]
pub struct WrapUp {
    pub id: String,
    pub organization_id: String,
    pub call_id: String,
    pub campaign_id: Option<String>,
    pub lead_id: Option<String>,
    pub agent_id: String,
    pub disposition_code: String,
    pub notes: String,
    pub automatic: bool,
    pub created_at: NaiveDateTime,
    pub do_not_call: bool,
    pub do_not_text: bool,
    /// WRONG_NUMBER, DISCONNECTED or OTHER.
    pub invalid_number: Option<String>,
    pub callback_at: Option<NaiveDateTime>,
    pub callback_agent_id: Option<String>,
    /// When last corrected (none: never).
    pub updated_at: Option<NaiveDateTime>,
    pub corrections: i32,
    /// Call ended → wrap-up submitted, in milliseconds.
    pub wrap_ms: i32,
    /// The disposition's category and conversion flag when given.
    pub category: String,
    pub conversion: bool,
    /// The called party revoked their consent on this call.
    pub revoke_consent: bool,
}

/// One entry of a number's consent log.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = consents, treat_none_as_default_value = false)]
pub struct Consent {
    pub id: String,
    pub organization_id: String,
    pub phone: String,
    /// EXPRESS, EXPRESS_WRITTEN or REVOKED.
    pub kind: String,
    pub at: NaiveDateTime,
    pub method: String,
    pub source: String,
    pub lead_id: Option<String>,
    pub call_id: Option<String>,
    pub created_by: Option<String>,
    pub created_at: NaiveDateTime,
}

/// One revision of an organization's own calling rules (`domain::policy`).
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = organization_policies)]
pub struct OrganizationPolicy {
    pub organization_id: String,
    pub revision: i32,
    /// `domain::policy::Policy::to_json`.
    pub policy: String,
    pub set_at: NaiveDateTime,
    pub set_by: String,
}
