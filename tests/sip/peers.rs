//! The far ends: `sipp` scenarios (UAS) for leads and agent phones, and a
//! test-owned RTP endpoint that records what it hears and can speak.

use std::net::{SocketAddr, UdpSocket as StdUdp};
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use pinline::media::rtp::RtpPacket;
use tokio::net::UdpSocket;
use tokio::process::{Child, Command};

use crate::audio;

/// Whether some process has a UDP socket on `port` (read from /proc, so
/// the check never takes the port itself).
pub fn udp_port_bound(port: u16) -> bool {
    port_in(port, &["/proc/net/udp", "/proc/net/udp6"])
}

/// Whether some process has a TCP socket on `port` (listening, here).
pub fn tcp_port_bound(port: u16) -> bool {
    port_in(port, &["/proc/net/tcp", "/proc/net/tcp6"])
}

fn port_in(port: u16, tables: &[&str]) -> bool {
    let hex = format!(":{port:04X} ");
    tables.iter().any(|f| {
        std::fs::read_to_string(f)
            .unwrap_or_default()
            .lines()
            .skip(1)
            .any(|l| {
                l.split_whitespace()
                    .nth(1)
                    .is_some_and(|local| format!("{local} ").ends_with(&hex))
            })
    })
}

pub fn free_udp_port() -> u16 {
    let s = StdUdp::bind("127.0.0.1:0").expect("a free UDP port");
    s.local_addr().expect("its address").port()
}

