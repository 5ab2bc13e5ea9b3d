//! The `sip` provider: real calls. Lead (and consult) legs are SIP calls
//! to a trunk; an agent's pinned leg is a SIP call to the agent's phone or
//! softphone, kept up between calls. One UDP socket carries signalling;
//! each leg has its own RTP socket from a port pool, with symmetric RTP
//! (the far end's media is sent back to where it comes from, which gets
//! through NATs in front of phones). Audio on a pinned leg runs through
//! [`AgentLegPath`]: silence while idle, the connect tone on bridge, then
//! lead and agent relayed to each other without transcoding.
//!
//! A small user agent, written for what a dialer does (UDP; INVITE as UAC
//! with digest auth, CANCEL, BYE both ways, re-INVITE answered, RFC 3261
//! timers A/B/E/F), not a general SIP stack: the `rsipstack` crate would
//! bring an older `rsip`/`nom` tree and `wasm-bindgen` into the server
//! build for the same few methods.

pub mod browser;
pub mod digest;
pub mod msg;
pub mod prompt;
pub mod room;
pub mod tcp;

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::time::{Duration, Instant};

use tokio::net::UdpSocket;
use tokio::task::AbortHandle;

use super::amd::{Amd, AmdSettings, AmdVerdict};
use super::path::{AgentLegPath, PathState, Sends};
use super::rtp::RtpPacket;
use super::sdp;
use super::{
    AnsweredBy, LegId, LegPurpose, MediaError, MediaEvent, MediaProvider, MediaSink, Originate,
    PinnedLegKind, TONE,
};
use msg::{SipMessage, host_port, tag_of, uri_of};
use room::Room;

/// RFC 3261's T1 and T2.
const T1: Duration = Duration::from_millis(500);
const T2: Duration = Duration::from_secs(4);
/// How long after a CANCEL the leg waits for the INVITE's final answer.
const CANCEL_GRACE: Duration = Duration::from_secs(4);
/// The shortest ring before a lead leg is cancelled (US: 15 s / 4 rings).
const MIN_LEAD_RING: Duration =
    Duration::from_secs(crate::domain::campaign::MIN_RING_TIMEOUT_SECS as u64);
/// How long the phone of an agent gets to answer the pinned leg.
const PINNED_RING: Duration = Duration::from_secs(30);

/// How SIP reaches the trunk (agents' phones are always UDP).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SipTransport {
    #[default]
    Udp,
    Tcp,
}

#[derive(Debug, Clone)]
pub struct SipConfig {
    /// The signalling socket (UDP); RTP binds on the same IP.
    pub bind: SocketAddr,
    /// The address written in Via, Contact and SDP (a public IP behind
    /// NAT); the bound IP when unset.
    pub public_ip: Option<IpAddr>,
    /// The trunk, `host[:port]`: lead legs go to `sip:<number>@host`.
    pub trunk: String,
    /// UDP or TCP toward the trunk.
    pub transport: SipTransport,
    /// Digest credentials for the trunk.
    pub username: Option<String>,
    pub password: Option<String>,
    /// The RTP port range, inclusive.
    pub rtp_ports: (u16, u16),
    /// An answered leg that sends no RTP for this long is over.
    pub rtp_timeout: Duration,
    /// Each agent's phone: the agent's login email (or user id) → the SIP
    /// URI the server calls for the pinned leg. `*` is a template for the
    /// rest: `{agent}` in it stands for the user id, `{login}` for the
    /// part of the login email before `@`.
    pub agent_phones: HashMap<String, String>,
    /// Answering-machine detection on lead legs; `None` counts every
    /// answer as a person (fastest connection).
    pub amd: Option<AmdSettings>,
    /// Benchmarks: where the provider reports its bridging latencies.
    pub probe: Option<Arc<SipProbe>>,
    /// How long an agent's page has to open its browser audio leg, or to
    /// bring it back after it drops (a reload), before the agent is put
    /// on Break.
    pub browser_wait: Duration,
}

/// What `pinline bench sip` reads: per bridged call, from the lead's 200 OK
/// arriving at the server.
#[derive(Debug, Default)]
pub struct SipProbe {
    /// … to the first packet of the bridged path sent toward the agent
    /// (the connect tone's first).
    pub first_agent_packet: Mutex<Vec<Duration>>,
    /// … to the first packet of the lead's own audio sent toward the agent
    /// (after the tone).
    pub first_lead_audio: Mutex<Vec<Duration>>,
}

impl SipConfig {
    pub fn new(bind: SocketAddr, trunk: &str) -> Self {
        SipConfig {
            bind,
            public_ip: None,
            trunk: trunk.into(),
            transport: SipTransport::Udp,
            username: None,
            password: None,
            rtp_ports: (20000, 20999),
            rtp_timeout: Duration::from_secs(30),
            agent_phones: HashMap::new(),
            amd: None,
            probe: None,
            browser_wait: Duration::from_secs(20),
        }
    }

