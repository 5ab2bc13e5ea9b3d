//! Campaigns: the lifecycle state machine and the settings' rules.

use chrono::Duration;

use super::consent::ConsentPolicy;
use super::identity::FieldError;
use super::window::CallingWindow;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CampaignState {
    Draft,
    Running,
    Paused,
    Completed,
    Archived,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DialMode {
    /// The agent sees the lead first and chooses to dial or skip.
    Preview,
    /// One call per available agent.
    Progressive,
    /// More calls than agents, paced to the abandonment limit.
    Predictive,
}

/// What a supervisor asks of a campaign's lifecycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LifecycleAction {
    Start,
    Pause,
    Complete,
    Archive,
}

macro_rules! str_enum {
    ($ty:ident { $($variant:ident => $s:literal),* $(,)? }) => {
        impl $ty {
            pub fn as_str(self) -> &'static str {
                match self { $($ty::$variant => $s),* }
            }
            pub fn parse(s: &str) -> Option<$ty> {
                match s { $($s => Some($ty::$variant),)* _ => None }
            }
        }
    };
}
pub(crate) use str_enum;

str_enum!(CampaignState {
    Draft => "DRAFT",
    Running => "RUNNING",
    Paused => "PAUSED",
    Completed => "COMPLETED",
    Archived => "ARCHIVED",
});
str_enum!(DialMode {
    Preview => "PREVIEW",
    Progressive => "PROGRESSIVE",
    Predictive => "PREDICTIVE",
});

impl DialMode {
    /// The dialer, not a person, chooses the number and dials it: the
    /// "automated system for the selection and dialing" the consent laws
    /// name. In preview a person chooses to dial.
    pub fn is_automated(self) -> bool {
        matches!(self, DialMode::Progressive | DialMode::Predictive)
    }
}

/// DRAFT → RUNNING ⇄ PAUSED → COMPLETED → ARCHIVED. `Start` also resumes a
/// paused campaign; a draft may be archived unused; completing is final.
pub fn transition(from: CampaignState, action: LifecycleAction) -> Option<CampaignState> {
    use CampaignState::*;
    use LifecycleAction::*;
    match (from, action) {
        (Draft | Paused, Start) => Some(Running),
        (Running, Pause) => Some(Paused),
        (Running | Paused, Complete) => Some(Completed),
        (Completed | Draft, Archive) => Some(Archived),
        _ => None,
    }
}

/// Whether a campaign in `state` may still be changed and take new leads:
/// not once it is COMPLETED or ARCHIVED (the refusal says why).
pub fn check_open(state: CampaignState, doing: &str) -> Result<(), String> {
    match state {
        CampaignState::Completed | CampaignState::Archived => {
            Err(format!("a {} campaign {doing}", state.as_str()))
        }
        _ => Ok(()),
    }
}

/// Why a lead was last tried and not finished: picks the retry delay.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AttemptOutcome {
    NoAnswer,
    Busy,
    Machine,
    Abandoned,
    Failed,
}

str_enum!(AttemptOutcome {
    NoAnswer => "NO_ANSWER",
    Busy => "BUSY",
    Machine => "MACHINE",
    Abandoned => "ABANDONED",
    Failed => "FAILED",
});

/// A number whose call was abandoned is not called again within 72 hours by
/// a predictive campaign.
pub const ABANDON_LOCKOUT: Duration = Duration::hours(72);
/// Unanswered calls ring at least this long.
pub const MIN_RING_TIMEOUT_SECS: u32 = 15;
pub const MAX_RING_TIMEOUT_SECS: u32 = 120;
pub const DEFAULT_MAX_ABANDON_RATE: f64 = 0.03;

/// Retry delays per outcome, in minutes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryDelays {
    pub no_answer: u32,
    pub busy: u32,
    pub machine: u32,
    pub abandoned: u32,
    pub failed: u32,
}

impl Default for RetryDelays {
    fn default() -> Self {
        RetryDelays {
            no_answer: 4 * 60,
            busy: 30,
            machine: 24 * 60,
            abandoned: 72 * 60,
            failed: 24 * 60,
        }
    }
}

impl RetryDelays {
    pub fn for_outcome(&self, outcome: AttemptOutcome) -> Duration {
        let minutes = match outcome {
            AttemptOutcome::NoAnswer => self.no_answer,
            AttemptOutcome::Busy => self.busy,
            AttemptOutcome::Machine => self.machine,
            AttemptOutcome::Abandoned => self.abandoned,
            AttemptOutcome::Failed => self.failed,
        };
        Duration::minutes(minutes.into())
    }
}

