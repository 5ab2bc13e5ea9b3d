//! A call's life: its states, how it may end (exactly one outcome), which
//! agent controls are allowed in which state, and the abandonment rule (a
//! live answer not connected to an agent within 2 seconds).

use chrono::Duration;

use super::agent::Refused;
use super::campaign::{AttemptOutcome, str_enum};

/// Where a call stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CallState {
    /// A preview offered to an agent, waiting for Dial or Skip.
    Offered,
    /// Being placed.
    Dialing,
    /// The far end is ringing.
    Ringing,
    /// A person (or a machine) answered; no agent is connected yet.
    Answered,
    /// The lead is bridged into an agent's leg.
    Connected,
    /// The agent put the lead on hold.
    Held,
    /// A warm transfer: the agent is consulting the target, the lead holds.
    Transferring,
    /// Over; the outcome says how.
    Ended,
}

str_enum!(CallState {
    Offered => "OFFERED",
    Dialing => "DIALING",
    Ringing => "RINGING",
    Answered => "ANSWERED",
    Connected => "CONNECTED",
    Held => "HELD",
    Transferring => "TRANSFERRING",
    Ended => "ENDED",
});

/// How a call ended. Every call that was started ends with exactly one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CallOutcome {
    /// A conversation with an agent took place.
    Completed,
    /// Transferred away (blind, or warm when the agent left).
    Transferred,
    /// A live answer found no agent within 2 seconds.
    Abandoned,
    Machine,
    NoAnswer,
    Busy,
    Failed,
    /// The agent skipped a preview.
    Skipped,
    /// Refused right before dialing (listed, or outside the window).
    NotDialed,
    /// In flight when the server stopped.
    ServerRestart,
}

str_enum!(CallOutcome {
    Completed => "COMPLETED",
    Transferred => "TRANSFERRED",
    Abandoned => "ABANDONED",
    Machine => "MACHINE",
    NoAnswer => "NO_ANSWER",
    Busy => "BUSY",
    Failed => "FAILED",
    Skipped => "SKIPPED",
    NotDialed => "NOT_DIALED",
    ServerRestart => "SERVER_RESTART",
});

impl CallOutcome {
    /// The retry class for outcomes that reached no one; `None` for
    /// conversations (the disposition decides) and for calls never placed.
    pub fn retry_as(self) -> Option<AttemptOutcome> {
        match self {
            CallOutcome::Abandoned => Some(AttemptOutcome::Abandoned),
            CallOutcome::Machine => Some(AttemptOutcome::Machine),
            CallOutcome::NoAnswer => Some(AttemptOutcome::NoAnswer),
            CallOutcome::Busy => Some(AttemptOutcome::Busy),
            CallOutcome::Failed | CallOutcome::ServerRestart => Some(AttemptOutcome::Failed),
            CallOutcome::Completed
            | CallOutcome::Transferred
            | CallOutcome::Skipped
            | CallOutcome::NotDialed => None,
        }
    }
}

/// Where a call came from. Only DIALER calls carry the "Dialer" tag.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CallOrigin {
    Dialer,
    Manual,
    Inbound,
}

str_enum!(CallOrigin {
    Dialer => "DIALER",
    Manual => "MANUAL",
    Inbound => "INBOUND",
});

/// A live answer must reach an agent within this, or it is abandoned.
pub const CONNECT_DEADLINE: Duration = Duration::seconds(2);

/// What an agent can do to their call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Control {
    Mute,
    Hold,
    Resume,
    Transfer,
    AddParticipant,
    HangUp,
    /// Preview: place the offered call / pass on it.
    Dial,
    Skip,
}

/// Whether `control` is allowed on a call in `state` now.
pub fn allows(state: CallState, control: Control) -> Result<(), Refused> {
    use CallState::*;
    use Control::*;
    match (state, control) {
        (Ended, _) => Err(Refused("the call has ended")),
        (Offered, Dial | Skip) => Ok(()),
        (_, Dial | Skip) => Err(Refused("only an offered preview can be dialed or skipped")),
        (Offered, _) => Err(Refused("dial the preview first")),
        (_, HangUp) => Ok(()),
        (Connected | Held, Mute) => Ok(()),
        (Connected, Hold) => Ok(()),
        (Held, Hold) => Err(Refused("the call is already on hold")),
        (Held, Resume) => Ok(()),
        (Connected, Resume) => Err(Refused("the call is not on hold")),
        (Connected | Held, Transfer | AddParticipant) => Ok(()),
        (Transferring, _) => Err(Refused(
            "a warm transfer is in progress: hang up to complete it",
        )),
        (Dialing | Ringing | Answered, _) => Err(Refused("the call is not connected yet")),
    }
}

/// Whether a call in `state` is still in flight (placed and not ended).
pub fn in_flight(state: CallState) -> bool {
    !matches!(state, CallState::Offered | CallState::Ended)
}

/// Whether the call is placed but not yet with an agent (what a pacer
/// counts as "calls in flight").
pub fn awaiting_agent(state: CallState) -> bool {
    matches!(
        state,
        CallState::Dialing | CallState::Ringing | CallState::Answered
    )
}

#[cfg(test)]
mod tests {
    use super::CallState::*;
    use super::Control::*;
    use super::*;

    #[test]
    fn controls_follow_the_state() {
        let all = [
            Offered,
            Dialing,
            Ringing,
            Answered,
            Connected,
            Held,
            Transferring,
            Ended,
        ];
        for s in all {
            assert_eq!(allows(s, HangUp).is_ok(), !matches!(s, Ended | Offered));
            assert_eq!(allows(s, Mute).is_ok(), matches!(s, Connected | Held));
            assert_eq!(allows(s, Hold).is_ok(), s == Connected);
            assert_eq!(allows(s, Resume).is_ok(), s == Held);
            assert_eq!(allows(s, Transfer).is_ok(), matches!(s, Connected | Held));
            assert_eq!(allows(s, Dial).is_ok(), s == Offered);
        }
    }

    #[test]
    fn outcomes_round_trip_and_pick_a_retry() {
        for o in [
            CallOutcome::Completed,
            CallOutcome::Abandoned,
            CallOutcome::ServerRestart,
        ] {
            assert_eq!(CallOutcome::parse(o.as_str()), Some(o));
        }
        assert_eq!(CallOutcome::Busy.retry_as(), Some(AttemptOutcome::Busy));
        assert_eq!(CallOutcome::Completed.retry_as(), None);
    }
}