    fn agent_phone(&self, agent_id: &str, login: Option<&str>) -> Option<String> {
        let by_login = login.and_then(|l| self.agent_phones.get(l));
        let user = login.map_or("", |l| l.split('@').next().unwrap_or(l));
        self.agent_phones
            .get(agent_id)
            .or(by_login)
            .cloned()
            .or_else(|| {
                self.agent_phones
                    .get("*")
                    .map(|t| t.replace("{agent}", agent_id).replace("{login}", user))
            })
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SipStartError {
    #[error("cannot bind the SIP socket to {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("cannot resolve the SIP trunk {0:?} (host[:port])")]
    Trunk(String),
    #[error("the SIP socket is bound to {0}, which no far end can reach: set the public IP")]
    NoAddress(IpAddr),
    #[error("the RTP port range {0}-{1} is empty or holds no even port")]
    Ports(u16, u16),
    #[error("agent phone {0:?}: not a sip: URI, or its host does not resolve")]
    AgentPhone(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CancelWhy {
    RingTimeout,
    HangUp,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// INVITE sent, nothing back yet.
    Calling,
    /// A provisional answer came.
    Proceeding,
    Up,
    /// CANCEL sent; the INVITE's final answer is awaited.
    Cancelling(CancelWhy),
    /// BYE sent or received: only late messages are answered.
    Ended,
}

struct Leg {
    pinned: bool,
    call_id: String,
    local_tag: String,
    remote_tag: Option<String>,
    request_uri: String,
    remote_target: String,
    from: String,
    to: String,
    dest: SocketAddr,
    cseq: u32,
    invite: SipMessage,
    phase: Phase,
    rang: bool,
    auth_tried: bool,
    /// A prompt is playing; hang up when it ends (the engine's hang-up
    /// right after `play` must not cut the message off).
    playing: bool,
    hang_up_after_prompt: bool,
    media: Arc<LegMedia>,
    tasks: Vec<AbortHandle>,
    /// Client transactions still retransmitting: "branch METHOD" → done.
    txs: HashMap<String, Arc<AtomicBool>>,
    /// Headers every INVITE of the leg carries (P-Asserted-Identity).
    extra: Vec<(&'static str, String)>,
    /// The dialog's route set (the 2xx's Record-Route, reversed).
    route: Vec<String>,
    /// A blind transfer (REFER) awaits its outcome.
    transferring: bool,
}

enum Role {
    /// A lead's leg: bridged into a pinned leg or not; AMD while deciding.
    Lead {
        pinned: Option<Arc<LegMedia>>,
        amd: Option<Amd>,
        /// In a conference: the room mixes instead of the relay.
        room: Option<Arc<Room>>,
    },
    Pinned {
        path: AgentLegPath,
        lead: Option<Arc<LegMedia>>,
        room: Option<Arc<Room>>,
    },
}

/// One leg's RTP: its socket, where the far end is, what it carries.
struct LegMedia {
    leg: LegId,
    sock: Arc<UdpSocket>,
    port: u16,
    remote: Mutex<Option<SocketAddr>>,
    latched: AtomicBool,
    last_heard: Mutex<Option<Instant>>,
    role: Mutex<Role>,
    /// Wakes a pinned leg's ticker at once (the tone starts at the
    /// bridge, not at the next 20-ms tick).
    wake: tokio::sync::Notify,
    /// Probe: when this (lead) leg's 200 OK came.
    answered_at: Mutex<Option<Instant>>,
    /// Probe, on a pinned leg: the bridged lead's 200 OK time, and
    /// whether the bridge's first packet went yet.
    probing: Mutex<Option<(Instant, bool)>>,
    /// A browser leg's session: packets toward the agent go to it (it
    /// writes them as WebRTC frames) instead of the UDP socket.
    browser: Mutex<Option<tokio::sync::mpsc::UnboundedSender<Vec<RtpPacket>>>>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl LegMedia {
    fn send(&self, packets: &[RtpPacket]) {
        if packets.is_empty() {
            return;
        }
        if let Some(session) = &*lock(&self.browser) {
            let _ = session.send(packets.to_vec());
            return;
        }
        if let Some(to) = *lock(&self.remote) {
            for p in packets {
                let _ = self.sock.try_send_to(&p.to_bytes(), to);
            }
        }
    }
}

fn deliver(probe: Option<&SipProbe>, agent: &LegMedia, lead: Option<&LegMedia>, s: Sends) {
    agent.send(&s.to_agent);
    if let Some(l) = lead {
        l.send(&s.to_lead);
    }
    if let Some(probe) = probe
        && !s.to_agent.is_empty()
    {
        let mut probing = lock(&agent.probing);
        if let Some((answered, first_sent)) = probing.as_mut() {
            if !*first_sent {
                *first_sent = true;
                lock(&probe.first_agent_packet).push(answered.elapsed());
            }
            if s.lead_audio {
                lock(&probe.first_lead_audio).push(answered.elapsed());
                *probing = None;
            }
        }
    }
}

struct PortPool {
    next: u16,
    lo: u16,
    hi: u16,
    used: std::collections::HashSet<u16>,
}

impl PortPool {
    /// The next free even port, round robin (a just-freed port is not
    /// reused at once: late packets of the old call would land on it).
    fn take(&mut self) -> Option<u16> {
        let count = (self.hi - self.lo) / 2 + 1;
        for _ in 0..count {
            let p = self.next;
            self.next = if p + 2 > self.hi { self.lo } else { p + 2 };
            if self.used.insert(p) {
                return Some(p);
            }
        }
        None
    }

    fn give_back(&mut self, p: u16) {
        self.used.remove(&p);
    }
}

#[derive(Default)]
struct State {
    legs: HashMap<LegId, Leg>,
    browsers: HashMap<LegId, browser::BrowserLeg>,
    by_call: HashMap<String, LegId>,
}

struct Inner {
    cfg: SipConfig,
    sock: Arc<UdpSocket>,
    /// What Via, Contact and SDP say.
    me: SocketAddr,
    trunk: SocketAddr,
    trunk_host: String,
    sink: Arc<dyn MediaSink>,
    state: Mutex<State>,
    /// Agent id → login email, as the engine meets agents.
    logins: Mutex<HashMap<String, String>>,
    /// Agent phones' hosts, resolved at start.
    phones: HashMap<(String, u16), SocketAddr>,
    ports: Mutex<PortPool>,
    rt: tokio::runtime::Handle,
    next: AtomicU64,
    /// The signalling socket's reader task.
    reader: Mutex<Option<AbortHandle>>,
    /// SIP over TCP to the trunk, when configured.
    tcp: Option<tcp::TcpLink>,
}

pub struct SipProvider {
    inner: Arc<Inner>,
}

impl Drop for SipProvider {
    fn drop(&mut self) {
        if let Some(h) = lock(&self.inner.reader).take() {
            h.abort();
        }
        let legs = self.inner.every_leg();
        for leg in legs {
            self.inner.hang_up(&leg);
        }
    }
}

fn random_token() -> String {
    format!("{:016x}", rand::random::<u64>())
}

/// A provider whose sockets are bound (so a bad address fails the start
/// with a clear error) but which does not listen yet: [`SipBound::start`]
/// gives it the sink the engine made.
pub struct SipBound {
    cfg: SipConfig,
    phones: HashMap<(String, u16), SocketAddr>,
    sock: UdpSocket,
    me: SocketAddr,
    trunk: SocketAddr,
    trunk_host: String,
    first_even: u16,
}

impl SipProvider {
    /// Bind the signalling socket and resolve the trunk.
    pub async fn bind(cfg: SipConfig) -> Result<SipBound, SipStartError> {
        let (lo, hi) = cfg.rtp_ports;
        let first_even = lo + lo % 2;
        if hi < lo || first_even > hi {
            return Err(SipStartError::Ports(lo, hi));
        }
        let (trunk_host, trunk_port) = host_port(&format!("sip:{}", cfg.trunk))
            .ok_or_else(|| SipStartError::Trunk(cfg.trunk.clone()))?;
        let trunk = tokio::net::lookup_host((trunk_host.as_str(), trunk_port))
            .await
            .ok()
            .and_then(|mut a| a.next())
            .ok_or_else(|| SipStartError::Trunk(cfg.trunk.clone()))?;
        let sock = UdpSocket::bind(cfg.bind)
            .await
            .map_err(|source| SipStartError::Bind {
                addr: cfg.bind,
                source,
            })?;
        let bound = sock.local_addr().map_err(|source| SipStartError::Bind {
            addr: cfg.bind,
            source,
        })?;
        let ip = cfg.public_ip.unwrap_or(bound.ip());
        if ip.is_unspecified() {
            return Err(SipStartError::NoAddress(ip));
        }
        // Phones' hosts are looked up now, not on the engine's task when an
        // agent goes available (a slow DNS answer would stall every call).
        let mut phones = HashMap::new();
        for uri in cfg.agent_phones.values() {
            let (host, port) =
                host_port(uri).ok_or_else(|| SipStartError::AgentPhone(uri.clone()))?;
            if host.contains('{') || host.parse::<IpAddr>().is_ok() {
                continue;
            }
            let addr = tokio::net::lookup_host((host.as_str(), port))
                .await
                .ok()
                .and_then(|mut a| a.find(|a| a.is_ipv4() == bound.is_ipv4()))
                .ok_or_else(|| SipStartError::AgentPhone(uri.clone()))?;
            phones.insert((host, port), addr);
        }
        Ok(SipBound {
            phones,
            me: SocketAddr::new(ip, bound.port()),
            trunk,
            trunk_host: if trunk_port == 5060 {
                trunk_host
            } else {
                format!("{trunk_host}:{trunk_port}")
            },
            sock,
            first_even,
            cfg,
        })
    }

    /// Bind, then listen (tests; the server binds before the engine).
    pub async fn start(cfg: SipConfig, sink: Arc<dyn MediaSink>) -> Result<Self, SipStartError> {
        Ok(Self::bind(cfg).await?.start(sink))
    }

    /// Where the signalling socket is (for tests and the log).
    pub fn local_addr(&self) -> SocketAddr {
        self.inner.me
    }

    /// Where a leg's RTP socket listens, while the leg lasts.
    pub fn rtp_addr(&self, leg: &LegId) -> Option<SocketAddr> {
        let st = lock(&self.inner.state);
        let port = st.legs.get(leg)?.media.port;
        Some(SocketAddr::new(self.inner.me.ip(), port))
    }
}

impl SipBound {
    /// Start listening; events go to `sink`. Must run inside a Tokio
    /// runtime (the provider's tasks are spawned on it).
    pub fn start(self, sink: Arc<dyn MediaSink>) -> SipProvider {
        let SipBound {
            cfg,
            phones,
            sock,
            me,
            trunk,
            trunk_host,
            first_even,
        } = self;
        let hi = cfg.rtp_ports.1;
        let rt = tokio::runtime::Handle::current();
        let inner = Arc::new_cyclic(|weak| Inner {
            tcp: (cfg.transport == SipTransport::Tcp)
                .then(|| tcp::TcpLink::start(&rt, trunk, weak.clone())),
            me,
            trunk,
            trunk_host,
            sock: Arc::new(sock),
            sink,
            state: Mutex::new(State::default()),
            logins: Mutex::new(HashMap::new()),
            phones,
            ports: Mutex::new(PortPool {
                next: first_even,
                lo: first_even,
                hi,
                used: Default::default(),
            }),
            rt: rt.clone(),
            next: AtomicU64::new(1),
            reader: Mutex::new(None),
            cfg,
        });
        let weak = Arc::downgrade(&inner);
        let sock = inner.sock.clone();
        let reader = tokio::spawn(async move {
            let mut buf = vec![0u8; 65536];
            loop {
                let Ok((n, src)) = sock.recv_from(&mut buf).await else {
                    continue;
                };
                let Some(inner) = weak.upgrade() else { return };
                match SipMessage::parse(&buf[..n]) {
                    Ok(m) => inner.on_message(m, src),
                    Err(e) => tracing::debug!(%src, error = %e, "unreadable SIP datagram"),
                }
            }
        });
        *lock(&inner.reader) = Some(reader.abort_handle());
        tracing::info!(sip = %me, trunk = %trunk, "SIP provider listening");
        SipProvider { inner }
    }
}

/// A UAC's route set from a 2xx: its Record-Route entries, reversed.
fn route_set(m: &SipMessage) -> Vec<String> {
    let mut route: Vec<String> = m
        .headers_named("Record-Route")
        .flat_map(|v| v.split(','))
        .map(|r| r.trim().to_owned())
        .filter(|r| !r.is_empty())
        .collect();
    route.reverse();
    route
}

/// A number the trunk can dial (digits, `+`, `*`, `#`).
fn dialable(number: &str) -> Result<&str, MediaError> {
    let n = number.trim();
    if n.is_empty()
        || !n
            .chars()
            .all(|c| c.is_ascii_digit() || matches!(c, '+' | '*' | '#'))
    {
        return Err(MediaError::Refused(format!("not a dialable number: {n:?}")));
    }
    Ok(n)
}

struct Place {
    pinned: bool,
    /// P-Asserted-Identity for a lead's caller ID (carriers want it).
    asserted: Option<String>,
    request_uri: String,
    from_user: String,
    to: String,
    dest: SocketAddr,
    ring: Duration,
}

impl Inner {
    /// Run `then` on the provider after `delay`, unless the task is
    /// aborted (the leg ended) or the provider is gone.
    fn after(
        self: &Arc<Self>,
        delay: Duration,
        then: impl FnOnce(&Arc<Inner>) + Send + 'static,
    ) -> AbortHandle {
        let weak = Arc::downgrade(self);
        self.rt
            .spawn(async move {
                tokio::time::sleep(delay).await;
                if let Some(inner) = weak.upgrade() {
                    then(&inner);
                }
            })
            .abort_handle()
    }

    fn emit(&self, e: MediaEvent) {
        self.sink.emit(Duration::ZERO, e);
    }

    /// Whether messages to `dest` go over TCP (the trunk, when so set).
    fn is_tcp(&self, dest: SocketAddr) -> bool {
        self.tcp.is_some() && dest == self.trunk
    }

    /// Send a SIP message: over the trunk's TCP connection, or UDP.
    fn send_to(&self, bytes: &[u8], dest: SocketAddr) {
        match &self.tcp {
            Some(link) if dest == self.trunk => link.send(bytes),
            _ => {
                let _ = self.sock.try_send_to(bytes, dest);
            }
        }
    }

    fn via(&self, branch: &str, dest: SocketAddr) -> String {
        let t = if self.is_tcp(dest) { "TCP" } else { "UDP" };
        format!("SIP/2.0/{t} {};branch={branch};rport", self.me)
    }

    fn contact(&self, dest: SocketAddr) -> String {
        if self.is_tcp(dest) {
            format!("<sip:pinline@{};transport=tcp>", self.me)
        } else {
            format!("<sip:pinline@{}>", self.me)
        }
    }

    fn place(self: &Arc<Self>, p: Place) -> Result<LegId, MediaError> {
        let n = self.next.fetch_add(1, Ordering::Relaxed);
        let leg_id: LegId = format!("sip-{n}");
        let media = self.open_media(&leg_id, p.pinned)?;
        let call_id = format!("{}@pinline", random_token());
        let local_tag = random_token();
        let from = format!("<sip:{}@{}>;tag={local_tag}", p.from_user, self.me.ip());
        let sdp = sdp::offer(n, 1, self.me.ip(), media.port);
        let extra: Vec<(&'static str, String)> = p
            .asserted
            .iter()
            .map(|a| ("P-Asserted-Identity", a.clone()))
            .collect();
        let invite = self.build_invite(
            &p.request_uri,
            &from,
            &p.to,
            &call_id,
            1,
            sdp.into_bytes(),
            &extra,
            p.dest,
        );
        let mut leg = Leg {
            pinned: p.pinned,
            call_id: call_id.clone(),
            local_tag,
            remote_tag: None,
            request_uri: p.request_uri.clone(),
            remote_target: p.request_uri,
            from,
            to: p.to,
            dest: p.dest,
            cseq: 1,
            invite: invite.clone(),
            phase: Phase::Calling,
            rang: false,
            auth_tried: false,
            playing: false,
            hang_up_after_prompt: false,
            media: media.clone(),
            tasks: Vec::new(),
            txs: HashMap::new(),
            extra,
            route: Vec::new(),
            transferring: false,
        };
        leg.tasks.push(self.spawn_rtp_reader(media));
        let id = leg_id.clone();
        leg.tasks
            .push(self.after(p.ring, move |inner| inner.ring_timed_out(&id)));
        // Known before the INVITE leaves: on loopback the answer can
        // come back before the next line runs.
        let mut st = lock(&self.state);
        st.by_call.insert(call_id, leg_id.clone());
        let leg = st.legs.entry(leg_id.clone()).or_insert(leg);
        self.send_reliably(&leg_id, leg, &invite, true);
        Ok(leg_id)
    }

    #[allow(clippy::too_many_arguments)]
    fn build_invite(
        &self,
        uri: &str,
        from: &str,
        to: &str,
        call_id: &str,
        cseq: u32,
        sdp: Vec<u8>,
        extra: &[(&'static str, String)],
        dest: SocketAddr,
    ) -> SipMessage {
        let mut m = SipMessage::request("INVITE", uri)
            .with("Via", self.via(&format!("z9hG4bK{}", random_token()), dest))
            .with("Max-Forwards", "70")
            .with("From", from)
            .with("To", to)
            .with("Call-ID", call_id)
            .with("CSeq", format!("{cseq} INVITE"))
            .with("Contact", self.contact(dest))
            .with("Allow", "INVITE, ACK, CANCEL, BYE, OPTIONS, INFO, NOTIFY")
            .with("User-Agent", concat!("Pinline/", env!("CARGO_PKG_VERSION")));
        for (name, value) in extra {
            m = m.with(name, value.clone());
        }
        m.with_body("application/sdp", sdp)
    }

    fn open_media(&self, leg: &LegId, pinned: bool) -> Result<Arc<LegMedia>, MediaError> {
        let ip = self.cfg.bind.ip();
        let _guard = self.rt.enter();
        let mut tries = 0;
        loop {
            let port = lock(&self.ports)
                .take()
                .ok_or_else(|| MediaError::Refused("no free RTP port left in the range".into()))?;
            let bound = std::net::UdpSocket::bind((ip, port))
                .and_then(|s| s.set_nonblocking(true).map(|()| s))
                .and_then(UdpSocket::from_std);
            match bound {
                Ok(sock) => {
                    let role = if pinned {
                        Role::Pinned {
                            path: AgentLegPath::new(rand::random(), TONE.as_millis() as u32),
                            lead: None,
                            room: None,
                        }
                    } else {
                        Role::Lead {
                            pinned: None,
                            amd: None,
                            room: None,
                        }
                    };
                    return Ok(Arc::new(LegMedia {
                        leg: leg.clone(),
                        sock: Arc::new(sock),
                        port,
                        remote: Mutex::new(None),
                        latched: AtomicBool::new(false),
                        last_heard: Mutex::new(None),
                        role: Mutex::new(role),
                        wake: tokio::sync::Notify::new(),
                        answered_at: Mutex::new(None),
                        probing: Mutex::new(None),
                        browser: Mutex::new(None),
                    }));
                }
                Err(e) => {
                    // Someone else holds it: keep it out of the pool.
                    tries += 1;
                    if tries > 16 {
                        return Err(MediaError::Refused(format!("cannot bind RTP: {e}")));
                    }
                }
            }
        }
    }

    fn send_reliably(
        self: &Arc<Self>,
        leg_id: &LegId,
        leg: &mut Leg,
        m: &SipMessage,
        invite: bool,
    ) {
        let bytes = m.to_bytes();
        let dest = leg.dest;
        self.send_to(&bytes, dest);
        // A reliable transport needs no retransmissions; timer B stays.
        let reliable = self.is_tcp(dest);
        let key = format!(
            "{} {}",
            m.branch().unwrap_or_default(),
            m.method().unwrap_or_default()
        );
        let done = Arc::new(AtomicBool::new(false));
        leg.txs.insert(key, done.clone());
        let weak: Weak<Inner> = Arc::downgrade(self);
        let id = leg_id.clone();
        let method = m.method().unwrap_or_default().to_owned();
        let h = self.rt.spawn(async move {
            let started = Instant::now();
            let mut wait = T1;
            loop {
                tokio::time::sleep(wait).await;
                if done.load(Ordering::Acquire) {
                    return;
                }
                let Some(inner) = weak.upgrade() else { return };
                if started.elapsed() >= T1 * 64 {
                    inner.transaction_timed_out(&id, &method);
                    return;
                }
                if !reliable {
                    inner.send_to(&bytes, dest);
                }
                wait = if invite { wait * 2 } else { (wait * 2).min(T2) };
            }
        });
        leg.tasks.push(h.abort_handle());
    }

    /// A request inside the dialog (BYE, ACK for 2xx).
    fn in_dialog(&self, leg: &mut Leg, method: &str, cseq: Option<u32>) -> SipMessage {
        let n = match cseq {
            Some(n) => n,
            None => {
                leg.cseq += 1;
                leg.cseq
            }
        };
        let to = match &leg.remote_tag {
            Some(t) => format!("{};tag={t}", leg.to),
            None => leg.to.clone(),
        };
        let mut m = SipMessage::request(method, &leg.remote_target).with(
            "Via",
            self.via(&format!("z9hG4bK{}", random_token()), leg.dest),
        );
        for r in &leg.route {
            m = m.with("Route", r.clone());
        }
        m.with("Max-Forwards", "70")
            .with("From", leg.from.clone())
            .with("To", to)
            .with("Call-ID", leg.call_id.clone())
            .with("CSeq", format!("{n} {method}"))
    }

    /// CANCEL and the ACK of a non-2xx answer share the INVITE's branch.
    fn same_transaction(&self, leg: &Leg, method: &str, to: Option<&str>) -> SipMessage {
        let inv = &leg.invite;
        let mut m = SipMessage::request(method, &leg.request_uri);
        for name in ["Via", "Max-Forwards", "From", "To", "Call-ID"] {
            if let Some(v) = inv.header(name) {
                let v = match (name, to) {
                    ("To", Some(to)) => to.to_owned(),
                    _ => v.to_owned(),
                };
                m = m.with(name, v);
            }
        }
        m.with("CSeq", format!("{} {method}", leg.cseq))
    }

    fn on_message(self: &Arc<Self>, m: SipMessage, src: SocketAddr) {
        if m.code().is_some() {
            self.on_response(m, src);
        } else {
            self.on_request(m, src);
        }
    }

    fn on_response(self: &Arc<Self>, m: SipMessage, src: SocketAddr) {
        let Some(code) = m.code() else { return };
        let Some((_, method)) = m.cseq() else { return };
        let method = method.to_owned();
        let mut events = Vec::new();
        let mut finished = None;
        {
            let mut st = lock(&self.state);
            let Some(id) = m.call_id().and_then(|c| st.by_call.get(c)).cloned() else {
                drop(st);
                if (200..300).contains(&code) && method == "INVITE" {
                    self.end_stray_answer(&m, src);
                }
                return;
            };
            let Some(leg) = st.legs.get_mut(&id) else {
                return;
            };
            let key = format!("{} {method}", m.branch().unwrap_or_default());
            if let Some(done) = leg.txs.get(&key)
                && (code >= 200 || method == "INVITE")
            {
                done.store(true, Ordering::Release);
            }
            if method != "INVITE" {
                if method == "BYE" && code >= 200 {
                    finished = Some(id.clone());
                }
                let refused = method == "REFER" && code >= 300;
                drop(st);
                if let Some(id) = finished {
                    self.finish(&id);
                }
                if refused {
                    self.transfer_finished(&id, false);
                }
                return;
            }
            match code {
                100..=199 => {
                    if leg.phase == Phase::Calling {
                        leg.phase = Phase::Proceeding;
                    }
                    if (code == 180 || code == 183) && !leg.rang {
                        leg.rang = true;
                        if !leg.pinned && leg.phase == Phase::Proceeding {
                            events.push(MediaEvent::Ringing { leg: id.clone() });
                        }
                    }
                }
                200..=299 => self.on_answer(&id, leg, &m, src, &mut events),
                _ => self.on_refusal(&id, leg, &m, code, &mut events, &mut finished),
            }
        }
        for e in events {
            self.emit(e);
        }
        if let Some(id) = finished {
            self.finish(&id);
        }
    }

    /// A 200 for a call this side already gave up on (its CANCEL went
    /// unanswered and the leg is gone): ACK it and BYE it at once, or the
    /// far end keeps a call up — and the carrier bills it — until its own
    /// timeout.
    fn end_stray_answer(&self, m: &SipMessage, src: SocketAddr) {
        let (Some((n, _)), Some(contact)) = (m.cseq(), m.header("Contact")) else {
            return;
        };
        let target = uri_of(contact).to_owned();
        let route = route_set(m);
        for (method, cseq) in [("ACK", n), ("BYE", n + 1)] {
            let mut r = SipMessage::request(method, &target)
                .with("Via", self.via(&format!("z9hG4bK{}", random_token()), src));
            for hop in &route {
                r = r.with("Route", hop.clone());
            }
            for name in ["From", "To", "Call-ID"] {
                if let Some(v) = m.header(name) {
                    r = r.with(name, v.to_owned());
                }
            }
            r = r
                .with("Max-Forwards", "70")
                .with("CSeq", format!("{cseq} {method}"));
            self.send_to(&r.to_bytes(), src);
        }
        tracing::warn!(
            call_id = m.call_id().unwrap_or_default(),
            "ended a late answer"
        );
    }

    fn on_answer(
        self: &Arc<Self>,
        id: &LegId,
        leg: &mut Leg,
        m: &SipMessage,
        src: SocketAddr,
        events: &mut Vec<MediaEvent>,
    ) {
        let arrived = Instant::now();
        let first = leg.remote_tag.is_none();
        if first {
            leg.remote_tag = m.header("To").and_then(tag_of).map(str::to_owned);
            if let Some(c) = m.header("Contact") {
                leg.remote_target = uri_of(c).to_owned();
            }
            leg.route = route_set(m);
            // In-dialog requests go where the answer came from.
            leg.dest = src;
        }
        let Some((n, _)) = m.cseq() else { return };
        let ack = self.in_dialog(leg, "ACK", Some(n));
        self.send_to(&ack.to_bytes(), leg.dest);
        match leg.phase {
            Phase::Calling | Phase::Proceeding => {}
            Phase::Cancelling(why) => {
                // Answered as the CANCEL crossed it: end it.
                let bye = self.in_dialog(leg, "BYE", None);
                self.send_reliably(id, leg, &bye, false);
                leg.phase = Phase::Ended;
                if why == CancelWhy::RingTimeout {
                    events.push(MediaEvent::NoAnswer { leg: id.clone() });
                }
                return;
            }
            // A retransmitted 200: the ACK was all it needed.
            Phase::Up | Phase::Ended => return,
        }
        let remote = std::str::from_utf8(&m.body)
            .map_err(|_| "the answer's SDP is not text".to_owned())
            .and_then(|t| sdp::parse(t).map_err(|e| e.to_string()));
        let remote = match remote {
            Ok(r) if r.payload_types.contains(&0) && r.port != 0 => r,
            Ok(_) => {
                self.fail_answered(id, leg, "the far end's answer has no PCMU audio", events);
                return;
            }
            Err(e) => {
                self.fail_answered(id, leg, &format!("bad SDP answer: {e}"), events);
                return;
            }
        };
        *lock(&leg.media.remote) = Some(SocketAddr::new(remote.address, remote.port));
        *lock(&leg.media.last_heard) = Some(Instant::now());
        if self.cfg.probe.is_some() {
            *lock(&leg.media.answered_at) = Some(arrived);
        }
        leg.phase = Phase::Up;
        leg.tasks
            .push(self.spawn_watchdog(id.clone(), leg.media.clone()));
        if leg.pinned {
            leg.tasks.push(self.spawn_ticker(leg.media.clone()));
            events.push(MediaEvent::PinnedLegUp { leg: id.clone() });
        } else if let Some(s) = self.cfg.amd {
            if let Role::Lead { amd, .. } = &mut *lock(&leg.media.role) {
                *amd = Some(Amd::new(s));
            }
            leg.tasks
                .push(self.spawn_amd_deadline(id.clone(), leg.media.clone(), s));
        } else {
            events.push(MediaEvent::Answered {
                leg: id.clone(),
                by: AnsweredBy::Human,
            });
        }
    }

    fn fail_answered(
        self: &Arc<Self>,
        id: &LegId,
        leg: &mut Leg,
        why: &str,
        events: &mut Vec<MediaEvent>,
    ) {
        let bye = self.in_dialog(leg, "BYE", None);
        self.send_reliably(id, leg, &bye, false);
        leg.phase = Phase::Ended;
        events.push(if leg.pinned {
            MediaEvent::PinnedLegLost { leg: id.clone() }
        } else {
            MediaEvent::Failed {
                leg: id.clone(),
                reason: why.to_owned(),
            }
        });
    }

    fn on_refusal(
        self: &Arc<Self>,
        id: &LegId,
        leg: &mut Leg,
        m: &SipMessage,
        code: u16,
        events: &mut Vec<MediaEvent>,
        finished: &mut Option<LegId>,
    ) {
        let to = m.header("To").map(str::to_owned);
        let ack = self.same_transaction(leg, "ACK", to.as_deref());
        self.send_to(&ack.to_bytes(), leg.dest);
        let challenge = match code {
            401 => m.header("WWW-Authenticate").map(|c| ("Authorization", c)),
            407 => m
                .header("Proxy-Authenticate")
                .map(|c| ("Proxy-Authorization", c)),
            _ => None,
        };
        if let (Some((header, ch)), Some(user), Some(pass), false) = (
            challenge,
            self.cfg.username.as_deref(),
            self.cfg.password.as_deref(),
            leg.auth_tried,
        ) && matches!(leg.phase, Phase::Calling | Phase::Proceeding)
        {
            match digest::parse_challenge(ch) {
                Ok(ch) => {
                    leg.auth_tried = true;
                    leg.cseq += 1;
                    let auth = digest::authorization(
                        &ch,
                        user,
                        pass,
                        "INVITE",
                        &leg.request_uri,
                        &random_token(),
                        1,
                    );
                    let mut extra = leg.extra.clone();
                    extra.push((header, auth));
                    let invite = self.build_invite(
                        &leg.request_uri,
                        &leg.from,
                        &leg.to,
                        &leg.call_id,
                        leg.cseq,
                        leg.invite.body.clone(),
                        &extra,
                        leg.dest,
                    );
                    leg.invite = invite.clone();
                    leg.phase = Phase::Calling;
                    self.send_reliably(id, leg, &invite, true);
                    return;
                }
                Err(e) => tracing::warn!(error = %e, "cannot answer the trunk's challenge"),
            }
        }
        let reason = match &m.start {
            msg::StartLine::Response { reason, .. } => reason.clone(),
            msg::StartLine::Request { .. } => String::new(),
        };
        let event = match (leg.phase, leg.pinned) {
            (Phase::Cancelling(CancelWhy::HangUp), _) | (Phase::Up | Phase::Ended, _) => None,
            (Phase::Cancelling(CancelWhy::RingTimeout), false) => {
                Some(MediaEvent::NoAnswer { leg: id.clone() })
            }
            (_, true) => Some(MediaEvent::PinnedLegLost { leg: id.clone() }),
            (_, false) => Some(match code {
                486 | 600 | 603 => MediaEvent::Busy { leg: id.clone() },
                408 | 480 | 487 => MediaEvent::NoAnswer { leg: id.clone() },
                _ => MediaEvent::Failed {
                    leg: id.clone(),
                    reason: format!("SIP {code} {reason}").trim().to_owned(),
                },
            }),
        };
        if leg.phase != Phase::Up {
            events.extend(event);
            leg.phase = Phase::Ended;
            *finished = Some(id.clone());
        }
    }

    fn on_request(self: &Arc<Self>, m: SipMessage, src: SocketAddr) {
        let Some(method) = m.method().map(str::to_owned) else {
            return;
        };
        if method == "ACK" {
            return;
        }
        let reply = |code: u16, reason: &str, tag: Option<&str>| {
            let r = SipMessage::response_to(&m, code, reason, tag);
            self.send_to(&r.to_bytes(), src);
        };
        let mut events = Vec::new();
        let mut finished = None;
        let mut transfer_done = None;
        {
            let mut st = lock(&self.state);
            let id = m.call_id().and_then(|c| st.by_call.get(c)).cloned();
            let leg = id.as_ref().and_then(|id| st.legs.get_mut(id));
            let (Some(id), Some(leg)) = (id, leg) else {
                drop(st);
                match method.as_str() {
                    "OPTIONS" => reply(200, "OK", Some(&random_token())),
                    "INVITE" => reply(480, "Temporarily Unavailable", Some(&random_token())),
                    _ => reply(481, "Call/Transaction Does Not Exist", None),
                }
                return;
            };
            let tag = leg.local_tag.clone();
            match method.as_str() {
                "BYE" => {
                    reply(200, "OK", Some(&tag));
                    if leg.phase == Phase::Up {
                        events.push(if leg.pinned {
                            MediaEvent::PinnedLegLost { leg: id.clone() }
                        } else {
                            MediaEvent::RemoteHangUp { leg: id.clone() }
                        });
                    }
                    leg.phase = Phase::Ended;
                    finished = Some(id);
                }
                "INVITE" => {
                    // A re-INVITE (hold, a new media address): take its
                    // address, answer with ours.
                    if let Ok(r) = std::str::from_utf8(&m.body)
                        .map_err(|_| ())
                        .and_then(|t| sdp::parse(t).map_err(|_| ()))
                        && r.port != 0
                        && !leg.media.latched.load(Ordering::Acquire)
                    {
                        *lock(&leg.media.remote) = Some(SocketAddr::new(r.address, r.port));
                    }
                    let sdp = sdp::offer(1, 2, self.me.ip(), leg.media.port);
                    let r = SipMessage::response_to(&m, 200, "OK", Some(&tag))
                        .with("Contact", self.contact(src))
                        .with_body("application/sdp", sdp.into_bytes());
                    self.send_to(&r.to_bytes(), src);
                }
                "NOTIFY" => {
                    reply(200, "OK", Some(&tag));
                    // The transfer's progress, as a sipfrag status line.
                    let is_refer = m
                        .header("Event")
                        .is_some_and(|e| e.trim().to_ascii_lowercase().starts_with("refer"));
                    let status = std::str::from_utf8(&m.body)
                        .ok()
                        .and_then(|b| b.trim_start().strip_prefix("SIP/2.0 "))
                        .and_then(|r| r.get(..3))
                        .and_then(|c| c.parse::<u16>().ok());
                    if let (true, true, Some(code)) = (is_refer, leg.transferring, status)
                        && code >= 200
                    {
                        transfer_done = Some((id.clone(), code < 300));
                    }
                }
                "OPTIONS" | "INFO" | "UPDATE" => reply(200, "OK", Some(&tag)),
                _ => reply(501, "Not Implemented", Some(&tag)),
            }
        }
        for e in events {
            self.emit(e);
        }
        if let Some(id) = finished {
            self.finish(&id);
        }
        if let Some((id, ok)) = transfer_done {
            self.transfer_finished(&id, ok);
        }
    }

    /// Blind transfer: REFER the lead to `to` through the trunk; the
    /// NOTIFYs say how it went (30 s without an answer: failed).
    fn transfer(self: &Arc<Self>, id: &LegId, to: &str) -> Result<(), MediaError> {
        let number = dialable(to)?;
        {
            let mut st = lock(&self.state);
            let leg = match st.legs.get_mut(id) {
                Some(l) if !l.pinned => l,
                _ => return Err(MediaError::UnknownLeg(id.clone())),
            };
            if leg.phase != Phase::Up {
                return Err(MediaError::Refused(
                    "only an answered call can be transferred".into(),
                ));
            }
            if leg.transferring {
                return Err(MediaError::Refused(
                    "a transfer is already under way".into(),
                ));
            }
            leg.transferring = true;
            let refer = self
                .in_dialog(leg, "REFER", None)
                .with("Contact", self.contact(leg.dest))
                .with("Refer-To", format!("<sip:{number}@{}>", self.trunk_host))
                .with("Referred-By", self.contact(leg.dest));
            self.send_reliably(id, leg, &refer, false);
            let leg_id = id.clone();
            leg.tasks
                .push(self.after(Duration::from_secs(30), move |inner| {
                    inner.transfer_finished(&leg_id, false)
                }));
        }
        Ok(())
    }

    fn transfer_finished(self: &Arc<Self>, id: &LegId, ok: bool) {
        let pending = lock(&self.state)
            .legs
            .get_mut(id)
            .is_some_and(|l| std::mem::take(&mut l.transferring));
        if !pending {
            return;
        }
        self.emit(MediaEvent::TransferDone {
            leg: id.clone(),
            ok,
        });
        if ok {
            // The lead went on to the new number: our side of it is over.
            self.hang_up(id);
        }
    }

    fn ring_timed_out(self: &Arc<Self>, id: &LegId) {
        let mut st = lock(&self.state);
        if let Some(leg) = st.legs.get_mut(id)
            && matches!(leg.phase, Phase::Calling | Phase::Proceeding)
        {
            self.cancel(id, leg, CancelWhy::RingTimeout);
        }
    }

    fn cancel(self: &Arc<Self>, id: &LegId, leg: &mut Leg, why: CancelWhy) {
        let cancel = self.same_transaction(leg, "CANCEL", None);
        self.send_reliably(id, leg, &cancel, false);
        leg.phase = Phase::Cancelling(why);
        // If the INVITE's final answer never comes, the leg ends anyway.
        let id = id.clone();
        leg.tasks
            .push(self.after(CANCEL_GRACE, move |inner| inner.cancel_unanswered(&id)));
    }

    fn cancel_unanswered(self: &Arc<Self>, id: &LegId) {
        let phase = lock(&self.state).legs.get(id).map(|l| (l.phase, l.pinned));
        if let Some((Phase::Cancelling(why), pinned)) = phase {
            if why == CancelWhy::RingTimeout {
                self.emit(if pinned {
                    MediaEvent::PinnedLegLost { leg: id.clone() }
                } else {
                    MediaEvent::NoAnswer { leg: id.clone() }
                });
            }
            self.finish(id);
        }
    }

    fn transaction_timed_out(self: &Arc<Self>, id: &LegId, method: &str) {
        let phase = lock(&self.state).legs.get(id).map(|l| (l.phase, l.pinned));
        let Some((phase, pinned)) = phase else { return };
        if method == "INVITE" && phase == Phase::Calling {
            self.emit(if pinned {
                MediaEvent::PinnedLegLost { leg: id.clone() }
            } else {
                MediaEvent::Failed {
                    leg: id.clone(),
                    reason: "no answer from the trunk to the INVITE (timer B)".into(),
                }
            });
            self.finish(id);
        } else if method == "BYE" {
            self.finish(id);
        }
    }

    /// The leg is over: its tasks stop, its port goes back, a pinned leg
    /// it was bridged with goes idle.
    fn finish(self: &Arc<Self>, id: &LegId) {
        let leg = {
            let mut st = lock(&self.state);
            let leg = st.legs.remove(id);
            if let Some(l) = &leg {
                st.by_call.remove(&l.call_id);
            }
            leg
        };
        let Some(leg) = leg else { return };
        for t in &leg.tasks {
            t.abort();
        }
        let left = detach(&leg.media);
        lock(&self.ports).give_back(leg.media.port);
        self.left_room(left);
    }

    /// End a leg from this side (the engine's hang-up).
    fn hang_up(self: &Arc<Self>, id: &LegId) {
        if self.end_browser(id) {
            return;
        }
        let mut finish_now = false;
        let mut left = None;
        {
            let mut st = lock(&self.state);
            let Some(leg) = st.legs.get_mut(id) else {
                return;
            };
            match leg.phase {
                Phase::Calling | Phase::Proceeding => self.cancel(id, leg, CancelWhy::HangUp),
                Phase::Up if leg.playing => leg.hang_up_after_prompt = true,
                Phase::Up => {
                    let bye = self.in_dialog(leg, "BYE", None);
                    self.send_reliably(id, leg, &bye, false);
                    leg.phase = Phase::Ended;
                    // The BYE's answer (or timer F) finishes the leg; its
                    // media stops now.
                    left = detach(&leg.media);
                }
                Phase::Cancelling(_) => {
                    if let Phase::Cancelling(w) = &mut leg.phase {
                        *w = CancelWhy::HangUp;
                    }
                }
                Phase::Ended => finish_now = true,
            }
        }
        if finish_now {
            self.finish(id);
        }
        self.left_room(left);
    }

    fn spawn_rtp_reader(self: &Arc<Self>, media: Arc<LegMedia>) -> AbortHandle {
        let weak = Arc::downgrade(self);
        self.rt
            .spawn(async move {
                let mut buf = vec![0u8; 2048];
                loop {
                    let Ok((n, src)) = media.sock.recv_from(&mut buf).await else {
                        continue;
                    };
                    let Ok(p) = RtpPacket::parse(&buf[..n]) else {
                        continue;
                    };
                    // Symmetric RTP: answer to where the far end sends from.
                    if !media.latched.swap(true, Ordering::AcqRel) {
                        *lock(&media.remote) = Some(src);
                    }
                    *lock(&media.last_heard) = Some(Instant::now());
                    let Some(inner) = weak.upgrade() else { return };
                    inner.on_rtp(&media, &p);
                }
            })
            .abort_handle()
    }

    fn on_rtp(&self, media: &Arc<LegMedia>, p: &RtpPacket) {
        let mut role = lock(&media.role);
        match &mut *role {
            Role::Lead { pinned, amd, room } => {
                if let Some(a) = amd
                    && let Some(d) = a.push_ulaw(&p.payload)
                {
                    *amd = None;
                    self.emit(MediaEvent::Answered {
                        leg: media.leg.clone(),
                        by: match d.verdict {
                            AmdVerdict::Human => AnsweredBy::Human,
                            AmdVerdict::Machine => AnsweredBy::Machine,
                        },
                    });
                }
                if let Some(room) = room {
                    room.heard(&media.leg, &p.payload);
                    return;
                }
                let Some(agent) = pinned.clone() else { return };
                drop(role);
                let mut agent_role = lock(&agent.role);
                if let Role::Pinned { path, .. } = &mut *agent_role {
                    let s = path.from_lead(p);
                    drop(agent_role);
                    deliver(self.cfg.probe.as_deref(), &agent, Some(media), s);
                }
            }
            Role::Pinned { path, lead, room } => {
                let s = path.from_agent(p);
                if let Some(room) = room {
                    for out in &s.to_lead {
                        room.heard(&media.leg, &out.payload);
                    }
                    return;
                }
                let lead = lead.clone();
                drop(role);
                deliver(self.cfg.probe.as_deref(), media, lead.as_deref(), s);
            }
        }
    }

    /// Every 20 ms on a pinned leg: silence or tone to the agent, silence
    /// to a lead that is held or muted against.
    fn spawn_ticker(&self, media: Arc<LegMedia>) -> AbortHandle {
        let probe = self.cfg.probe.clone();
        self.rt
            .spawn(async move {
                let mut tick = tokio::time::interval(Duration::from_millis(20));
                loop {
                    tokio::select! {
                        _ = tick.tick() => {}
                        () = media.wake.notified() => tick.reset(),
                    }
                    let mut role = lock(&media.role);
                    if let Role::Pinned { path, lead, .. } = &mut *role {
                        let s = path.tick();
                        let lead = lead.clone();
                        drop(role);
                        deliver(probe.as_deref(), &media, lead.as_deref(), s);
                    }
                }
            })
            .abort_handle()
    }

    /// An answered leg that goes quiet for the RTP timeout is over.
    fn spawn_watchdog(self: &Arc<Self>, id: LegId, media: Arc<LegMedia>) -> AbortHandle {
        let weak = Arc::downgrade(self);
        let limit = self.cfg.rtp_timeout;
        self.rt
            .spawn(async move {
                loop {
                    tokio::time::sleep(Duration::from_millis(500)).await;
                    let quiet = lock(&media.last_heard).is_some_and(|t| t.elapsed() >= limit);
                    if quiet {
                        let Some(inner) = weak.upgrade() else { return };
                        let pinned = matches!(*lock(&media.role), Role::Pinned { .. });
                        tracing::warn!(leg = %id, "no RTP for {limit:?}: ending the leg");
                        inner.emit(if pinned {
                            MediaEvent::PinnedLegLost { leg: id.clone() }
                        } else {
                            MediaEvent::RemoteHangUp { leg: id.clone() }
                        });
                        inner.hang_up(&id);
                        return;
                    }
                }
            })
            .abort_handle()
    }

    /// AMD must decide within its limit even if no audio comes: silence
    /// all along is a person who has not spoken yet (see `amd`).
    fn spawn_amd_deadline(
        self: &Arc<Self>,
        id: LegId,
        media: Arc<LegMedia>,
        s: AmdSettings,
    ) -> AbortHandle {
        let weak = Arc::downgrade(self);
        self.rt
            .spawn(async move {
                tokio::time::sleep(Duration::from_millis(s.decide_within_ms.into())).await;
                let undecided = match &mut *lock(&media.role) {
                    Role::Lead { amd, .. } => amd.take().is_some(),
                    Role::Pinned { .. } => false,
                };
                if undecided && let Some(inner) = weak.upgrade() {
                    inner.emit(MediaEvent::Answered {
                        leg: id,
                        by: AnsweredBy::Human,
                    });
                }
            })
            .abort_handle()
    }

    /// Speak `text` to a lead leg (off any agent), then `PromptDone`.
    fn play(
        self: &Arc<Self>,
        id: &LegId,
        text: &str,
        then_hang_up: bool,
    ) -> Result<(), MediaError> {
        let lead = {
            let mut st = lock(&self.state);
            let leg = match st.legs.get_mut(id) {
                Some(l) if !l.pinned => l,
                _ => return Err(MediaError::UnknownLeg(id.clone())),
            };
            if leg.phase != Phase::Up {
                return Err(MediaError::Refused("a prompt needs an answered leg".into()));
            }
            leg.playing = true;
            leg.hang_up_after_prompt |= then_hang_up;
            leg.media.clone()
        };
        detach(&lead);
        let weak = Arc::downgrade(self);
        let (text, leg) = (text.to_owned(), id.clone());
        let task = self.rt.spawn(async move {
            let spoken = tokio::task::spawn_blocking(move || prompt::speak(&text)).await;
            match spoken {
                Ok(Ok(audio)) => {
                    let mut out =
                        super::rtp::Outbound::new(rand::random(), rand::random(), rand::random());
                    let mut tick = tokio::time::interval(Duration::from_millis(20));
                    for chunk in audio.chunks(160) {
                        tick.tick().await;
                        let mut payload = chunk.to_vec();
                        payload.resize(160, 0xff);
                        lead.send(&[out.own(payload)]);
                    }
                }
                Ok(Err(e)) => {
                    tracing::error!(leg = %leg, error = %e, "the prompt could not be spoken")
                }
                Err(e) => tracing::error!(leg = %leg, error = %e, "the prompt task failed"),
            }
            if let Some(inner) = weak.upgrade() {
                inner.prompt_done(&leg);
            }
        });
        if let Some(l) = lock(&self.state).legs.get_mut(id) {
            l.tasks.push(task.abort_handle());
        }
        Ok(())
    }

    fn prompt_done(self: &Arc<Self>, id: &LegId) {
        let hang_up = match lock(&self.state).legs.get_mut(id) {
            Some(l) => {
                l.playing = false;
                std::mem::take(&mut l.hang_up_after_prompt)
            }
            None => return,
        };
        self.emit(MediaEvent::PromptDone { leg: id.clone() });
        if hang_up {
            self.hang_up(id);
        }
    }

    fn every_leg(&self) -> Vec<LegId> {
        let st = lock(&self.state);
        st.legs.keys().chain(st.browsers.keys()).cloned().collect()
    }

    fn media_of(&self, id: &LegId, pinned: bool) -> Result<(Arc<LegMedia>, Phase), MediaError> {
        let st = lock(&self.state);
        if let Some(b) = st.browsers.get(id).filter(|_| pinned) {
            let phase = if b.connected {
                Phase::Up
            } else {
                Phase::Calling
            };
            return Ok((b.media.clone(), phase));
        }
        match st.legs.get(id) {
            Some(l) if l.pinned == pinned => Ok((l.media.clone(), l.phase)),
            _ => Err(MediaError::UnknownLeg(id.clone())),
        }
    }
}

/// Undo a bridge from either side: the pinned leg goes idle. A leg in a
/// room leaves it (the others carry on): that room is returned.
fn detach(media: &Arc<LegMedia>) -> Option<Arc<Room>> {
    let (other, room) = match &mut *lock(&media.role) {
        Role::Lead { pinned, amd, room } => {
            *amd = None;
            (pinned.take(), room.take())
        }
        Role::Pinned { path, lead, room } => {
            path.hang_up();
            (lead.take(), room.take())
        }
    };
    if let Some(room) = &room {
        room.remove(&media.leg);
    }
    if let Some(o) = other {
        match &mut *lock(&o.role) {
            Role::Lead { pinned, .. } => *pinned = None,
            Role::Pinned { path, lead, .. } => {
                path.hang_up();
                *lead = None;
            }
        }
    }
    room
}

impl Inner {
    /// A party hung up or was hung up: if one outside party is left alone
    /// in the room (no agent, nobody else), their call is over too; if
    /// only agents are left, their legs go back to idle.
    fn left_room(self: &Arc<Self>, room: Option<Arc<Room>>) {
        let Some(r) = room else { return };
        if let Some(alone) = r.alone() {
            tracing::info!(leg = %alone, "alone in the conference: ending the leg");
            self.emit(MediaEvent::RemoteHangUp { leg: alone.clone() });
            self.hang_up(&alone);
        } else if r.only_agents() {
            // Every outside party is gone: the agents' legs go idle.
            for agent in r.pinned_members() {
                detach(&agent);
            }
        }
    }

    /// The lead's room, made on first need from its two-party call (the
    /// agent bridged to it, if any, comes in with it).
    fn room_of(&self, lead: &Arc<LegMedia>) -> Arc<Room> {
        let agent = {
            let mut role = lock(&lead.role);
            let Role::Lead { pinned, room, amd } = &mut *role else {
                return Room::new();
            };
            if let Some(r) = room {
                return r.clone();
            }
            *amd = None;
            let r = Room::new();
            *room = Some(r.clone());
            r.add(lead.clone(), false);
            (pinned.take(), r)
        };
        let (agent, r) = agent;
        if let Some(a) = agent {
            let mut held = false;
            if let Role::Pinned { lead, room, path } = &mut *lock(&a.role) {
                *lead = None;
                *room = Some(r.clone());
                // A two-party hold lived in the agent's path (the agent's
                // microphone dropped); in a room it is the lead's, and the
                // agent talks to the others.
                if let PathState::Bridged { held: true, .. } = path.state() {
                    path.set_held(false);
                    held = true;
                }
            }
            r.add(a, true);
            r.set_held(&lead.leg, held);
        }
        r.start(&self.rt);
        tracing::info!(leg = %lead.leg, "the call is a conference now: its audio is mixed");
        r
    }

    /// Put an answered outside leg in `lead`'s room.
    fn join_room(&self, lead: &Arc<LegMedia>, other: &Arc<LegMedia>) {
        let r = self.room_of(lead);
        detach(other);
        if let Role::Lead { room, amd, .. } = &mut *lock(&other.role) {
            *amd = None;
            *room = Some(r.clone());
        }
        r.add(other.clone(), false);
    }
}

impl MediaProvider for SipProvider {
    fn name(&self) -> &'static str {
        "sip"
    }

    fn agent_known(&self, agent_id: &str, login: &str) {
        lock(&self.inner.logins).insert(agent_id.to_owned(), login.to_owned());
    }

    fn pinned_leg_kind(&self, pinned: &LegId) -> PinnedLegKind {
        if lock(&self.inner.state).browsers.contains_key(pinned) {
            PinnedLegKind::Browser
        } else {
            PinnedLegKind::SipPhone
        }
    }

    fn browser_offer(&self, pinned: &LegId, sdp: &str) -> Result<String, MediaError> {
        self.inner.browser_offer(pinned, sdp)
    }

    fn create_pinned_leg(&self, agent_id: &str) -> Result<LegId, MediaError> {
        let i = &self.inner;
        let login = lock(&i.logins).get(agent_id).cloned();
        let Some(uri) = i.cfg.agent_phone(agent_id, login.as_deref()) else {
            // No phone: the agent's page opens the leg over WebRTC.
            return i.browser_leg(login.as_deref().unwrap_or(agent_id));
        };
        let (host, port) =
            host_port(&uri).ok_or_else(|| MediaError::Refused(format!("not a sip: URI: {uri}")))?;
        let dest = match host.parse::<IpAddr>() {
            Ok(ip) => SocketAddr::new(ip, port),
            Err(_) => *i.phones.get(&(host.clone(), port)).ok_or_else(|| {
                MediaError::Refused(format!(
                    "{host} was not resolved at start: a phone template with the agent in its host needs IP addresses"
                ))
            })?,
        };
        i.place(Place {
            pinned: true,
            asserted: None,
            to: format!("<{uri}>"),
            request_uri: uri,
            from_user: "pinline".into(),
            dest,
            ring: PINNED_RING,
        })
    }

    fn originate(&self, req: &Originate) -> Result<LegId, MediaError> {
        let i = &self.inner;
        let number = dialable(&req.to)?;
        // The demo's fictional numbers never go to a real trunk, as the
        // number called nor as the number shown.
        for (what, n) in [("number", &req.to), ("caller ID", &req.caller_id)] {
            if crate::domain::phone::is_fictional(n) {
                return Err(MediaError::Refused(format!(
                    "the {what} {n} {}",
                    crate::domain::phone::Refused::Fictional.describe()
                )));
            }
        }
        let ring = match req.purpose {
            LegPurpose::Lead => req.ring_timeout.max(MIN_LEAD_RING),
            _ => req.ring_timeout,
        };
        let uri = if i.tcp.is_some() {
            format!("sip:{number}@{};transport=tcp", i.trunk_host)
        } else {
            format!("sip:{number}@{}", i.trunk_host)
        };
        let caller: String = req
            .caller_id
            .chars()
            .filter(|c| c.is_ascii_digit() || *c == '+')
            .collect();
        let asserted = (!caller.is_empty()).then(|| format!("<sip:{caller}@{}>", i.trunk_host));
        i.place(Place {
            pinned: false,
            asserted,
            to: format!("<{uri}>"),
            request_uri: uri,
            from_user: if caller.is_empty() {
                "anonymous".into()
            } else {
                caller
            },
            dest: i.trunk,
            ring,
        })
    }

    fn bridge(&self, leg: &LegId, pinned: &LegId) -> Result<(), MediaError> {
        let i = &self.inner;
        let (lead, lead_phase) = i.media_of(leg, false)?;
        let (agent, agent_phase) = i.media_of(pinned, true)?;
        if lead_phase != Phase::Up || agent_phase != Phase::Up {
            return Err(MediaError::Refused(
                "both legs must be answered to bridge".into(),
            ));
        }
        let busy = match &*lock(&lead.role) {
            Role::Lead { pinned, room, .. } => {
                room.is_some() || pinned.as_ref().is_some_and(|p| p.leg != agent.leg)
            }
            Role::Pinned { .. } => false,
        };
        if busy {
            // A second agent on the call (warm transfer, conference): the
            // call becomes a room.
            let r = i.room_of(&lead);
            detach(&agent);
            if let Role::Pinned { path, room, .. } = &mut *lock(&agent.role) {
                path.bridge();
                *room = Some(r.clone());
            }
            r.add(agent.clone(), true);
        } else {
            detach(&lead);
            detach(&agent);
            if let Role::Lead { pinned: p, .. } = &mut *lock(&lead.role) {
                *p = Some(agent.clone());
            }
            if let Some(at) = *lock(&lead.answered_at) {
                *lock(&agent.probing) = Some((at, false));
            }
            if let Role::Pinned { path, lead: l, .. } = &mut *lock(&agent.role) {
                path.bridge();
                *l = Some(lead.clone());
            }
        }
        agent.wake.notify_one();
        i.emit(MediaEvent::Bridged {
            leg: leg.clone(),
            pinned: pinned.clone(),
        });
        i.sink.emit(
            TONE,
            MediaEvent::TonePlayed {
                leg: pinned.clone(),
            },
        );
        Ok(())
    }

    fn unbridge(&self, leg: &LegId) -> Result<(), MediaError> {
        let (lead, _) = self.inner.media_of(leg, false)?;
        let room = match &*lock(&lead.role) {
            Role::Lead { room, .. } => room.clone(),
            Role::Pinned { .. } => None,
        };
        match room {
            // The agents leave; the outside parties stay together.
            Some(r) => {
                for agent in r.pinned_members() {
                    detach(&agent);
                }
            }
            None => {
                detach(&lead);
            }
        }
        Ok(())
    }

    fn leave(&self, pinned: &LegId) -> Result<(), MediaError> {
        let (agent, _) = self.inner.media_of(pinned, true)?;
        detach(&agent);
        Ok(())
    }

    fn mute(&self, pinned: &LegId, muted: bool) -> Result<(), MediaError> {
        let (agent, _) = self.inner.media_of(pinned, true)?;
        if let Role::Pinned { path, .. } = &mut *lock(&agent.role) {
            path.set_muted(muted);
        }
        Ok(())
    }

    fn hold(&self, leg: &LegId, on_hold: bool) -> Result<(), MediaError> {
        let (lead, _) = self.inner.media_of(leg, false)?;
        let (agent, room) = match &*lock(&lead.role) {
            Role::Lead { pinned, room, .. } => (pinned.clone(), room.clone()),
            Role::Pinned { .. } => (None, None),
        };
        if let Some(r) = room {
            // The lead hears silence; the others go on talking (a warm
            // transfer's consultation).
            r.set_held(leg, on_hold);
            return Ok(());
        }
        if let Some(agent) = agent
            && let Role::Pinned { path, .. } = &mut *lock(&agent.role)
        {
            path.set_held(on_hold);
        }
        Ok(())
    }

    fn transfer(&self, leg: &LegId, to: &str) -> Result<(), MediaError> {
        self.inner.transfer(leg, to)
    }

    fn join(&self, leg: &LegId, other: &LegId) -> Result<(), MediaError> {
        let i = &self.inner;
        let (lead, lead_phase) = i.media_of(leg, false)?;
        let (other, other_phase) = i.media_of(other, false)?;
        if lead_phase != Phase::Up || other_phase != Phase::Up {
            return Err(MediaError::Refused(
                "both legs must be answered to join them".into(),
            ));
        }
        i.join_room(&lead, &other);
        Ok(())
    }

    fn play(&self, leg: &LegId, prompt: &str, then_hang_up: bool) -> Result<(), MediaError> {
        self.inner.play(leg, prompt, then_hang_up)
    }

    fn hang_up(&self, leg: &LegId) {
        self.inner.hang_up(leg);
    }

    fn tear_down(&self, pinned: &LegId) {
        self.inner.hang_up(pinned);
    }

    fn shut_down(&self) {
        let legs = self.inner.every_leg();
        tracing::info!(legs = legs.len(), "ending every call leg");
        for leg in legs {
            self.inner.hang_up(&leg);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_port_pool_hands_out_even_ports_round_robin_and_runs_out() {
        let mut p = PortPool {
            next: 20000,
            lo: 20000,
            hi: 20005,
            used: Default::default(),
        };
        assert_eq!(
            (p.take(), p.take(), p.take()),
            (Some(20000), Some(20002), Some(20004))
        );
        assert_eq!(p.take(), None);
        p.give_back(20002);
        // A port just given back is next only when its turn comes.
        assert_eq!(p.take(), Some(20002));
        assert_eq!(p.take(), None);
    }

    #[test]
    fn an_agent_s_phone_is_found_by_id_then_login_then_the_template() {
        let mut c = SipConfig::new("127.0.0.1:0".parse().unwrap(), "trunk.example");
        c.agent_phones
            .insert("ana@acme.test".into(), "sip:ana@10.0.0.7".into());
        c.agent_phones
            .insert("u-2".into(), "sip:desk2@10.0.0.8".into());
        assert_eq!(
            c.agent_phone("u-1", Some("ana@acme.test")).as_deref(),
            Some("sip:ana@10.0.0.7")
        );
        assert_eq!(
            c.agent_phone("u-2", Some("bo@acme.test")).as_deref(),
            Some("sip:desk2@10.0.0.8")
        );
        assert_eq!(c.agent_phone("u-3", Some("cy@acme.test")), None);
        c.agent_phones
            .insert("*".into(), "sip:{login}@pbx.acme.test;agent={agent}".into());
        assert_eq!(
            c.agent_phone("u-3", Some("cy@acme.test")).as_deref(),
            Some("sip:cy@pbx.acme.test;agent=u-3")
        );
    }

    #[tokio::test]
    async fn a_bad_configuration_fails_the_start_with_its_reason() {
        let mut c = SipConfig::new("127.0.0.1:0".parse().unwrap(), "127.0.0.1:5060");
        c.rtp_ports = (20001, 20001);
        assert!(matches!(
            SipProvider::bind(c).await,
            Err(SipStartError::Ports(20001, 20001))
        ));
        let c = SipConfig::new("127.0.0.1:0".parse().unwrap(), "not a host:port:x");
        assert!(matches!(
            SipProvider::bind(c).await,
            Err(SipStartError::Trunk(_))
        ));
        let c = SipConfig::new("0.0.0.0:0".parse().unwrap(), "127.0.0.1");
        assert!(matches!(
            SipProvider::bind(c).await,
            Err(SipStartError::NoAddress(_))
        ));
        let mut c = SipConfig::new("127.0.0.1:0".parse().unwrap(), "127.0.0.1");
        c.agent_phones
            .insert("a@x.test".into(), "sip:a@no-such-host.invalid".into());
        assert!(matches!(
            SipProvider::bind(c).await,
            Err(SipStartError::AgentPhone(_))
        ));
        // A host name is looked up at start (for this IPv4 socket: IPv4).
        let mut c = SipConfig::new("127.0.0.1:0".parse().unwrap(), "127.0.0.1");
        c.agent_phones
            .insert("a@x.test".into(), "sip:a@localhost:5070".into());
        let bound = SipProvider::bind(c).await.expect("binds");
        assert_eq!(
            bound.phones.get(&("localhost".to_owned(), 5070)),
            Some(&"127.0.0.1:5070".parse().unwrap())
        );
        let taken = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        let c = SipConfig::new(taken.local_addr().unwrap(), "127.0.0.1");
        assert!(matches!(
            SipProvider::bind(c).await,
            Err(SipStartError::Bind { .. })
        ));
    }
}