/// A lead's next status and due time after an attempt that reached no
/// one (the disposition decides after a conversation): retried after the
/// campaign's delay for the outcome, or finished at the attempt limit.
pub fn after_attempt(
    settings: &CampaignSettings,
    attempts_before: u32,
    outcome: AttemptOutcome,
    at: chrono::DateTime<chrono::Utc>,
) -> (
    crate::domain::eligibility::LeadStatus,
    Option<chrono::DateTime<chrono::Utc>>,
) {
    use crate::domain::eligibility::LeadStatus;
    if attempts_before + 1 >= settings.max_attempts {
        (LeadStatus::Finished, None)
    } else {
        (
            LeadStatus::Retry,
            Some(at + settings.retry_delays.for_outcome(outcome)),
        )
    }
}

/// What happens when a machine answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MachineHandling {
    /// Hang up and retry after the machine delay.
    HangUp,
    /// Play the campaign's voicemail message, then hang up.
    LeaveMessage,
    /// Connect the machine to an agent like a person.
    ConnectAgent,
}

str_enum!(MachineHandling {
    HangUp => "HANG_UP",
    LeaveMessage => "LEAVE_MESSAGE",
    ConnectAgent => "CONNECT_AGENT",
});

/// How a disposition leaves the lead.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DispositionCategory {
    /// A conversation with the right party.
    Contact,
    /// Reached something other than the person (voicemail, wrong party).
    NonContact,
    /// The lead asked to be called back.
    Callback,
    /// Nothing more to do with this lead (sale, refusal, do not call).
    Final,
}

str_enum!(DispositionCategory {
    Contact => "CONTACT",
    NonContact => "NON_CONTACT",
    Callback => "CALLBACK",
    Final => "FINAL",
});

/// One choice an agent has at wrap-up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Disposition {
    pub code: String,
    pub label: String,
    pub category: DispositionCategory,
    /// Whether the lead is finished after this disposition.
    pub ends_lead: bool,
    /// When not finished: retry after this many minutes (none = the
    /// campaign's no-answer delay).
    pub retry_delay_minutes: Option<u32>,
    /// Counts as a conversion (a sale, an appointment) in the analytics.
    pub conversion: bool,
}

/// The default disposition set of a new campaign.
pub fn default_dispositions() -> Vec<Disposition> {
    let d = |code: &str, label: &str, category, ends_lead, retry: Option<u32>| Disposition {
        code: code.into(),
        label: label.into(),
        category,
        ends_lead,
        retry_delay_minutes: retry,
        conversion: code == "INTERESTED",
    };
    use DispositionCategory::*;
    vec![
        d("INTERESTED", "Connected – Interested", Contact, true, None),
        d(
            "NOT_INTERESTED",
            "Connected – Not interested",
            Final,
            true,
            None,
        ),
        d("CALL_BACK", "Call back", Callback, false, None),
        d(
            "LEFT_VOICEMAIL",
            "Left voicemail",
            NonContact,
            false,
            Some(24 * 60),
        ),
        d("NO_ANSWER", "No answer", NonContact, false, None),
        d("WRONG_PARTY", "Wrong party", NonContact, true, None),
    ]
}

/// The placeholder a safe-harbor message names the caller ID with.
pub const CALLER_ID: &str = "{callerId}";

/// A new campaign's safe-harbor (information) message: it says who called
/// and a number to call back, as the FTC's safe harbor and Ofcom ask.
pub const DEFAULT_SAFE_HARBOR: &str = "Sorry we missed you. This call was from {callerId}; we will try again later. To stop these calls, call us back on {callerId} and ask to be removed.";

/// Whether a message gives a number to call back: the placeholder, or
/// seven digits or more.
fn names_a_number(message: &str) -> bool {
    message.contains(CALLER_ID) || message.chars().filter(char::is_ascii_digit).count() >= 7
}

/// The safe-harbor message as spoken: `{callerId}` read out digit by
/// digit, in groups ("4 1 5, 5 5 5, 0 1 0 0").
pub fn spoken_message(s: &CampaignSettings) -> String {
    let digits: Vec<char> = s
        .caller_id
        .trim_start_matches("+1")
        .trim_start_matches('+')
        .chars()
        .filter(char::is_ascii_digit)
        .collect();
    let groups: Vec<String> = if s.caller_id.starts_with("+1") && digits.len() == 10 {
        [&digits[..3], &digits[3..6], &digits[6..]]
            .iter()
            .map(|g| g.iter().map(char::to_string).collect::<Vec<_>>().join(" "))
            .collect()
    } else {
        digits
            .chunks(3)
            .map(|g| g.iter().map(char::to_string).collect::<Vec<_>>().join(" "))
            .collect()
    };
    s.safe_harbor_message.replace(CALLER_ID, &groups.join(", "))
}

