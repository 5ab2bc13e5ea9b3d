//! The agent's status machine: OFFLINE, AVAILABLE, ON_CALL, WRAP_UP, BREAK,
//! and what moves an agent between them — the agent's own choice, the
//! dialer connecting or ending a call, the wrap-up, and the session ending.
//! Also which statuses keep a pinned audio leg up.

use super::campaign::str_enum;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum AgentStatus {
    Offline,
    Available,
    OnCall,
    WrapUp,
    Break,
}

str_enum!(AgentStatus {
    Offline => "OFFLINE",
    Available => "AVAILABLE",
    OnCall => "ON_CALL",
    WrapUp => "WRAP_UP",
    Break => "BREAK",
});

/// What happened to the agent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AgentEvent {
    /// The agent chose a status (`setAgentStatus`): AVAILABLE, BREAK or
    /// OFFLINE.
    Chose(AgentStatus),
    /// A call was connected to the agent.
    CallConnected,
    /// The agent's call ended (either side hung up, or a transfer left).
    CallEnded,
    /// The agent submitted the wrap-up and goes to `next` (AVAILABLE,
    /// BREAK or OFFLINE).
    WrapUpSubmitted(AgentStatus),
    /// The campaign's wrap-up limit passed: an automatic disposition is
    /// recorded and the agent is AVAILABLE again.
    WrapUpTimedOut,
    /// The agent left a call that goes on without them (handed to another
    /// agent by a transfer, or left a conference): no wrap-up is theirs.
    HandedOver,
    /// An OFFLINE agent who still owes a wrap-up (their session ended
    /// mid-call, or the server restarted) comes back: the wrap-up first.
    ReturnedOwingWrapUp,
    /// Logout, or the agent's session vanished past the grace period.
    SessionEnded,
}

impl AgentEvent {
    /// Every kind of event, for checks over the whole machine.
    pub const ALL: [AgentEvent; 13] = [
        AgentEvent::Chose(AgentStatus::Available),
        AgentEvent::Chose(AgentStatus::Break),
        AgentEvent::Chose(AgentStatus::Offline),
        AgentEvent::CallConnected,
        AgentEvent::CallEnded,
        AgentEvent::WrapUpSubmitted(AgentStatus::Available),
        AgentEvent::WrapUpSubmitted(AgentStatus::Break),
        AgentEvent::WrapUpSubmitted(AgentStatus::Offline),
        AgentEvent::WrapUpTimedOut,
        AgentEvent::HandedOver,
        AgentEvent::ReturnedOwingWrapUp,
        AgentEvent::SessionEnded,
        AgentEvent::Chose(AgentStatus::OnCall),
    ];
}

/// Why a move is refused (a `CONFLICT` at the API).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Refused(pub &'static str);

/// The agent's status after `event`, or why it cannot happen now.
pub fn next(status: AgentStatus, event: AgentEvent) -> Result<AgentStatus, Refused> {
    use AgentEvent::*;
    use AgentStatus::*;
    match (status, event) {
        (_, SessionEnded) => Ok(Offline),
        (OnCall, Chose(_)) => Err(Refused("you are on a call: hang up first")),
        (WrapUp, Chose(_)) => Err(Refused("finish the wrap-up first")),
        (_, Chose(OnCall | WrapUp)) => {
            Err(Refused("ON_CALL and WRAP_UP are set by calls, not chosen"))
        }
        (_, Chose(target)) => Ok(target),
        (Available, CallConnected) => Ok(OnCall),
        (_, CallConnected) => Err(Refused("only an AVAILABLE agent can take a call")),
        (OnCall, CallEnded) => Ok(WrapUp),
        (_, CallEnded) => Err(Refused("no call to end")),
        (WrapUp, WrapUpSubmitted(next @ (Available | Break | Offline))) => Ok(next),
        (WrapUp, WrapUpSubmitted(_)) => Err(Refused(
            "after a wrap-up choose AVAILABLE, BREAK or OFFLINE",
        )),
        // Owed from before a restart or a lost session: submitted while
        // away, the agent stays OFFLINE (coming back is its own choice).
        // Whether one is owed is the engine's to check.
        (Offline, WrapUpSubmitted(_)) => Ok(Offline),
        (_, WrapUpSubmitted(_)) => Err(Refused("no wrap-up is pending")),
        (WrapUp, WrapUpTimedOut) => Ok(Available),
        (_, WrapUpTimedOut) => Err(Refused("no wrap-up is pending")),
        (OnCall, HandedOver) => Ok(Available),
        (_, HandedOver) => Err(Refused("not on a call")),
        (Offline, ReturnedOwingWrapUp) => Ok(WrapUp),
        (_, ReturnedOwingWrapUp) => Err(Refused("only an OFFLINE agent comes back")),
    }
}

/// Whether some single event moves an agent from `from` to `to` (staying
/// put is always allowed: a presence update need not change the status).
pub fn can_move(from: AgentStatus, to: AgentStatus) -> bool {
    from == to || AgentEvent::ALL.iter().any(|e| next(from, *e) == Ok(to))
}