/// How the far end answers the INVITE.
#[derive(Clone, Copy)]
pub enum Answer {
    /// 180, then 200 after this long.
    After(Duration),
    /// 180, then wait for our CANCEL (ring timeout) and say 487.
    Never,
    /// 180, take our CANCEL (200) but never say 487; 5 s later answer
    /// the INVITE with 200 after all, and expect ACK and BYE.
    Late,
    /// 100 then this final failure code (486, 503, …).
    Refuse(u16, &'static str),
    /// 401 with a digest challenge; the retried INVITE must carry valid
    /// credentials (sipp verifies them), then 200.
    Challenge {
        user: &'static str,
        password: &'static str,
    },
}

/// Whose socket carries the far end's audio.
#[derive(Clone, Copy)]
pub enum Media {
    /// sipp's own, streaming this μ-law file in a loop.
    SippStream(&'static str),
    /// A port the test owns (an [`RtpPeer`]).
    Port(u16),
}

/// After the call is up: who ends it.
#[derive(Clone, Copy)]
pub enum End {
    /// Wait for our BYE.
    OurBye,
    /// The far end hangs up after this long.
    TheirBye(Duration),
    /// A blind transfer: the far end takes our REFER to +15550100999 (202),
    /// reports this status line in a NOTIFY, then waits for our BYE.
    Referred(&'static str),
}

const HEAD: &str = "[last_Via:]\n[last_From:]\n[last_To:];tag=[pid]SIPpTag01[call_number]\n[last_Call-ID:]\n[last_CSeq:]";

fn response(code: u16, reason: &str, extra: &str) -> String {
    format!(
        "  <send><![CDATA[\nSIP/2.0 {code} {reason}\n{HEAD}\n{extra}Content-Length: 0\n\n]]></send>\n"
    )
}

pub fn uas_scenario(answer: Answer, media: Media, end: End) -> String {
    let mut x = String::from(
        "<?xml version=\"1.0\" encoding=\"ISO-8859-1\" ?>\n<scenario name=\"pinline far end\">\n",
    );
    let capture = "    <action>\n\
      <ereg regexp=\"From: ([^\\r\\n]*)\" search_in=\"msg\" check_it=\"true\" assign_to=\"d1,remote_from\"/>\n\
      <ereg regexp=\"Contact: *&lt;([^&gt;]*)&gt;\" search_in=\"msg\" check_it=\"true\" assign_to=\"d2,remote_contact\"/>\n\
      <ereg regexp=\"CSeq: *([0-9]+)\" search_in=\"msg\" check_it=\"true\" assign_to=\"d3,invite_cseq\"/>\n\
    </action>\n";
    x += &format!("  <recv request=\"INVITE\">\n{capture}  </recv>\n");
    x += &response(100, "Trying", "");
    let (media_ip, media_port) = match media {
        Media::SippStream(_) => ("[media_ip]".to_owned(), "[media_port]".to_owned()),
        Media::Port(p) => ("127.0.0.1".to_owned(), p.to_string()),
    };
    let sdp = format!(
        "v=0\no=far 1 1 IN IP4 {media_ip}\ns=-\nc=IN IP4 {media_ip}\nt=0 0\nm=audio {media_port} RTP/AVP 0 101\na=rtpmap:0 PCMU/8000\na=rtpmap:101 telephone-event/8000\n"
    );
    let ok = format!(
        "  <send retrans=\"500\"><![CDATA[\nSIP/2.0 200 OK\n{HEAD}\nContact: <sip:far@[local_ip]:[local_port]>\nRecord-Route: <sip:rr.pinline.test;lr>\nContent-Type: application/sdp\nContent-Length: [len]\n\n{sdp}]]></send>\n"
    );
    match answer {
        Answer::After(d) => {
            x += &response(180, "Ringing", "");
            x += &format!("  <pause milliseconds=\"{}\"/>\n", d.as_millis());
            x += &ok;
        }
        Answer::Never => {
            x += &response(180, "Ringing", "");
            x += "  <recv request=\"CANCEL\"/>\n";
            x += &response(200, "OK", "");
            x += "  <send><![CDATA[\nSIP/2.0 487 Request Terminated\n[last_Via:]\n[last_From:]\n[last_To:];tag=[pid]SIPpTag01[call_number]\n[last_Call-ID:]\nCSeq: [$invite_cseq] INVITE\nContent-Length: 0\n\n]]></send>\n";
            x += "  <recv request=\"ACK\"/>\n";
            x += REFERENCE;
            return x;
        }
        Answer::Late => {
            x += &response(180, "Ringing", "");
            x += "  <recv request=\"CANCEL\"/>\n";
            x += &response(200, "OK", "");
            x += "  <pause milliseconds=\"5000\"/>\n";
            x += &format!(
                "  <send><![CDATA[\nSIP/2.0 200 OK\n[last_Via:]\n[last_From:]\n[last_To:];tag=[pid]SIPpTag01[call_number]\n[last_Call-ID:]\nCSeq: [$invite_cseq] INVITE\nContact: <sip:far@[local_ip]:[local_port]>\nContent-Type: application/sdp\nContent-Length: [len]\n\n{sdp}]]></send>\n"
            );
            x += "  <recv request=\"ACK\"/>\n  <recv request=\"BYE\"/>\n";
            x += &response(200, "OK", "");
            x += REFERENCE;
            return x;
        }
        Answer::Refuse(code, reason) => {
            x += &response(code, reason, "");
            x += "  <recv request=\"ACK\"/>\n";
            x += REFERENCE;
            return x;
        }
        Answer::Challenge { user, password } => {
            x += &response(
                401,
                "Unauthorized",
                "WWW-Authenticate: Digest realm=\"pinline-test\", nonce=\"7c3f0a1b\", qop=\"auth\"\n",
            );
            x += "  <recv request=\"ACK\"/>\n";
            x += &format!(
                "  <recv request=\"INVITE\" auth=\"true\">\n    <action>\n      <verifyauth assign_to=\"ok\" username=\"{user}\" password=\"{password}\"/>\n    </action>\n  </recv>\n  <nop condexec=\"ok\" condexec_inverse=\"true\">\n    <action><error message=\"the retried INVITE's credentials are wrong\"/></action>\n  </nop>\n"
            );
            x += &ok;
        }
    }
    x += "  <recv request=\"ACK\"/>\n";
    if let Media::SippStream(file) = media {
        x += &format!("  <nop><action><exec rtp_stream=\"{file},-1,0\"/></action></nop>\n");
    }
    if let End::Referred(status) = end {
        x += "  <recv request=\"REFER\">\n    <action><ereg regexp=\"Refer-To: *&lt;sip:[+]15550100999@\" search_in=\"msg\" check_it=\"true\" assign_to=\"d5\"/></action>\n  </recv>\n  <Reference variables=\"d5\"/>\n";
        x += &response(202, "Accepted", "");
        x += "  <pause milliseconds=\"200\"/>\n";
        x += &format!(
            "  <send retrans=\"500\"><![CDATA[\nNOTIFY [$remote_contact] SIP/2.0\nVia: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]\nFrom: <sip:far@[local_ip]>;tag=[pid]SIPpTag01[call_number]\nTo: [$remote_from]\n[last_Call-ID:]\nCSeq: 2 NOTIFY\nMax-Forwards: 70\nEvent: refer\nSubscription-State: terminated;reason=noresource\nContent-Type: message/sipfrag;version=2.0\nContent-Length: [len]\n\n{status}\n]]></send>\n  <recv response=\"200\"/>\n"
        );
    }
    match end {
        End::OurBye | End::Referred(_) => {
            // In the dialog's route set: the 200's Record-Route.
            x += "  <recv request=\"BYE\">\n    <action><ereg regexp=\"Route: &lt;sip:rr[.]pinline[.]test;lr&gt;\" search_in=\"msg\" check_it=\"true\" assign_to=\"d4\"/></action>\n  </recv>\n  <Reference variables=\"d4\"/>\n";
            x += &response(200, "OK", "");
        }
        End::TheirBye(d) => {
            x += &format!("  <pause milliseconds=\"{}\"/>\n", d.as_millis());
            x += "  <send retrans=\"500\"><![CDATA[\nBYE [$remote_contact] SIP/2.0\nVia: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]\nFrom: <sip:far@[local_ip]>;tag=[pid]SIPpTag01[call_number]\nTo: [$remote_from]\n[last_Call-ID:]\nCSeq: 1 BYE\nMax-Forwards: 70\nContent-Length: 0\n\n]]></send>\n";
            x += "  <recv response=\"200\"/>\n";
        }
    }
    x += REFERENCE;
    x
}

/// sipp refuses variables used once; every scenario names them all.
const REFERENCE: &str =
    "  <Reference variables=\"d1,d2,d3,remote_from,remote_contact,invite_cseq\"/>\n</scenario>\n";

pub struct Sipp {
    child: Child,
    pub addr: SocketAddr,
    dir: tempfile::TempDir,
}

impl Sipp {
    /// Start a UAS for `calls` calls of `scenario`; `files` are written
    /// beside it (the audio it streams).
    pub fn uas(scenario: &str, calls: u32, files: &[(&str, Vec<u8>)]) -> Sipp {
        Self::start(scenario, calls, files, false)
    }

