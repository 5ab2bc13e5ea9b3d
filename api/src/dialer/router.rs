//! Which agent takes a live answer: the call's target when it has one (a
//! callback for a named agent, a preview) — and only if that agent is
//! ready — or else the agent who has been idle longest. Pure.

use chrono::{DateTime, Utc};

/// An agent as the router sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate<'a> {
    pub agent_id: &'a str,
    /// AVAILABLE with the pinned leg idle and no call.
    pub ready: bool,
    /// Held for another call (its preview, its named callback).
    pub reserved_for_other: bool,
    pub idle_since: DateTime<Utc>,
}

pub fn pick<'a>(candidates: &[Candidate<'a>], target: Option<&str>) -> Option<&'a str> {
    if let Some(t) = target {
        return candidates
            .iter()
            .find(|c| c.agent_id == t && c.ready)
            .map(|c| c.agent_id);
    }
    candidates
        .iter()
        .filter(|c| c.ready && !c.reserved_for_other)
        .min_by(|a, b| {
            a.idle_since
                .cmp(&b.idle_since)
                .then(a.agent_id.cmp(b.agent_id))
        })
        .map(|c| c.agent_id)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Duration;

    #[test]
    fn longest_idle_wins_unless_the_call_has_a_target() {
        let t0 = Utc::now();
        let c = |id, ready, reserved, secs| Candidate {
            agent_id: id,
            ready,
            reserved_for_other: reserved,
            idle_since: t0 + Duration::seconds(secs),
        };
        let agents = [
            c("a", true, false, 10),
            c("b", true, false, 5),
            c("c", false, false, 0),
            c("d", true, true, 1),
        ];
        assert_eq!(pick(&agents, None), Some("b"), "c is busy, d is reserved");
        assert_eq!(pick(&agents, Some("a")), Some("a"));
        assert_eq!(pick(&agents, Some("c")), None, "the target is not ready");
        assert_eq!(
            pick(&agents, Some("d")),
            Some("d"),
            "reserved for this call"
        );
        assert_eq!(pick(&[], None), None);
    }
}
