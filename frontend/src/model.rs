//! The shapes the workspace reads from the API, and the GraphQL selections
//! that fill them (one `CALL` selection everywhere, so a call looks the same
//! whether it came from a query, a mutation or the live stream).

use serde::Deserialize;

/// Everything the workspace shows about a call.
pub const CALL: &str = "id origin dialer state muted onHold phone createdAt connectedAt endedAt \
     campaign { id name dialMode wrapUpLimitSeconds } \
     lead { id phone firstName lastName timeZone attempts customProperties { key value } \
            history(first: 10) { id origin dialer createdAt outcome agent { name } wrapUp { dispositionCode notes } } } \
     dispositions { code label category }";

pub fn presence_selection() -> String {
    format!(
        "status reason since contactCenterId pinnedLeg {{ id state kind }} \
         activeCall {{ {CALL} }} wrapUpCall {{ {CALL} }} offeredCall {{ {CALL} }}"
    )
}

pub fn agent_events_subscription() -> String {
    format!(
        "subscription AgentEvents {{ agentEvents {{ __typename \
         ... on PresenceChanged {{ at presence {{ {} }} }} \
         ... on PinnedLegChanged {{ at pinnedLeg {{ id state kind }} }} \
         ... on CallEvent {{ step detail at call {{ {CALL} }} }} }} }}",
        presence_selection()
    )
}

#[derive(Deserialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Presence {
    pub status: String,
    pub reason: Option<String>,
    pub since: String,
    pub contact_center_id: Option<String>,
    pub pinned_leg: Option<PinnedLeg>,
    pub active_call: Option<Call>,
    pub wrap_up_call: Option<Call>,
    pub offered_call: Option<Call>,
}

#[derive(Deserialize, Clone, Debug, PartialEq)]
pub struct PinnedLeg {
    pub id: String,
    pub state: String,
    /// SIMULATED, SIP_PHONE or BROWSER (this page opens a BROWSER one).
    #[serde(default)]
    pub kind: Option<String>,
}

#[derive(Deserialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Call {
    pub id: String,
    pub origin: String,
    pub dialer: bool,
    pub state: String,
    pub muted: bool,
    pub on_hold: bool,
    pub phone: String,
    pub created_at: String,
    pub connected_at: Option<String>,
    pub ended_at: Option<String>,
    pub campaign: Option<CampaignRef>,
    pub lead: Option<Lead>,
    #[serde(default)]
    pub dispositions: Vec<Disposition>,
}

impl Call {
    /// The lead's name, or the number when there is none.
    pub fn title(&self) -> String {
        self.lead
            .as_ref()
            .map(Lead::name)
            .filter(|n| !n.is_empty())
            .unwrap_or_else(|| self.phone.clone())
    }
}

#[derive(Deserialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct CampaignRef {
    pub id: String,
    pub name: String,
    pub dial_mode: String,
    pub wrap_up_limit_seconds: Option<u32>,
}

#[derive(Deserialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Lead {
    pub id: String,
    pub phone: String,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub time_zone: Option<String>,
    pub attempts: i32,
    pub custom_properties: Vec<Property>,
    #[serde(default)]
    pub history: Vec<PastCall>,
}

impl Lead {
    pub fn name(&self) -> String {
        full_name(self.first_name.as_deref(), self.last_name.as_deref())
    }
}

/// "First Last" from whichever parts there are ("" when none).
pub fn full_name(first: Option<&str>, last: Option<&str>) -> String {
    [first, last]
        .into_iter()
        .flatten()
        .filter(|s| !s.trim().is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

#[derive(Deserialize, Clone, Debug, PartialEq)]
pub struct Property {
    pub key: String,
    pub value: String,
}

#[derive(Deserialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct PastCall {
    pub id: String,
    pub origin: String,
    pub dialer: bool,
    pub created_at: String,
    pub outcome: Option<String>,
    pub agent: Option<Named>,
    pub wrap_up: Option<PastWrapUp>,
}

#[derive(Deserialize, Clone, Debug, PartialEq)]
pub struct Named {
    pub name: String,
}

#[derive(Deserialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct PastWrapUp {
    pub disposition_code: String,
    pub notes: String,
}

#[derive(Deserialize, Clone, Debug, PartialEq)]
pub struct Disposition {
    pub code: String,
    pub label: String,
    pub category: String,
}

/// One message of the `agentEvents` stream.
#[derive(Deserialize, Clone, Debug)]
#[serde(tag = "__typename")]
pub enum AgentEvent {
    PresenceChanged {
        presence: Box<Presence>,
    },
    PinnedLegChanged {
        #[serde(rename = "pinnedLeg")]
        pinned_leg: Option<PinnedLeg>,
    },
    CallEvent {
        step: String,
        detail: Option<String>,
        call: Box<Call>,
    },
}

/// Words for a call outcome.
pub fn outcome_words(outcome: &str) -> &'static str {
    match outcome {
        "COMPLETED" => "Completed",
        "TRANSFERRED" => "Transferred",
        "ABANDONED" => "Abandoned",
        "MACHINE" => "Answering machine",
        "NO_ANSWER" => "No answer",
        "BUSY" => "Busy",
        "FAILED" => "Failed",
        "SKIPPED" => "Skipped",
        "NOT_DIALED" => "Not dialed",
        "SERVER_RESTART" => "Cut by a server restart",
        _ => "Ended",
    }
}

/// Words for a call state.
pub fn state_words(state: &str) -> &'static str {
    match state {
        "OFFERED" => "Offered",
        "DIALING" => "Dialing…",
        "RINGING" => "Ringing…",
        "ANSWERED" => "Answered",
        "CONNECTED" => "Connected",
        "HELD" => "On hold",
        "TRANSFERRING" => "Transferring…",
        "ENDED" => "Ended",
        _ => "…",
    }
}

/// The pinned leg, as the agent reads it.
pub fn leg_words(leg: Option<&PinnedLeg>) -> &'static str {
    leg_state_words(leg.map_or("NONE", |l| l.state.as_str()))
}

/// A pinned leg's state (`NONE` when there is none), in words.
pub fn leg_state_words(state: &str) -> &'static str {
    match state {
        "IDLE" => "connected · muted",
        "BRIDGED" => "connected · live",
        "CONNECTING" => "connecting",
        "DISCONNECTED" => "disconnected — reconnecting",
        _ => "not connected",
    }
}