    /// A UAS whose `calls` calls answer after `after` with their audio on
    /// `media` and wait for our BYE.
    pub fn answering(after: Duration, media: Media, calls: u32) -> Sipp {
        Self::uas(
            &uas_scenario(Answer::After(after), media, End::OurBye),
            calls,
            &[],
        )
    }

    /// The same, taking SIP over TCP (one connection).
    pub fn uas_tcp(scenario: &str, calls: u32, files: &[(&str, Vec<u8>)]) -> Sipp {
        Self::start(scenario, calls, files, true)
    }

    fn start(scenario: &str, calls: u32, files: &[(&str, Vec<u8>)], tcp: bool) -> Sipp {
        let dir = tempfile::tempdir().expect("a temp dir");
        std::fs::write(dir.path().join("uas.xml"), scenario).expect("the scenario");
        for (name, bytes) in files {
            std::fs::write(dir.path().join(name), bytes).expect("an audio file");
        }
        let port = free_udp_port();
        let media_port = free_udp_port() & !1;
        let child = Command::new("sipp")
            .current_dir(dir.path())
            .args(["-sf", "uas.xml", "-i", "127.0.0.1", "-p"])
            .arg(port.to_string())
            .arg("-mp")
            .arg(media_port.to_string())
            .args(["-m", &calls.to_string(), "-nostdin", "-timeout", "60s"])
            .args(["-timeout_error", "-trace_err", "-trace_msg"])
            .args(if tcp { &["-t", "t1"][..] } else { &[][..] })
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .unwrap_or_else(|e| panic!("sipp could not start ({e}): `./dev setup` installs it"));
        // Wait until it listens: an INVITE sent before would wait for
        // its retransmission (seconds on a loaded machine).
        let started = Instant::now();
        let bound = |p| {
            if tcp {
                tcp_port_bound(p)
            } else {
                udp_port_bound(p)
            }
        };
        while !bound(port) && started.elapsed() < Duration::from_secs(10) {
            std::thread::sleep(Duration::from_millis(10));
        }
        Sipp {
            child,
            addr: SocketAddr::from(([127, 0, 0, 1], port)),
            dir,
        }
    }