/// The settings of a campaign, as validated.
#[derive(Debug, Clone, PartialEq)]
pub struct CampaignSettings {
    pub dial_mode: DialMode,
    /// E.164.
    pub caller_id: String,
    pub calling_window: CallingWindow,
    pub ring_timeout_secs: u32,
    pub max_attempts: u32,
    pub max_attempts_per_day: u32,
    pub retry_delays: RetryDelays,
    /// Fraction of live answers, 0 < r ≤ 0.03 by default law.
    pub max_abandon_rate: f64,
    /// Calls per available agent the predictive pacer may reach.
    pub max_dial_ratio: f64,
    /// Seconds an agent may stay in wrap-up; none = no limit.
    pub wrap_up_limit_secs: Option<u32>,
    pub dispositions: Vec<Disposition>,
    pub machine_handling: MachineHandling,
    pub safe_harbor_message: String,
    /// What automated dial modes ask of a number's consent, on top of the
    /// called party's law.
    pub automated_consent: ConsentPolicy,
    /// Toll-free numbers may be leads (a campaign calling businesses);
    /// refused otherwise: they reach businesses, not people, and cost the
    /// called party.
    pub allow_toll_free: bool,
}

impl CampaignSettings {
    /// A new campaign's settings: progressive, the legal window, 25 s ring,
    /// 5 attempts (2 a day), 3 % abandonment, the default dispositions. The
    /// caller ID must still be set.
    pub fn defaults() -> CampaignSettings {
        CampaignSettings {
            dial_mode: DialMode::Progressive,
            caller_id: String::new(),
            calling_window: CallingWindow::default(),
            ring_timeout_secs: 25,
            max_attempts: 5,
            max_attempts_per_day: 2,
            retry_delays: RetryDelays::default(),
            max_abandon_rate: DEFAULT_MAX_ABANDON_RATE,
            max_dial_ratio: 2.5,
            wrap_up_limit_secs: None,
            dispositions: default_dispositions(),
            machine_handling: MachineHandling::HangUp,
            safe_harbor_message: DEFAULT_SAFE_HARBOR.into(),
            automated_consent: ConsentPolicy::Law,
            allow_toll_free: false,
        }
    }

    /// The disposition `code` of the campaign's set, or why not (naming the
    /// set).
    pub fn disposition(&self, code: &str) -> Result<&Disposition, String> {
        self.dispositions
            .iter()
            .find(|d| d.code == code)
            .ok_or_else(|| {
                let codes: Vec<&str> = self.dispositions.iter().map(|d| d.code.as_str()).collect();
                format!("is not in the campaign's set ({})", codes.join(", "))
            })
    }
}

fn field(field: &'static str, message: impl Into<String>) -> FieldError {
    FieldError::new(field, message)
}

