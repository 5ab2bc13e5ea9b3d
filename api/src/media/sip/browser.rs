//! Browser pinned legs: the agent's page is the far end, over WebRTC.
//!
//! When an agent with no SIP phone goes available, the provider makes a
//! *browser* pinned leg and waits for the page: the page sends an SDP
//! offer (one round trip through the `connectPinnedLeg` mutation, no
//! trickle), the server answers with `str0m` as an ICE-lite endpoint
//! (PCMU only, DTLS-SRTP) on a port from the RTP pool, and the leg is up
//! when DTLS is. The audio runs through the same [`AgentLegPath`] as a SIP
//! phone's: the path's packets toward the agent are written as PCMU
//! frames, the agent's frames come back as packets toward the lead.
//!
//! A page reload is a new offer on the same leg: the old session is
//! dropped, the path (and any lead bridged into it) stays, so the agent
//! hears the lead again as soon as the new session is up. A leg whose page
//! never offers, or drops and does not come back, within
//! [`SipConfig::browser_wait`](super::SipConfig) is reported failed and
//! the engine puts the agent on Break with the reason.
//!
//! [`AgentLegPath`]: crate::media::path::AgentLegPath

use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::sync::{Arc, OnceLock, Weak};
use std::time::Instant;

use str0m::change::SdpOffer;
use str0m::config::CryptoProvider;
use str0m::format::Codec;
use str0m::media::{Frequency, MediaTime, Mid, Pt};
use str0m::net::{Protocol, Receive};
use str0m::{Candidate, Event, IceConnectionState, Input, Output, Rtc, RtcConfig};
use tokio::sync::mpsc;
use tokio::task::AbortHandle;

use super::{Inner, LegMedia, lock};
use crate::media::rtp::RtpPacket;
use crate::media::{LegId, MediaError, MediaEvent};

/// The longest SDP offer taken (a browser's is 2–6 KB).
pub const MAX_OFFER: usize = 64 * 1024;

/// A browser pinned leg as the provider keeps it.
pub(super) struct BrowserLeg {
    pub(super) agent: String,
    pub(super) media: Arc<LegMedia>,
    /// The current WebRTC session's task (none until the page offers).
    session: Option<AbortHandle>,
    /// Which session is current: events of a replaced one are ignored.
    epoch: u64,
    pub(super) connected: bool,
    ticker: AbortHandle,
    /// The deadline for the page to offer, or to come back.
    timer: Option<AbortHandle>,
}

impl BrowserLeg {
    pub(super) fn stop(&mut self) {
        if let Some(s) = self.session.take() {
            s.abort();
        }
        if let Some(t) = self.timer.take() {
            t.abort();
        }
        self.ticker.abort();
        *lock(&self.media.browser) = None;
    }
}

fn crypto() -> Arc<CryptoProvider> {
    static P: OnceLock<Arc<CryptoProvider>> = OnceLock::new();
    P.get_or_init(|| Arc::new(str0m::crypto::from_feature_flags()))
        .clone()
}

/// What the session task tells the provider.
enum Seen {
    Up,
    Down,
}

impl Inner {
    /// A browser pinned leg for `agent`, waiting for the page's offer.
    pub(super) fn browser_leg(self: &Arc<Self>, agent: &str) -> Result<LegId, MediaError> {
        let n = self.next.fetch_add(1, Ordering::Relaxed);
        let id: LegId = format!("web-{n}");
        let media = self.open_media(&id, true)?;
        let ticker = self.spawn_ticker(media.clone());
        let leg = BrowserLeg {
            agent: agent.to_owned(),
            media,
            session: None,
            epoch: 0,
            connected: false,
            ticker,
            timer: None,
        };
        lock(&self.state).browsers.insert(id.clone(), leg);
        self.arm_browser_timer(&id, 0, "the agent's page did not open the audio leg");
        Ok(id)
    }

    fn arm_browser_timer(self: &Arc<Self>, id: &LegId, epoch: u64, why: &'static str) {
        let wait = self.cfg.browser_wait;
        let leg_id = id.clone();
        let timer = self.after(wait, move |inner| {
            let failed = {
                let mut st = lock(&inner.state);
                match st.browsers.get_mut(&leg_id) {
                    Some(b) if b.epoch == epoch && !b.connected => {
                        b.timer = None;
                        true
                    }
                    _ => false,
                }
            };
            if failed {
                let reason = format!("{why} within {} s", wait.as_secs());
                tracing::warn!(leg = %leg_id, "{reason}");
                inner.emit(MediaEvent::PinnedLegFailed {
                    leg: leg_id,
                    reason,
                });
            }
        });
        if let Some(b) = lock(&self.state).browsers.get_mut(id) {
            if let Some(old) = b.timer.replace(timer) {
                old.abort();
            }
        } else {
            timer.abort();
        }
    }

