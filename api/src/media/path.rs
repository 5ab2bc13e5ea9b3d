//! What a real provider does with audio on an agent's pinned leg, as a pure
//! state machine the network tasks drive: every 20 ms a [`tick`], each
//! packet that arrives from the lead or the agent, and the engine's
//! commands (bridge, mute, hold, hang up). It answers with the packets to
//! send toward the agent and toward the lead.
//!
//! - Idle (no lead): the agent hears silence; the agent's microphone goes
//!   nowhere.
//! - Bridged: first the connect tone to the agent (the lead's audio waits
//!   behind it, never dropped — it is late by the tone's length only if
//!   the lead speaks at once), then the lead's packets relayed to the
//!   agent and the agent's to the lead, payloads untouched, headers
//!   rewritten so each side sees one continuous stream ([`Outbound`]).
//! - Mute: the agent's audio toward the lead is dropped (the lead hears
//!   silence). Hold: the lead hears silence, the agent still hears the lead
//!   (as on a desk phone's hold, the agent may listen for them coming back).
//! - Hang-up: back to idle; the agent's stream carries on with silence.
//!
//! [`tick`]: AgentLegPath::tick

use std::collections::VecDeque;

use super::rtp::{Outbound, RtpPacket, connect_tone, silence_payload};

/// What to send, after one input.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Sends {
    pub to_agent: Vec<RtpPacket>,
    pub to_lead: Vec<RtpPacket>,
    /// Some of `to_agent` is the lead's audio (not silence or the tone).
    pub lead_audio: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PathState {
    Idle,
    Bridged { muted: bool, held: bool },
}

#[derive(Debug, Clone)]
pub struct AgentLegPath {
    to_agent: Outbound,
    to_lead: Option<Outbound>,
    state: PathState,
    tone: VecDeque<Vec<u8>>,
    /// Lead packets that came during the tone, sent right after it.
    behind_tone: VecDeque<RtpPacket>,
    /// Whether a lead packet reached the agent since the last tick: if
    /// not, the tick fills in silence so the agent's stream never stops.
    lead_spoke: bool,
    /// Ticks in a row with no lead packet: the lead's clock and ours are
    /// not in step, so one empty tick is jitter (its packet comes just
    /// after); silence is filled in from the second.
    quiet_ticks: u32,
    tone_ms: u32,
    next_lead_ssrc: u32,
}

impl AgentLegPath {
    /// `agent_ssrc`: the SSRC of the server's stream toward the agent.
    pub fn new(agent_ssrc: u32, tone_ms: u32) -> Self {
        AgentLegPath {
            to_agent: Outbound::new(agent_ssrc, 0, 0),
            to_lead: None,
            state: PathState::Idle,
            tone: VecDeque::new(),
            behind_tone: VecDeque::new(),
            lead_spoke: false,
            quiet_ticks: 0,
            tone_ms,
            next_lead_ssrc: agent_ssrc.wrapping_add(1),
        }
    }

    pub fn state(&self) -> PathState {
        self.state
    }

    /// A lead is connected: the tone, then their audio.
    pub fn bridge(&mut self) {
        self.state = PathState::Bridged {
            muted: false,
            held: false,
        };
        self.tone = connect_tone(self.tone_ms).into();
        self.behind_tone.clear();
        self.to_lead = Some(Outbound::new(self.next_lead_ssrc, 0, 0));
        self.next_lead_ssrc = self.next_lead_ssrc.wrapping_add(1);
    }

    pub fn set_muted(&mut self, on: bool) {
        if let PathState::Bridged { held, .. } = self.state {
            self.state = PathState::Bridged { muted: on, held };
        }
    }

    pub fn set_held(&mut self, on: bool) {
        if let PathState::Bridged { muted, .. } = self.state {
            self.state = PathState::Bridged { muted, held: on };
        }
    }

    /// The lead is gone (either side hung up): idle again.
    pub fn hang_up(&mut self) {
        self.state = PathState::Idle;
        self.tone.clear();
        self.behind_tone.clear();
        self.to_lead = None;
    }

    /// Every 20 ms: the server's own packets — silence or tone to the
    /// agent when nothing else is going there, silence to a lead on hold
    /// or muted against.
    pub fn tick(&mut self) -> Sends {
        let mut s = Sends::default();
        if let Some(t) = self.tone.pop_front() {
            s.to_agent.push(self.to_agent.own(t));
            if self.tone.is_empty() {
                // The tone is over: what the lead said meanwhile follows.
                while let Some(p) = self.behind_tone.pop_front() {
                    s.to_agent.push(self.to_agent.relay(&p));
                    s.lead_audio = true;
                }
            }
        } else if std::mem::take(&mut self.lead_spoke) {
            self.quiet_ticks = 0;
        } else {
            self.quiet_ticks += 1;
            if self.state == PathState::Idle || self.quiet_ticks >= 2 {
                s.to_agent.push(self.to_agent.own(silence_payload()));
            }
        }
        if let (PathState::Bridged { muted, held }, Some(out)) = (self.state, self.to_lead.as_mut())
            && (muted || held)
        {
            s.to_lead.push(out.own(silence_payload()));
        }
        s
    }

    /// A packet from the lead.
    pub fn from_lead(&mut self, p: &RtpPacket) -> Sends {
        let mut s = Sends::default();
        if self.state == PathState::Idle {
            return s;
        }
        if !self.tone.is_empty() {
            self.behind_tone.push_back(p.clone());
        } else {
            s.to_agent.push(self.to_agent.relay(p));
            s.lead_audio = true;
            self.lead_spoke = true;
        }
        s
    }

