//! The media module: call legs and what happens on them. Providers own the
//! audio; the engine only sees legs as handles. Every operation returns at
//! once (it is *ordered*, not awaited); what happens on a leg — ringing,
//! answered by a person or a machine, busy, no answer, failed, remote
//! hang-up, tone played, bridged — arrives later as a [`MediaEvent`]
//! through the [`MediaSink`] the provider was built with. A SIP/WebRTC
//! provider fits the same shape: its network tasks emit into the sink.

pub mod amd;
pub mod g711;
pub mod path;
pub mod rtp;
pub mod sdp;
pub mod sim;
pub mod sim_model;
pub mod sip;

use std::time::Duration;

/// A leg handle, unique within a provider.
pub type LegId = String;

/// Why a leg is being placed: the sim answers consult and participant legs
/// like a colleague would; a real carrier does not care.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LegPurpose {
    Lead,
    Consult,
    Participant,
}

/// Place a call.
#[derive(Debug, Clone)]
pub struct Originate {
    /// E.164.
    pub to: String,
    pub caller_id: String,
    /// Give up (NO_ANSWER) after this long; never below 15 s for leads.
    pub ring_timeout: Duration,
    pub purpose: LegPurpose,
    /// Provider hints: the lead's custom properties (the sim reads
    /// `sim.outcome`, `sim.ring_seconds`, `sim.talk_seconds`).
    pub hints: Vec<(String, String)>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AnsweredBy {
    Human,
    Machine,
}

/// Something that happened on a leg.
#[derive(Debug, Clone, PartialEq)]
pub enum MediaEvent {
    /// An agent's pinned leg is connected (and muted).
    PinnedLegUp {
        leg: LegId,
    },
    /// An agent's pinned leg dropped on its own.
    PinnedLegLost {
        leg: LegId,
    },
    /// A browser pinned leg dropped (a reload, the network): the leg
    /// stays, waiting for the page to come back (`PinnedLegUp` again).
    PinnedLegInterrupted {
        leg: LegId,
    },
    /// A pinned leg could not come up or come back: the agent cannot hear
    /// calls. `reason` says why, for the agent.
    PinnedLegFailed {
        leg: LegId,
        reason: String,
    },
    Ringing {
        leg: LegId,
    },
    Answered {
        leg: LegId,
        by: AnsweredBy,
    },
    Busy {
        leg: LegId,
    },
    NoAnswer {
        leg: LegId,
    },
    Failed {
        leg: LegId,
        reason: String,
    },
    /// The far end hung up.
    RemoteHangUp {
        leg: LegId,
    },
    /// The connect tone finished playing on a pinned leg.
    TonePlayed {
        leg: LegId,
    },
    /// A lead (or consult) leg is bridged into a pinned leg.
    Bridged {
        leg: LegId,
        pinned: LegId,
    },
    /// A prompt finished playing.
    PromptDone {
        leg: LegId,
    },
    /// A blind transfer of `leg` to an outside number completed or failed.
    TransferDone {
        leg: LegId,
        ok: bool,
    },
}

impl MediaEvent {
    pub fn leg(&self) -> &LegId {
        match self {
            MediaEvent::PinnedLegUp { leg }
            | MediaEvent::PinnedLegLost { leg }
            | MediaEvent::PinnedLegInterrupted { leg }
            | MediaEvent::PinnedLegFailed { leg, .. }
            | MediaEvent::Ringing { leg }
            | MediaEvent::Answered { leg, .. }
            | MediaEvent::Busy { leg }
            | MediaEvent::NoAnswer { leg }
            | MediaEvent::Failed { leg, .. }
            | MediaEvent::RemoteHangUp { leg }
            | MediaEvent::TonePlayed { leg }
            | MediaEvent::Bridged { leg, .. }
            | MediaEvent::PromptDone { leg }
            | MediaEvent::TransferDone { leg, .. } => leg,
        }
    }
}

/// Where a provider delivers events: `after` from now (a real provider
/// always passes zero; the sim schedules its carrier's future).
pub trait MediaSink: Send + Sync {
    fn emit(&self, after: Duration, event: MediaEvent);
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MediaError {
    #[error("unknown leg {0}")]
    UnknownLeg(LegId),
    #[error("the provider refused: {0}")]
    Refused(String),
    /// Something the caller sent cannot be used (an SDP offer).
    #[error("{0}")]
    BadInput(String),
}

/// What carries an agent's pinned leg.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum PinnedLegKind {
    /// The built-in simulated carrier.
    Simulated,
    /// A call to the agent's SIP phone or softphone.
    SipPhone,
    /// WebRTC to the agent's page: the page opens it with an SDP offer.
    Browser,
}

/// The connect tone played to the agent before the lead is heard.
pub const TONE: Duration = Duration::from_millis(150);

pub trait MediaProvider: Send + Sync {
    fn name(&self) -> &'static str;
    /// The simulated carrier: nobody is called, so the fictional numbers
    /// (555-0100…0199) the demo uses may be dialed and shown.
    fn simulated(&self) -> bool {
        false
    }
    /// The engine met an agent (first status change since start): their
    /// login, for providers that find the agent's phone by it.
    fn agent_known(&self, _agent_id: &str, _login: &str) {}
    /// Bring up an agent's pinned leg (CONNECTING until `PinnedLegUp`).
    fn create_pinned_leg(&self, agent_id: &str) -> Result<LegId, MediaError>;
    /// What carries a pinned leg.
    fn pinned_leg_kind(&self, _pinned: &LegId) -> PinnedLegKind {
        PinnedLegKind::Simulated
    }
    /// The agent's page offers WebRTC for a browser pinned leg: the SDP
    /// answer (the leg comes up with `PinnedLegUp` when the page connects).
    fn browser_offer(&self, pinned: &LegId, _sdp: &str) -> Result<String, MediaError> {
        Err(MediaError::Refused(format!(
            "{pinned} is not a browser audio leg: the {} provider carries no browser audio",
            self.name()
        )))
    }
    /// Place a call; events follow.
    fn originate(&self, req: &Originate) -> Result<LegId, MediaError>;
    /// Play the connect tone on `pinned`, then bridge `leg` into it.
    fn bridge(&self, leg: &LegId, pinned: &LegId) -> Result<(), MediaError>;
    /// Take `leg` out of whatever pinned leg it is in (the pinned leg goes
    /// back to idle: connected and muted).
    fn unbridge(&self, leg: &LegId) -> Result<(), MediaError>;
    /// Stop (or resume) sending the agent's audio on a pinned leg.
    fn mute(&self, pinned: &LegId, muted: bool) -> Result<(), MediaError>;
    /// Put a lead leg on hold (it hears silence or a hold prompt).
    fn hold(&self, leg: &LegId, on_hold: bool) -> Result<(), MediaError>;
    /// Hand `leg` to an outside number (blind): `TransferDone` follows.
    fn transfer(&self, leg: &LegId, to: &str) -> Result<(), MediaError>;
    /// Join `other` (an answered consult or participant leg) with `leg` in
    /// a conference; a warm transfer completes by the agent leaving it.
    fn join(&self, leg: &LegId, other: &LegId) -> Result<(), MediaError>;
    /// An agent leaves the call on `pinned` while it goes on without them
    /// (a completed warm transfer, leaving a conference): the pinned leg
    /// goes back to idle, the others keep talking.
    fn leave(&self, _pinned: &LegId) -> Result<(), MediaError> {
        Ok(())
    }
    /// Play a prompt (the safe-harbor message, a voicemail message);
    /// `PromptDone` follows. `then_hang_up` ends the leg after it.
    fn play(&self, leg: &LegId, prompt: &str, then_hang_up: bool) -> Result<(), MediaError>;
    fn hang_up(&self, leg: &LegId);
    /// Tear an agent's pinned leg down.
    fn tear_down(&self, pinned: &LegId);
    /// The server is stopping: end every leg (a real carrier would keep
    /// a call up, and bill it, until its own timeout).
    fn shut_down(&self) {}
}