/// Whether the agent keeps a pinned audio leg in a dialer-enabled contact
/// center: from AVAILABLE through calls and wrap-ups; not on BREAK or
/// OFFLINE.
pub fn wants_pinned_leg(status: AgentStatus, dialer_enabled: bool) -> bool {
    dialer_enabled
        && matches!(
            status,
            AgentStatus::Available | AgentStatus::OnCall | AgentStatus::WrapUp
        )
}

/// Whether a wrap-up is still owed after the session ended in `status`
/// (it is asked for again when the agent comes back).
pub fn wrap_up_owed(status_when_session_ended: AgentStatus) -> bool {
    matches!(
        status_when_session_ended,
        AgentStatus::OnCall | AgentStatus::WrapUp
    )
}

#[cfg(test)]
mod tests {
    use super::AgentEvent::*;
    use super::AgentStatus::*;
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn a_working_day() {
        let mut s = Offline;
        for (event, expect) in [
            (Chose(Available), Available),
            (CallConnected, OnCall),
            (CallEnded, WrapUp),
            (WrapUpSubmitted(Available), Available),
            (CallConnected, OnCall),
            (CallEnded, WrapUp),
            (WrapUpTimedOut, Available),
            (Chose(Break), Break),
            (Chose(Available), Available),
            (SessionEnded, Offline),
        ] {
            s = next(s, event).expect("allowed");
            assert_eq!(s, expect, "after {event:?}");
        }
    }

    #[test]
    fn refusals() {
        assert!(next(OnCall, Chose(Break)).is_err());
        assert!(next(WrapUp, Chose(Available)).is_err());
        assert!(next(Available, Chose(OnCall)).is_err());
        assert!(next(Break, CallConnected).is_err());
        assert!(next(Available, CallEnded).is_err());
        assert!(next(WrapUp, WrapUpSubmitted(OnCall)).is_err());
        assert!(next(Available, WrapUpSubmitted(Available)).is_err());
        assert_eq!(next(Offline, WrapUpSubmitted(Available)), Ok(Offline));
        assert!(next(Offline, WrapUpTimedOut).is_err());
        assert_eq!(next(OnCall, SessionEnded), Ok(Offline));
        assert!(wrap_up_owed(OnCall) && wrap_up_owed(WrapUp) && !wrap_up_owed(Available));
        assert_eq!(next(OnCall, HandedOver), Ok(Available));
        assert!(next(WrapUp, HandedOver).is_err());
        assert_eq!(next(Offline, ReturnedOwingWrapUp), Ok(WrapUp));
        assert!(next(Break, ReturnedOwingWrapUp).is_err());
    }

    #[test]
    fn single_moves() {
        assert!(can_move(Available, OnCall) && can_move(OnCall, WrapUp));
        assert!(can_move(WrapUp, Break) && can_move(Offline, WrapUp));
        assert!(
            !can_move(Break, OnCall),
            "a call only reaches AVAILABLE agents"
        );
        assert!(!can_move(Available, WrapUp), "no wrap-up without a call");
        assert!(!can_move(Offline, OnCall));
    }

    #[test]
    fn the_pinned_leg_follows_the_status() {
        for s in [Available, OnCall, WrapUp] {
            assert!(wants_pinned_leg(s, true));
            assert!(!wants_pinned_leg(s, false), "no dialer, no pinned leg");
        }
        for s in [Offline, Break] {
            assert!(!wants_pinned_leg(s, true));
        }
    }

    fn arb_status() -> impl Strategy<Value = AgentStatus> {
        prop_oneof![
            Just(Offline),
            Just(Available),
            Just(OnCall),
            Just(WrapUp),
            Just(Break)
        ]
    }

    fn arb_event() -> impl Strategy<Value = AgentEvent> {
        prop_oneof![
            arb_status().prop_map(Chose),
            Just(CallConnected),
            Just(CallEnded),
            arb_status().prop_map(WrapUpSubmitted),
            Just(WrapUpTimedOut),
            Just(SessionEnded),
            Just(HandedOver),
            Just(ReturnedOwingWrapUp),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        /// Whatever happens, calls only reach AVAILABLE agents, a call is
        /// always followed by a wrap-up unless the session ends, and a
        /// refused event changes nothing.
        #[test]
        fn statuses_only_move_along_the_machine(events in proptest::collection::vec(arb_event(), 0..60)) {
            let mut s = Offline;
            for e in events {
                match next(s, e) {
                    Ok(n) => {
                        if n == OnCall {
                            prop_assert!(s == Available && e == CallConnected);
                        }
                        if n == WrapUp {
                            prop_assert!(
                                (s == OnCall && e == CallEnded)
                                    || (s == Offline && e == ReturnedOwingWrapUp)
                            );
                        }
                        if s == OnCall {
                            prop_assert!(matches!(n, WrapUp | Offline | Available));
                            prop_assert!(n != Available || e == HandedOver);
                        }
                        if s == WrapUp {
                            prop_assert!(matches!(n, Available | Break | Offline));
                        }
                        s = n;
                    }
                    Err(_) => {
                        prop_assert!(e != SessionEnded, "the session can always end");
                    }
                }
            }
        }
    }
}