/// Check every rule of PRODUCT.md §3–§4 on a campaign's settings: the
/// first problem, if any.
pub fn validate(s: &CampaignSettings) -> Result<(), FieldError> {
    match problems(s).into_iter().next() {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

/// Every rule of PRODUCT.md §3–§4 a campaign's settings break, in the
/// order of the form (the editor shows them as the supervisor types).
pub fn problems(s: &CampaignSettings) -> Vec<FieldError> {
    let mut out = Vec::new();
    let digits = s.caller_id.strip_prefix('+').unwrap_or("");
    if !(8..=15).contains(&digits.len()) || !digits.chars().all(|c| c.is_ascii_digit()) {
        out.push(field(
            "callerId",
            "must be an E.164 number such as +14155550100",
        ));
    } else if let Some(refused) = super::phone::refused_as_caller_id(&s.caller_id) {
        out.push(field(
            "callerId",
            format!(
                "{} {}: it may not be shown to the people called",
                s.caller_id,
                refused.describe()
            ),
        ));
    }
    if s.calling_window
        .shortest_day()
        .is_some_and(|d| d < Duration::minutes(15))
    {
        out.push(field(
            "callingWindow.end",
            "must be at least 15 minutes after the start",
        ));
    }
    if !(MIN_RING_TIMEOUT_SECS..=MAX_RING_TIMEOUT_SECS).contains(&s.ring_timeout_secs) {
        out.push(field(
            "ringTimeoutSeconds",
            format!(
                "must be between {MIN_RING_TIMEOUT_SECS} and {MAX_RING_TIMEOUT_SECS} seconds (unanswered calls ring at least 15 s)"
            ),
        ));
    }
    if !(1..=100).contains(&s.max_attempts) {
        out.push(field("maxAttempts", "must be between 1 and 100"));
    }
    if s.max_attempts_per_day < 1 || s.max_attempts_per_day > s.max_attempts {
        out.push(field(
            "maxAttemptsPerDay",
            "must be between 1 and maxAttempts",
        ));
    }
    if !(s.max_abandon_rate > 0.0 && s.max_abandon_rate <= DEFAULT_MAX_ABANDON_RATE) {
        out.push(field(
            "maxAbandonRate",
            "must be above 0 and at most 0.03 (3 % of live answers)",
        ));
    }
    if !(1.0..=5.0).contains(&s.max_dial_ratio) {
        out.push(field("maxDialRatio", "must be between 1.0 and 5.0"));
    }
    if s.dial_mode == DialMode::Predictive
        && Duration::minutes(s.retry_delays.abandoned.into()) < ABANDON_LOCKOUT
    {
        out.push(field(
            "retryDelays.abandoned",
            "must be at least 72 hours (4320 minutes) in a PREDICTIVE campaign",
        ));
    }
    let max_delay = 60 * 24 * 365;
    let delays = [
        ("retryDelays.noAnswer", s.retry_delays.no_answer),
        ("retryDelays.busy", s.retry_delays.busy),
        ("retryDelays.machine", s.retry_delays.machine),
        ("retryDelays.abandoned", s.retry_delays.abandoned),
        ("retryDelays.failed", s.retry_delays.failed),
    ];
    if let Some((name, _)) = delays.iter().find(|(_, m)| *m > max_delay) {
        out.push(field(name, "must be at most a year"));
    }
    if s.wrap_up_limit_secs
        .is_some_and(|w| !(5..=3600).contains(&w))
    {
        out.push(field(
            "wrapUpLimitSeconds",
            "must be between 5 and 3600 seconds",
        ));
    }
    if s.dispositions.is_empty() {
        out.push(field("dispositions", "must have at least one disposition"));
    }
    let mut codes = std::collections::HashSet::new();
    for d in &s.dispositions {
        let ok = !d.code.is_empty()
            && d.code.len() <= 64
            && d.code
                .chars()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_');
        if !ok {
            out.push(field(
                "dispositions.code",
                format!("{:?} must be 1–64 characters of A–Z, 0–9 and _", d.code),
            ));
        }
        if !codes.insert(d.code.as_str()) {
            out.push(field(
                "dispositions.code",
                format!("{:?} appears twice", d.code),
            ));
        }
        if d.label.trim().is_empty() || d.label.chars().count() > 100 {
            out.push(field("dispositions.label", "must be 1–100 characters"));
        }
        if d.retry_delay_minutes.is_some_and(|m| m > max_delay) {
            out.push(field(
                "dispositions.retryDelayMinutes",
                "must be at most a year",
            ));
        }
    }
    if s.safe_harbor_message.trim().is_empty() || s.safe_harbor_message.chars().count() > 500 {
        out.push(field("safeHarborMessage", "must be 1–500 characters"));
    } else if !names_a_number(&s.safe_harbor_message) {
        out.push(field(
            "safeHarborMessage",
            format!(
                "must give a number to call back: write {CALLER_ID} (read out as the campaign's caller ID) or the number itself (FTC 16 CFR 310.4(b)(4)(iii); Ofcom's information message). Name your company in it too"
            ),
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use CampaignState::*;
    use LifecycleAction::*;

    #[test]
    fn lifecycle() {
        assert_eq!(transition(Draft, Start), Some(Running));
        assert_eq!(transition(Running, Pause), Some(Paused));
        assert_eq!(transition(Paused, Start), Some(Running));
        assert_eq!(transition(Paused, Complete), Some(Completed));
        assert_eq!(transition(Completed, Archive), Some(Archived));
        assert_eq!(transition(Draft, Pause), None);
        assert_eq!(transition(Completed, Start), None);
        assert_eq!(transition(Archived, Start), None);
        assert_eq!(transition(Running, Start), None);
        assert_eq!(transition(Running, Archive), None);
    }

    pub(crate) fn settings() -> CampaignSettings {
        CampaignSettings {
            dial_mode: DialMode::Predictive,
            caller_id: "+14155550100".into(),
            calling_window: CallingWindow::default(),
            ring_timeout_secs: 25,
            max_attempts: 5,
            max_attempts_per_day: 2,
            retry_delays: RetryDelays::default(),
            max_abandon_rate: 0.03,
            max_dial_ratio: 3.0,
            wrap_up_limit_secs: Some(60),
            dispositions: default_dispositions(),
            machine_handling: MachineHandling::HangUp,
            safe_harbor_message: "Sorry we missed you: call {callerId}.".into(),
            automated_consent: ConsentPolicy::Law,
            allow_toll_free: false,
        }
    }

    #[test]
    fn closed_campaigns_refuse_changes() {
        assert!(check_open(Draft, "cannot be changed").is_ok());
        assert!(check_open(Paused, "takes no new leads").is_ok());
        assert_eq!(
            check_open(Completed, "takes no new leads"),
            Err("a COMPLETED campaign takes no new leads".into())
        );
        assert!(check_open(Archived, "cannot be changed").is_err());
    }

    #[test]
    fn attempts_retry_then_finish() {
        use crate::domain::eligibility::LeadStatus;
        let s = settings();
        let at = chrono::DateTime::from_timestamp(1_800_000_000, 0).expect("t");
        assert_eq!(
            after_attempt(&s, 0, AttemptOutcome::Busy, at),
            (LeadStatus::Retry, Some(at + Duration::minutes(30)))
        );
        assert_eq!(
            after_attempt(&s, 0, AttemptOutcome::Abandoned, at),
            (LeadStatus::Retry, Some(at + Duration::hours(72)))
        );
        assert_eq!(
            after_attempt(&s, 4, AttemptOutcome::NoAnswer, at),
            (LeadStatus::Finished, None)
        );
    }

    #[test]
    fn the_safe_harbor_message_reads_out_the_caller_id() {
        let mut s = CampaignSettings::defaults();
        s.caller_id = "+14155550100".into();
        assert_eq!(
            spoken_message(&s),
            "Sorry we missed you. This call was from 4 1 5, 5 5 5, 0 1 0 0; we will try again later. To stop these calls, call us back on 4 1 5, 5 5 5, 0 1 0 0 and ask to be removed."
        );
        s.caller_id = "+442079460018".into();
        s.safe_harbor_message = "Acme here: ring {callerId}.".into();
        assert_eq!(
            spoken_message(&s),
            "Acme here: ring 4 4 2, 0 7 9, 4 6 0, 0 1 8."
        );
        assert!(names_a_number("Acme: call 0800 123 4567"));
        assert!(!names_a_number("Acme: call us back"));
    }

    #[test]
    fn settings_rules_name_the_field() {
        assert_eq!(validate(&settings()), Ok(()));
        let check = |f: fn(&mut CampaignSettings), name: &str| {
            let mut s = settings();
            f(&mut s);
            assert_eq!(validate(&s).map_err(|e| e.field), Err(name), "{name}");
        };
        check(|s| s.ring_timeout_secs = 14, "ringTimeoutSeconds");
        check(
            |s| {
                s.calling_window = CallingWindow::from_week(
                    [Some((
                        crate::domain::window::LEGAL_END - Duration::minutes(10),
                        crate::domain::window::LEGAL_END,
                    )); 7],
                )
            },
            "callingWindow.end",
        );
        check(|s| s.max_attempts_per_day = 6, "maxAttemptsPerDay");
        check(|s| s.max_abandon_rate = 0.05, "maxAbandonRate");
        check(|s| s.max_dial_ratio = 0.5, "maxDialRatio");
        check(|s| s.retry_delays.abandoned = 60, "retryDelays.abandoned");
        check(|s| s.dispositions.clear(), "dispositions");
        check(
            |s| s.dispositions[1].code = "INTERESTED".into(),
            "dispositions.code",
        );
        check(|s| s.safe_harbor_message = " ".into(), "safeHarborMessage");
        check(
            |s| s.safe_harbor_message = "Sorry we missed you.".into(),
            "safeHarborMessage",
        );
        // The 72-hour floor is for predictive campaigns only.
        let mut s = settings();
        s.dial_mode = DialMode::Progressive;
        s.retry_delays.abandoned = 60;
        assert_eq!(validate(&s), Ok(()));
    }

    #[test]
    fn problems_lists_every_broken_rule_in_form_order() {
        assert!(problems(&settings()).is_empty());
        let mut s = settings();
        s.ring_timeout_secs = 5;
        s.max_abandon_rate = 0.2;
        s.dispositions.clear();
        let fields: Vec<_> = problems(&s).into_iter().map(|e| e.field).collect();
        assert_eq!(
            fields,
            ["ringTimeoutSeconds", "maxAbandonRate", "dispositions"]
        );
        // validate() is the first of them.
        assert_eq!(validate(&s).map_err(|e| e.field), Err("ringTimeoutSeconds"));
    }
}
