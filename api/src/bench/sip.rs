//! `pinline bench sip`: the `sip` provider bridging N concurrent calls on
//! loopback, against two sipp farms (needs `sipp` on PATH: `./dev setup`).
//!
//! - The lead farm (sipp UAS behind the "trunk") answers each INVITE at once
//!   and streams a 440-Hz PCMU file from its own RTP port until the BYE.
//! - The agent farm (sipp UAS) answers each pinned leg; its SDP points the
//!   agent's audio at one socket of this process, which also sends each
//!   agent's microphone (a 1,200-Hz tone) back toward the server.
//!
//! The bench plays the engine: it raises N pinned legs, dials N leads and
//! bridges each answered lead to a free pinned leg at once. It reports,
//! from the provider's probe, the time from each lead's 200 OK arriving to
//! the first packet toward the agent (the connect tone) and to the first
//! packet of the lead's own audio (after the tone); and, at the agents'
//! socket, every stream's packets lost (sequence gaps), packets arriving
//! over 40 ms after the previous one, and how many of the lead's packets
//! got through.

use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::net::UdpSocket;
use tokio::sync::mpsc;

use super::{Percentiles, percentiles};
use crate::media::rtp::RtpPacket;
use crate::media::sip::{SipConfig, SipProbe, SipProvider};
use crate::media::{LegId, LegPurpose, MediaEvent, MediaProvider, MediaSink, Originate, g711};

type BenchResult<T> = Result<T, Box<dyn std::error::Error + Send + Sync>>;

pub struct SipBench {
    pub calls: usize,
    pub seconds: u64,
}

#[derive(Debug)]
pub struct SipBenchReport {
    pub calls: usize,
    pub bridged: usize,
    pub first_agent_packet: Option<Percentiles>,
    pub first_lead_audio: Option<Percentiles>,
    /// Toward the agents, over the whole run (silence, tones, leads).
    pub packets: u64,
    pub lost: u64,
    pub late: u64,
    /// Lead packets that reached an agent while bridged.
    pub lead_packets: u64,
    /// What the lead farm should have sent over the bridged seconds.
    pub lead_packets_expected: u64,
}

struct Sink(mpsc::UnboundedSender<MediaEvent>);

impl MediaSink for Sink {
    fn emit(&self, _after: Duration, event: MediaEvent) {
        let _ = self.0.send(event);
    }
}

const HEAD: &str = "[last_Via:]\n[last_From:]\n[last_To:];tag=[pid]SIPpTag01[call_number]\n[last_Call-ID:]\n[last_CSeq:]";

/// A UAS that answers at once with `media` (`ip port`) in its SDP, runs
/// `after_ack`, and waits for the BYE.
fn farm_scenario(media: &str, after_ack: &str) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"ISO-8859-1\" ?>\n<scenario name=\"farm\">\n\
  <recv request=\"INVITE\"/>\n\
  <send><![CDATA[\nSIP/2.0 100 Trying\n{HEAD}\nContent-Length: 0\n\n]]></send>\n\
  <send retrans=\"500\"><![CDATA[\nSIP/2.0 200 OK\n{HEAD}\nContact: <sip:farm@[local_ip]:[local_port]>\n\
Content-Type: application/sdp\nContent-Length: [len]\n\nv=0\no=farm 1 1 IN IP4 127.0.0.1\ns=-\n\
c=IN IP4 {ip}\nt=0 0\nm=audio {port} RTP/AVP 0\na=rtpmap:0 PCMU/8000\n]]></send>\n\
  <recv request=\"ACK\"/>\n{after_ack}\
  <recv request=\"BYE\"/>\n\
  <send><![CDATA[\nSIP/2.0 200 OK\n{HEAD}\nContent-Length: 0\n\n]]></send>\n</scenario>\n",
        ip = media.split(' ').next().unwrap_or("127.0.0.1"),
        port = media.split(' ').nth(1).unwrap_or("[media_port]"),
    )
}