    /// Wait for sipp to finish and require every call to have passed its
    /// scenario (exit code 0); otherwise show what it logged.
    pub async fn passed(mut self) {
        let status = tokio::time::timeout(Duration::from_secs(30), self.child.wait())
            .await
            .expect("sipp to finish within 30 s")
            .expect("sipp's exit status");
        if !status.success() {
            panic!("sipp failed ({status}):\n{}", self.logs());
        }
    }

    /// sipp's error and message logs.
    fn logs(&self) -> String {
        let mut log = String::new();
        for entry in std::fs::read_dir(self.dir.path())
            .into_iter()
            .flatten()
            .flatten()
        {
            let p = entry.path();
            if p.extension().is_some_and(|e| e == "log") {
                log += &format!("--- {}\n", p.display());
                log += &std::fs::read_to_string(&p).unwrap_or_default();
            }
        }
        log
    }
}

impl Drop for Sipp {
    fn drop(&mut self) {
        // A test that fails before asking sipp shows what sipp saw.
        if std::thread::panicking() {
            eprintln!("sipp's logs:\n{}", self.logs());
        }
    }
}

/// One RTP packet as it arrived.
#[derive(Clone)]
pub struct Heard {
    pub at: Instant,
    pub packet: RtpPacket,
}

/// A test-owned RTP endpoint: records what it hears; can stream a tone.
pub struct RtpPeer {
    pub sock: Arc<UdpSocket>,
    pub heard: Arc<Mutex<Vec<Heard>>>,
    /// Where the last packet came from.
    from: Arc<Mutex<Option<SocketAddr>>>,
    reader: tokio::task::JoinHandle<()>,
    speaker: Option<tokio::task::JoinHandle<()>>,
}

impl Drop for RtpPeer {
    fn drop(&mut self) {
        self.reader.abort();
        if let Some(s) = &self.speaker {
            s.abort();
        }
    }
}

impl RtpPeer {
    pub async fn bind() -> RtpPeer {
        let sock = Arc::new(
            UdpSocket::bind(("127.0.0.1", free_udp_port() & !1))
                .await
                .expect("an RTP port"),
        );
        let heard = Arc::new(Mutex::new(Vec::new()));
        let from = Arc::new(Mutex::new(None));
        let (s, h, f) = (sock.clone(), heard.clone(), from.clone());
        let reader = tokio::spawn(async move {
            let mut buf = [0u8; 2048];
            while let Ok((n, src)) = s.recv_from(&mut buf).await {
                *f.lock().expect("from") = Some(src);
                if let Ok(p) = RtpPacket::parse(&buf[..n]) {
                    h.lock().expect("heard").push(Heard {
                        at: Instant::now(),
                        packet: p,
                    });
                }
            }
        });
        RtpPeer {
            sock,
            heard,
            from,
            reader,
            speaker: None,
        }
    }

    /// Where the last packet came from (the server's RTP socket).
    pub fn source(&self) -> Option<SocketAddr> {
        *self.from.lock().expect("from")
    }

    pub fn port(&self) -> u16 {
        self.sock.local_addr().expect("bound").port()
    }

    /// Send a tone at `hz` to `to` every 20 ms until dropped or told to
    /// stop.
    pub fn speak(&mut self, to: SocketAddr, hz: f64) {
        self.stop_speaking();
        let sock = self.sock.clone();
        let ssrc = rand_ssrc();
        self.speaker = Some(tokio::spawn(async move {
            let tone = audio::ulaw_tone(hz, 1000);
            let mut tick = tokio::time::interval(Duration::from_millis(20));
            let mut n: u32 = 0;
            loop {
                tick.tick().await;
                let i = (n as usize % 50) * 160;
                let p = RtpPacket {
                    marker: n == 0,
                    payload_type: 0,
                    sequence: n as u16,
                    timestamp: n * 160,
                    ssrc,
                    payload: tone[i..i + 160].to_vec(),
                };
                let _ = sock.send_to(&p.to_bytes(), to).await;
                n += 1;
            }
        }));
    }

    pub fn stop_speaking(&mut self) {
        if let Some(s) = self.speaker.take() {
            s.abort();
        }
    }

    pub fn packets(&self) -> Vec<Heard> {
        self.heard.lock().expect("heard").clone()
    }
}

fn rand_ssrc() -> u32 {
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    t ^ 0x5a5a_1234
}
