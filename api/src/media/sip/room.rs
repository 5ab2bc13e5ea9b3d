//! Conferences on real legs: a *room* mixes every member's audio for the
//! others. A call is a plain two-party relay (no transcoding, see
//! [`AgentLegPath`]) until a third party comes in — an outside participant
//! joined, a second agent bridged for a warm transfer or a conference, a
//! consulted number joined — and then the lead's call becomes a room: every
//! 20 ms each member gets the sum of what the others said (decoded,
//! added, encoded back to PCMU). A member on hold is out of the mix both
//! ways (the consultation of a warm transfer goes on without them); an agent's
//! microphone still goes through their pinned leg's path (mute drops it)
//! and the mix reaches the agent through the path too, so the agent's
//! stream stays one continuous stream with the tone before it.
//!
//! [`AgentLegPath`]: crate::media::path::AgentLegPath

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::task::AbortHandle;

use super::{LegMedia, Role, deliver, lock};
use crate::media::LegId;
use crate::media::g711;
use crate::media::rtp::{Outbound, RtpPacket};

/// Frames kept per member between ticks (jitter); older ones are dropped.
const MAX_QUEUED: usize = 3;

struct Member {
    media: Arc<LegMedia>,
    pinned: bool,
    /// What the member said, not yet mixed.
    heard: VecDeque<Vec<i16>>,
    /// Toward a lead-type member: the room's stream.
    out: Outbound,
    /// Toward a pinned member: the room as one source for the path.
    sequence: u16,
    held: bool,
}

pub(super) struct Room {
    members: Mutex<Vec<Member>>,
    ssrc: u32,
    ticker: Mutex<Option<AbortHandle>>,
}

/// Each member's mix: the sum of the others' frames (silence for a member
/// who said nothing), clipped, as PCMU.
pub fn mix(frames: &[Option<Vec<i16>>]) -> Vec<Vec<u8>> {
    let n = g711::SAMPLES_PER_PACKET;
    let mut total = vec![0i32; n];
    for f in frames.iter().flatten() {
        for (t, s) in total.iter_mut().zip(f) {
            *t += i32::from(*s);
        }
    }
    frames
        .iter()
        .map(|own| {
            (0..n)
                .map(|i| {
                    let mine = own
                        .as_ref()
                        .and_then(|f| f.get(i))
                        .map_or(0, |s| i32::from(*s));
                    let v = (total[i] - mine).clamp(i32::from(i16::MIN), i32::from(i16::MAX));
                    g711::linear_to_ulaw(v as i16)
                })
                .collect()
        })
        .collect()
}

impl Room {
    pub(super) fn new() -> Arc<Room> {
        Arc::new(Room {
            members: Mutex::new(Vec::new()),
            ssrc: rand::random(),
            ticker: Mutex::new(None),
        })
    }

    /// Add a member (a leg already in the room is left as it is).
    pub(super) fn add(&self, media: Arc<LegMedia>, pinned: bool) {
        let mut m = lock(&self.members);
        if m.iter().any(|x| x.media.leg == media.leg) {
            return;
        }
        m.push(Member {
            media,
            pinned,
            heard: VecDeque::new(),
            out: Outbound::new(rand::random(), 0, 0),
            sequence: 0,
            held: false,
        });
    }

    pub(super) fn remove(&self, leg: &LegId) {
        lock(&self.members).retain(|m| &m.media.leg != leg);
    }

    /// The one outside party left, with no agent and nobody else.
    pub(super) fn alone(&self) -> Option<LegId> {
        match lock(&self.members).as_slice() {
            [m] if !m.pinned => Some(m.media.leg.clone()),
            _ => None,
        }
    }

    /// Nobody but agents left.
    pub(super) fn only_agents(&self) -> bool {
        let m = lock(&self.members);
        !m.is_empty() && m.iter().all(|x| x.pinned)
    }

    pub(super) fn pinned_members(&self) -> Vec<Arc<LegMedia>> {
        lock(&self.members)
            .iter()
            .filter(|m| m.pinned)
            .map(|m| m.media.clone())
            .collect()
    }

    pub(super) fn set_held(&self, leg: &LegId, on: bool) {
        for m in lock(&self.members).iter_mut() {
            if &m.media.leg == leg {
                m.held = on;
            }
        }
    }

    /// A member said something (PCMU).
    pub(super) fn heard(&self, leg: &LegId, payload: &[u8]) {
        for m in lock(&self.members).iter_mut() {
            if &m.media.leg == leg {
                if m.heard.len() >= MAX_QUEUED {
                    m.heard.pop_front();
                }
                m.heard
                    .push_back(payload.iter().map(|u| g711::ulaw_to_linear(*u)).collect());
            }
        }
    }

    /// Mix every 20 ms until the room is empty.
    pub(super) fn start(self: &Arc<Self>, rt: &tokio::runtime::Handle) {
        let room = self.clone();
        let task = rt.spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_millis(20));
            loop {
                tick.tick().await;
                if !room.tick() {
                    return;
                }
            }
        });
        if let Some(old) = lock(&self.ticker).replace(task.abort_handle()) {
            old.abort();
        }
    }

    /// One round: false once nobody is left.
    fn tick(&self) -> bool {
        let mut sends: Vec<(Arc<LegMedia>, RtpPacket, bool)> = Vec::new();
        {
            let mut members = lock(&self.members);
            if members.is_empty() {
                return false;
            }
            // A member on hold is out of the mix both ways: hears
            // silence, is not heard (a warm transfer's consultation).
            let frames: Vec<Option<Vec<i16>>> = members
                .iter_mut()
                .map(|m| m.heard.pop_front().filter(|_| !m.held))
                .collect();
            for (m, payload) in members.iter_mut().zip(mix(&frames)) {
                let packet = if m.pinned {
                    let p = RtpPacket {
                        marker: false,
                        payload_type: 0,
                        sequence: m.sequence,
                        timestamp: u32::from(m.sequence).wrapping_mul(160),
                        ssrc: self.ssrc,
                        payload,
                    };
                    m.sequence = m.sequence.wrapping_add(1);
                    p
                } else if m.held {
                    m.out.own(crate::media::rtp::silence_payload())
                } else {
                    m.out.own(payload)
                };
                sends.push((m.media.clone(), packet, m.pinned));
            }
        }
        for (media, packet, pinned) in sends {
            if !pinned {
                media.send(&[packet]);
                continue;
            }
            let mut role = lock(&media.role);
            if let Role::Pinned { path, .. } = &mut *role {
                let s = path.from_lead(&packet);
                drop(role);
                deliver(None, &media, None, s);
            }
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tone(amp: i16) -> Vec<i16> {
        vec![amp; g711::SAMPLES_PER_PACKET]
    }

    #[test]
    fn each_member_hears_the_others_and_not_itself() {
        let frames = vec![Some(tone(1000)), Some(tone(2000)), None];
        let out = mix(&frames);
        let level = |p: &Vec<u8>| g711::ulaw_to_linear(p[0]);
        // μ-law is within a few percent at these levels.
        assert!((level(&out[0]) - 2000).abs() < 100, "{}", level(&out[0]));
        assert!((level(&out[1]) - 1000).abs() < 60, "{}", level(&out[1]));
        assert!((level(&out[2]) - 3000).abs() < 150, "{}", level(&out[2]));
    }

    #[test]
    fn loud_parties_are_clipped_not_wrapped() {
        let frames = vec![Some(tone(30000)), Some(tone(30000)), None];
        let out = mix(&frames);
        assert!(g711::ulaw_to_linear(out[2][0]) > 30000);
    }
}