    /// The page's SDP offer for the browser leg `id`: the answer, and a
    /// new session on the leg (replacing any earlier one).
    pub(super) fn browser_offer(
        self: &Arc<Self>,
        id: &LegId,
        sdp: &str,
    ) -> Result<String, MediaError> {
        if sdp.len() > MAX_OFFER {
            return Err(MediaError::BadInput(format!(
                "the SDP offer is over {} KB",
                MAX_OFFER / 1024
            )));
        }
        let offer = SdpOffer::from_sdp_string(sdp)
            .map_err(|e| MediaError::BadInput(format!("not an SDP offer: {e}")))?;
        let media = match lock(&self.state).browsers.get(id) {
            Some(b) => b.media.clone(),
            None => return Err(MediaError::UnknownLeg(id.clone())),
        };
        let local = SocketAddr::new(self.me.ip(), media.port);
        let mut rtc = RtcConfig::new()
            .set_crypto_provider(crypto())
            .set_ice_lite(true)
            .clear_codecs()
            .enable_pcmu(true, false)
            .build(Instant::now());
        let candidate = Candidate::host(local, "udp")
            .map_err(|e| MediaError::Refused(format!("no usable address for WebRTC: {e}")))?;
        rtc.add_local_candidate(candidate);
        let answer = rtc
            .sdp_api()
            .accept_offer(offer)
            .map_err(|e| MediaError::BadInput(format!("the offer cannot be answered: {e}")))?;
        let answer = answer.to_sdp_string();
        if !answer.contains("PCMU/8000") {
            return Err(MediaError::BadInput(
                "the offer has no audio in PCMU (G.711 μ-law)".into(),
            ));
        }
        let (tx, rx) = mpsc::unbounded_channel();
        let mut st = lock(&self.state);
        let Some(b) = st.browsers.get_mut(id) else {
            return Err(MediaError::UnknownLeg(id.clone()));
        };
        b.epoch += 1;
        let epoch = b.epoch;
        if let Some(old) = b.session.take() {
            old.abort();
        }
        *lock(&media.browser) = Some(tx);
        let session = Session {
            rtc,
            leg: id.clone(),
            epoch,
            media,
            local,
            rx,
            inner: Arc::downgrade(self),
            mid: None,
            pt: None,
        };
        b.session = Some(self.rt.spawn(session.run()).abort_handle());
        tracing::info!(leg = %id, agent = %b.agent, "browser audio leg offered");
        drop(st);
        // The page has this long to connect (ICE and DTLS).
        self.arm_browser_timer(
            id,
            epoch,
            "the agent's browser did not connect the audio leg",
        );
        Ok(answer)
    }

    fn browser_seen(self: &Arc<Self>, id: &LegId, epoch: u64, seen: Seen) {
        let event = {
            let mut st = lock(&self.state);
            let Some(b) = st.browsers.get_mut(id) else {
                return;
            };
            if b.epoch != epoch {
                return;
            }
            match seen {
                Seen::Up => {
                    if let Some(t) = b.timer.take() {
                        t.abort();
                    }
                    b.connected = true;
                    tracing::info!(leg = %id, agent = %b.agent, "browser audio leg connected");
                    MediaEvent::PinnedLegUp { leg: id.clone() }
                }
                Seen::Down if b.connected => {
                    b.connected = false;
                    tracing::warn!(leg = %id, agent = %b.agent, "browser audio leg lost");
                    MediaEvent::PinnedLegInterrupted { leg: id.clone() }
                }
                Seen::Down => return,
            }
        };
        if matches!(event, MediaEvent::PinnedLegInterrupted { .. }) {
            self.arm_browser_timer(
                id,
                epoch,
                "the agent's browser audio leg dropped and did not come back",
            );
        }
        self.emit(event);
    }

    /// End a browser leg (the engine's tear-down, or the server stops).
    pub(super) fn end_browser(&self, id: &LegId) -> bool {
        let Some(mut b) = lock(&self.state).browsers.remove(id) else {
            return false;
        };
        b.stop();
        super::detach(&b.media);
        lock(&self.ports).give_back(b.media.port);
        true
    }
}