fn free_port() -> BenchResult<u16> {
    Ok(std::net::UdpSocket::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

fn sipp(
    dir: &std::path::Path,
    scenario: &str,
    calls: usize,
) -> BenchResult<(tokio::process::Child, SocketAddr)> {
    let name = format!("farm-{}.xml", free_port()?);
    std::fs::write(dir.join(&name), scenario)?;
    let port = free_port()?;
    let child = tokio::process::Command::new("sipp")
        .current_dir(dir)
        .args(["-sf", &name, "-i", "127.0.0.1", "-p", &port.to_string()])
        .args(["-mp", &(free_port()? & !1).to_string()])
        .args(["-m", &calls.to_string(), "-l", &calls.to_string()])
        .args(["-nostdin", "-timeout", "600s", "-trace_err", "-trace_msg"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| format!("sipp could not start ({e}): `./dev setup` installs it"))?;
    Ok((child, SocketAddr::from(([127, 0, 0, 1], port))))
}

#[derive(Default)]
struct Stream {
    last_seq: Option<u16>,
    /// The sequence number extended past wraps, from 0 at the first; the
    /// highest seen.
    ext: i64,
    max_ext: i64,
    count: u64,
    late: u64,
    at: Option<Instant>,
    lead: u64,
}

pub async fn run(b: &SipBench, progress: impl Fn(&str)) -> BenchResult<SipBenchReport> {
    let dir = std::env::temp_dir().join(format!("pinline-bench-sip-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let lead_audio = g711::sine(440.0, 1000);
    std::fs::write(dir.join("lead.ulaw"), &lead_audio)?;
    let lead_chunks: HashSet<Vec<u8>> = lead_audio.chunks(160).map(<[u8]>::to_vec).collect();

    // The agents' side: one socket hears every agent's stream.
    let agents_sock = Arc::new(UdpSocket::bind("127.0.0.1:0").await?);
    let agents_port = agents_sock.local_addr()?.port();
    let streams: Arc<Mutex<HashMap<u32, Stream>>> = Arc::default();
    let (sock, st) = (agents_sock.clone(), streams.clone());
    let reader = tokio::spawn(async move {
        let mut buf = [0u8; 2048];
        while let Ok((n, _)) = sock.recv_from(&mut buf).await {
            let Ok(p) = RtpPacket::parse(&buf[..n]) else {
                continue;
            };
            let now = Instant::now();
            let mut all = st.lock().unwrap_or_else(|e| e.into_inner());
            let s = all.entry(p.ssrc).or_default();
            if let Some(prev) = s.last_seq {
                s.ext += i64::from(p.sequence.wrapping_sub(prev) as i16);
                s.max_ext = s.max_ext.max(s.ext);
            }
            s.last_seq = Some(p.sequence);
            s.count += 1;
            if s.at.is_some_and(|t| now - t > Duration::from_millis(40)) {
                s.late += 1;
            }
            s.at = Some(now);
            if lead_chunks.contains(&p.payload) {
                s.lead += 1;
            }
        }
    });

    let (mut lead_farm, trunk) = sipp(
        &dir,
        &farm_scenario(
            "[media_ip] [media_port]",
            "  <nop><action><exec rtp_stream=\"lead.ulaw,-1,0\"/></action></nop>\n",
        ),
        b.calls,
    )?;
    let (mut agent_farm, phones) = sipp(
        &dir,
        &farm_scenario(&format!("127.0.0.1 {agents_port}"), ""),
        b.calls,
    )?;
    tokio::time::sleep(Duration::from_millis(500)).await;

    let probe = Arc::new(SipProbe::default());
    let mut cfg = SipConfig::new("127.0.0.1:0".parse()?, &trunk.to_string());
    cfg.rtp_ports = (40000, 40000 + (4 * b.calls as u16).max(100));
    cfg.agent_phones
        .insert("*".into(), format!("sip:{{agent}}@{phones}"));
    cfg.probe = Some(probe.clone());
    cfg.rtp_timeout = Duration::from_secs(600);
    let (tx, mut events) = mpsc::unbounded_channel();
    let sip = Arc::new(SipProvider::start(cfg, Arc::new(Sink(tx))).await?);

    progress(&format!("raising {} pinned legs", b.calls));
    let mut pinned = Vec::new();
    for i in 0..b.calls {
        pinned.push(sip.create_pinned_leg(&format!("agent{i}"))?);
        // Agents sign in over seconds, not in one instant.
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let mut up = 0;
    let deadline = Instant::now() + Duration::from_secs(30);
    while up < b.calls {
        match tokio::time::timeout_at(deadline.into(), events.recv()).await {
            Ok(Some(MediaEvent::PinnedLegUp { .. })) => up += 1,
            Ok(Some(e)) => return Err(format!("unexpected {e:?}").into()),
            _ => {
                return Err(format!(
                    "only {up} of {} pinned legs came up (sipp's logs: {})",
                    b.calls,
                    dir.display()
                )
                .into());
            }
        }
    }
    // Each agent speaks (1,200 Hz) from the agents' socket.
    let targets: Vec<SocketAddr> = pinned.iter().filter_map(|p| sip.rtp_addr(p)).collect();
    let mic = g711::sine(1200.0, 1000);
    let sock = agents_sock.clone();
    let speaker = tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_millis(20));
        let mut n: u32 = 0;
        loop {
            tick.tick().await;
            let i = (n as usize % 50) * 160;
            for (k, to) in targets.iter().enumerate() {
                let p = RtpPacket {
                    marker: false,
                    payload_type: 0,
                    sequence: n as u16,
                    timestamp: n * 160,
                    ssrc: 0xa000 + k as u32,
                    payload: mic[i..i + 160].to_vec(),
                };
                let _ = sock.send_to(&p.to_bytes(), to).await;
            }
            n = n.wrapping_add(1);
        }
    });

    progress(&format!(
        "dialing {} leads, bridging each at answer",
        b.calls
    ));
    let mut free: Vec<LegId> = pinned.clone();
    // Dialing runs beside the bridging, as the engine's would.
    let dialer = {
        let (sip, calls) = (sip.clone(), b.calls);
        tokio::spawn(async move {
            let mut leads = Vec::new();
            for i in 0..calls {
                if let Ok(l) = sip.originate(&Originate {
                    to: format!("+1555{i:07}"),
                    caller_id: "+15550000000".into(),
                    ring_timeout: Duration::from_secs(30),
                    purpose: LegPurpose::Lead,
                    hints: Vec::new(),
                }) {
                    leads.push(l);
                }
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            leads
        })
    };
    let mut bridged = 0;
    let deadline = Instant::now() + Duration::from_secs(30);
    while bridged < b.calls {
        match tokio::time::timeout_at(deadline.into(), events.recv()).await {
            Ok(Some(MediaEvent::Answered { leg, .. })) => {
                if let Some(p) = free.pop() {
                    sip.bridge(&leg, &p)?;
                    bridged += 1;
                }
            }
            Ok(Some(_)) => {}
            _ => break,
        }
    }
    let leads = dialer.await?;
    let talk_started = Instant::now();
    progress(&format!("{bridged} calls bridged; talking {} s", b.seconds));
    tokio::time::sleep(Duration::from_secs(b.seconds)).await;
    let talked = talk_started.elapsed();
    for l in &leads {
        sip.hang_up(l);
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    for p in &pinned {
        sip.tear_down(p);
    }
    speaker.abort();
    let _ = tokio::time::timeout(Duration::from_secs(10), lead_farm.wait()).await;
    let _ = tokio::time::timeout(Duration::from_secs(10), agent_farm.wait()).await;
    reader.abort();
    drop(sip);
    let _ = std::fs::remove_dir_all(&dir);

    let all = streams.lock().unwrap_or_else(|e| e.into_inner());
    let mut r = SipBenchReport {
        calls: b.calls,
        bridged,
        first_agent_packet: percentiles(std::mem::take(
            &mut *probe
                .first_agent_packet
                .lock()
                .unwrap_or_else(|e| e.into_inner()),
        )),
        first_lead_audio: percentiles(std::mem::take(
            &mut *probe
                .first_lead_audio
                .lock()
                .unwrap_or_else(|e| e.into_inner()),
        )),
        packets: 0,
        lost: 0,
        late: 0,
        lead_packets: 0,
        lead_packets_expected: (bridged as f64 * talked.as_secs_f64() * 50.0) as u64,
    };
    for s in all.values() {
        let expected = (s.max_ext + 1).max(0) as u64;
        r.packets += s.count;
        r.lost += expected.saturating_sub(s.count);
        r.late += s.late;
        r.lead_packets += s.lead;
    }
    Ok(r)
}