    /// A packet from the agent's microphone.
    pub fn from_agent(&mut self, p: &RtpPacket) -> Sends {
        let mut s = Sends::default();
        if let (
            PathState::Bridged {
                muted: false,
                held: false,
            },
            Some(out),
        ) = (self.state, self.to_lead.as_mut())
        {
            s.to_lead.push(out.relay(p));
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::media::g711;

    fn packet(ssrc: u32, k: u16, byte: u8) -> RtpPacket {
        RtpPacket {
            marker: false,
            payload_type: 0,
            sequence: k,
            timestamp: u32::from(k) * 160,
            ssrc,
            payload: vec![byte; 160],
        }
    }

    fn is_silence(p: &RtpPacket) -> bool {
        p.payload.iter().all(|u| g711::ulaw_to_linear(*u) == 0)
    }

    #[test]
    fn idle_then_tone_then_the_lead_and_back_to_silence() {
        let mut path = AgentLegPath::new(42, 200);
        let mut agent_heard = Vec::new();
        // Idle: silence to the agent; the microphone goes nowhere.
        for k in 0..5 {
            let s = path.tick();
            agent_heard.extend(s.to_agent);
            assert!(path.from_agent(&packet(7, k, 0x11)).to_lead.is_empty());
            assert!(path.from_lead(&packet(8, k, 0x22)).to_agent.is_empty());
        }
        assert!(agent_heard.iter().all(is_silence));
        path.bridge();
        // The lead speaks at once: it waits behind the 10-packet tone.
        let mut tone_packets = 0;
        for k in 0..20u16 {
            let s = path.from_lead(&packet(8, 100 + k, 0x22));
            agent_heard.extend(s.to_agent);
            let s = path.tick();
            tone_packets += s
                .to_agent
                .iter()
                .filter(|p| !is_silence(p) && p.payload != vec![0x22; 160])
                .count();
            agent_heard.extend(s.to_agent);
        }
        assert_eq!(tone_packets, 10);
        // Nothing the lead said was lost, and it came after the tone.
        let lead: Vec<usize> = agent_heard
            .iter()
            .enumerate()
            .filter(|(_, p)| p.payload == vec![0x22; 160])
            .map(|(i, _)| i)
            .collect();
        assert_eq!(lead.len(), 20);
        let last_tone = agent_heard
            .iter()
            .rposition(|p| !is_silence(p) && p.payload != vec![0x22; 160]);
        assert!(last_tone.is_some_and(|t| t < lead[0]));
        // One continuous stream to the agent throughout.
        for w in agent_heard.windows(2) {
            assert_eq!(w[1].sequence, w[0].sequence.wrapping_add(1));
            assert_eq!(w[1].ssrc, 42);
        }
        path.hang_up();
        let s = path.tick();
        assert!(s.to_agent.iter().all(is_silence) && s.to_agent.len() == 1);
        assert!(path.from_lead(&packet(8, 200, 0x22)).to_agent.is_empty());
    }

    #[test]
    fn mute_and_hold_stop_the_agent_reaching_the_lead() {
        let mut path = AgentLegPath::new(1, 20);
        path.bridge();
        let _ = path.tick(); // the one-packet tone
        let voice = |path: &mut AgentLegPath, k| path.from_agent(&packet(9, k, 0x33)).to_lead;
        assert_eq!(voice(&mut path, 1)[0].payload, vec![0x33; 160]);
        assert!(path.tick().to_lead.is_empty(), "no filler while talking");
        path.set_muted(true);
        assert!(voice(&mut path, 2).is_empty());
        let s = path.tick();
        assert!(
            s.to_lead.len() == 1 && is_silence(&s.to_lead[0]),
            "the lead hears silence"
        );
        path.set_muted(false);
        path.set_held(true);
        assert!(voice(&mut path, 3).is_empty());
        assert!(is_silence(&path.tick().to_lead[0]));
        // On hold the agent still hears the lead.
        assert_eq!(path.from_lead(&packet(8, 1, 0x44)).to_agent.len(), 1);
        path.set_held(false);
        assert_eq!(voice(&mut path, 4).len(), 1);
        assert_eq!(
            path.state(),
            PathState::Bridged {
                muted: false,
                held: false
            }
        );
    }

    #[test]
    fn a_lead_out_of_step_with_the_ticker_gets_no_filler_and_a_quiet_one_gets_silence() {
        let mut path = AgentLegPath::new(5, 20);
        path.bridge();
        let _ = path.tick(); // the one-packet tone
        let mut sent = 0;
        // Jitter: sometimes two lead packets fall between two ticks, then
        // none — 30 packets in 30 ticks must reach the agent as 30 packets.
        for k in 0..30u16 {
            if k % 3 != 1 {
                sent += path.from_lead(&packet(8, k, 0x22)).to_agent.len();
            }
            if k % 3 == 2 {
                sent += path.from_lead(&packet(8, 100 + k, 0x22)).to_agent.len();
            }
            sent += path.tick().to_agent.len();
        }
        assert_eq!(sent, 30, "no silence pushed into a talking lead's stream");
        // The lead goes quiet: silence from the second empty tick on.
        assert!(path.tick().to_agent.is_empty());
        for _ in 0..3 {
            let s = path.tick();
            assert!(s.to_agent.len() == 1 && is_silence(&s.to_agent[0]));
        }
    }

    #[test]
    fn each_lead_gets_a_fresh_stream_from_the_agent() {
        let mut path = AgentLegPath::new(10, 20);
        path.bridge();
        let a = path.from_agent(&packet(9, 1, 1)).to_lead;
        path.hang_up();
        path.bridge();
        let b = path.from_agent(&packet(9, 2, 1)).to_lead;
        assert_ne!(a[0].ssrc, b[0].ssrc);
        assert!(b[0].marker);
    }
}