/// One WebRTC session of a browser leg: str0m driven by the leg's socket,
/// the path's packets, and str0m's own timeouts.
struct Session {
    rtc: Rtc,
    leg: LegId,
    epoch: u64,
    media: Arc<LegMedia>,
    local: SocketAddr,
    rx: mpsc::UnboundedReceiver<Vec<RtpPacket>>,
    inner: Weak<Inner>,
    mid: Option<Mid>,
    pt: Option<Pt>,
}

impl Session {
    async fn run(mut self) {
        let mut buf = vec![0u8; 2048];
        let mut dtls_up = false;
        loop {
            let deadline = loop {
                match self.rtc.poll_output() {
                    Ok(Output::Timeout(t)) => break t,
                    Ok(Output::Transmit(t)) => {
                        let _ = self.media.sock.try_send_to(&t.contents, t.destination);
                    }
                    Ok(Output::Event(e)) => match e {
                        Event::Connected => {
                            dtls_up = true;
                            self.seen(Seen::Up);
                        }
                        Event::IceConnectionStateChange(IceConnectionState::Disconnected) => {
                            self.seen(Seen::Down);
                        }
                        Event::IceConnectionStateChange(
                            IceConnectionState::Connected | IceConnectionState::Completed,
                        ) if dtls_up => self.seen(Seen::Up),
                        Event::MediaAdded(m) => {
                            self.mid = Some(m.mid);
                            self.pt = self.rtc.writer(m.mid).and_then(|w| {
                                w.payload_params()
                                    .find(|p| p.spec().codec == Codec::PCMU)
                                    .map(|p| p.pt())
                            });
                        }
                        Event::MediaData(d) => self.agent_spoke(d),
                        _ => {}
                    },
                    Err(e) => {
                        tracing::warn!(leg = %self.leg, error = %e, "browser audio leg failed");
                        self.seen(Seen::Down);
                        return;
                    }
                }
            };
            let sleep = tokio::time::sleep_until(deadline.into());
            tokio::select! {
                r = self.media.sock.recv_from(&mut buf) => {
                    let Ok((n, source)) = r else { continue };
                    let Ok(contents) = buf[..n].try_into() else { continue };
                    let input = Input::Receive(
                        Instant::now(),
                        Receive {
                            proto: Protocol::Udp,
                            source,
                            destination: self.local,
                            contents,
                        },
                    );
                    if let Err(e) = self.rtc.handle_input(input) {
                        tracing::debug!(leg = %self.leg, error = %e, "browser datagram refused");
                    }
                }
                packets = self.rx.recv() => {
                    let Some(packets) = packets else { return };
                    self.send_to_agent(packets);
                }
                () = sleep => {
                    let _ = self.rtc.handle_input(Input::Timeout(Instant::now()));
                }
            }
        }
    }

    fn seen(&self, seen: Seen) {
        if let Some(inner) = self.inner.upgrade() {
            inner.browser_seen(&self.leg, self.epoch, seen);
        }
    }

    /// The path's packets toward the agent, as PCMU frames.
    fn send_to_agent(&mut self, packets: Vec<RtpPacket>) {
        let (Some(mid), Some(pt)) = (self.mid, self.pt) else {
            return;
        };
        for p in packets {
            let Some(w) = self.rtc.writer(mid) else {
                return;
            };
            let at = MediaTime::new(u64::from(p.timestamp), Frequency::EIGHT_KHZ);
            if let Err(e) = w.write(pt, Instant::now(), at, p.payload) {
                tracing::debug!(leg = %self.leg, error = %e, "audio toward the browser dropped");
                return;
            }
        }
    }

    /// The agent's microphone: one frame, into the path as a packet.
    fn agent_spoke(&self, d: str0m::media::MediaData) {
        if d.params.spec().codec != Codec::PCMU {
            return;
        }
        let Some(inner) = self.inner.upgrade() else {
            return;
        };
        let p = RtpPacket {
            marker: false,
            payload_type: 0,
            sequence: **d.seq_range.start() as u16,
            timestamp: d.time.numer() as u32,
            ssrc: 0,
            payload: d.data.to_vec(),
        };
        *lock(&self.media.last_heard) = Some(Instant::now());
        inner.on_rtp(&self.media, &p);
    }
}
