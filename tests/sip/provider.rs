//! The provider alone (no engine): each lead outcome against a sipp far
//! end, and the pinned leg's audio (silence, tone, the lead; mute, hold)
//! as the far ends hear it.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU16, Ordering};
use std::time::{Duration, Instant};

use pinline::media::amd::AmdSettings;
use pinline::media::sip::{SipConfig, SipProvider};
use pinline::media::{
    AnsweredBy, LegId, LegPurpose, MediaEvent, MediaProvider, MediaSink, Originate,
};
use tokio::sync::mpsc;

use crate::audio;
use crate::peers::{Answer, End, Media, RtpPeer, Sipp, uas_scenario};

pub struct Events(mpsc::UnboundedSender<(Instant, MediaEvent)>);

impl MediaSink for Events {
    fn emit(&self, after: Duration, event: MediaEvent) {
        let _ = self.0.send((Instant::now() + after, event));
    }
}

pub struct Harness {
    pub sip: SipProvider,
    pub events: mpsc::UnboundedReceiver<(Instant, MediaEvent)>,
}

/// Each test its own block of RTP ports (tests run in parallel).
static PORTS: AtomicU16 = AtomicU16::new(31000);

/// A block of 100 RTP ports no other test in this process uses.
pub fn port_block() -> u16 {
    PORTS.fetch_add(100, Ordering::Relaxed)
}

pub async fn start(trunk: SocketAddr, agent_phone: Option<SocketAddr>) -> Harness {
    start_with(trunk, agent_phone, |_| {}).await
}

pub async fn start_with(
    trunk: SocketAddr,
    agent_phone: Option<SocketAddr>,
    tune: impl FnOnce(&mut SipConfig),
) -> Harness {
    let lo = port_block();
    let mut cfg = SipConfig::new("127.0.0.1:0".parse().expect("addr"), &trunk.to_string());
    cfg.rtp_ports = (lo, lo + 99);
    cfg.username = Some("pinline".into());
    cfg.password = Some("s3cret".into());
    if let Some(phone) = agent_phone {
        cfg.agent_phones
            .insert("*".into(), format!("sip:{{agent}}@{phone}"));
    }
    tune(&mut cfg);
    let (tx, events) = mpsc::unbounded_channel();
    let sip = SipProvider::start(cfg, Arc::new(Events(tx)))
        .await
        .expect("the provider starts");
    Harness { sip, events }
}

impl Harness {
    /// The next event (of any leg), within `secs`.
    pub async fn next(&mut self, secs: u64) -> (Instant, MediaEvent) {
        tokio::time::timeout(Duration::from_secs(secs), self.events.recv())
            .await
            .unwrap_or_else(|_| panic!("no media event within {secs} s"))
            .expect("the sink is alive")
    }

    /// Skip events until the lead is answered.
    pub async fn until_answered(&mut self) {
        loop {
            let (_, e) = self.next(5).await;
            if matches!(e, MediaEvent::Answered { .. }) {
                return;
            }
        }
    }

    pub fn lead(&self, ring: Duration) -> LegId {
        self.sip
            .originate(&Originate {
                to: "+15550100001".into(),
                caller_id: "+15550199999".into(),
                ring_timeout: ring,
                purpose: LegPurpose::Lead,
                hints: Vec::new(),
            })
            .expect("the call is placed")
    }
}

fn lead_tone_file() -> Vec<u8> {
    audio::ulaw_tone(440.0, 2000)
}

/// A trunk whose one far end answers as `answer` (its SDP points at
/// port 9: no audio either way) and ends as `end` says.
fn no_audio_far_end(answer: Answer, end: End) -> Sipp {
    Sipp::uas(&uas_scenario(answer, Media::Port(9), end), 1, &[])
}

/// A trunk whose one lead answers after `after`, talks at 440 Hz from
/// sipp's own RTP, and ends as `end` says.
fn talking_lead(after: Duration, end: End) -> Sipp {
    Sipp::uas(
        &uas_scenario(Answer::After(after), Media::SippStream("lead.ulaw"), end),
        1,
        &[("lead.ulaw", lead_tone_file())],
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lead_that_answers_after_ringing_then_the_dialer_hangs_up() {
    let sipp = talking_lead(Duration::from_millis(1500), End::OurBye);
    let mut h = start(sipp.addr, None).await;
    let placed = Instant::now();
    let leg = h.lead(Duration::from_secs(25));
    let (_, e) = h.next(5).await;
    assert_eq!(e, MediaEvent::Ringing { leg: leg.clone() });
    let (at, e) = h.next(5).await;
    assert_eq!(
        e,
        MediaEvent::Answered {
            leg: leg.clone(),
            by: AnsweredBy::Human
        }
    );
    assert!(
        at - placed >= Duration::from_millis(1400),
        "answered after {:?}",
        at - placed
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    h.sip.hang_up(&leg);
    sipp.passed().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_busy_lead_is_busy_and_a_failing_trunk_is_a_failure_with_its_code() {
    type Expect = fn(LegId) -> MediaEvent;
    let cases: [(u16, &str, Expect); 3] = [
        (486, "Busy Here", |leg| MediaEvent::Busy { leg }),
        (603, "Decline", |leg| MediaEvent::Busy { leg }),
        (503, "Service Unavailable", |leg| MediaEvent::Failed {
            leg,
            reason: "SIP 503 Service Unavailable".into(),
        }),
    ];
    for (code, reason, expected) in cases {
        let sipp = no_audio_far_end(Answer::Refuse(code, reason), End::OurBye);
        let mut h = start(sipp.addr, None).await;
        let leg = h.lead(Duration::from_secs(25));
        let (_, e) = h.next(5).await;
        assert_eq!(e, expected(leg), "{code}");
        // sipp got the ACK of its final answer.
        sipp.passed().await;
    }
}

/// A fictional number (555-0100…0199) is never sent to the trunk, as the
/// number called nor as the caller ID.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fictional_numbers_are_not_sent_to_the_trunk() {
    let sipp = no_audio_far_end(Answer::Refuse(486, "Busy Here"), End::OurBye);
    let h = start(sipp.addr, None).await;
    for (to, caller_id) in [
        ("+12135550123", "+15550199999"),
        ("+15550100001", "+14155550100"),
    ] {
        let placed = h.sip.originate(&Originate {
            to: to.into(),
            caller_id: caller_id.into(),
            ring_timeout: Duration::from_secs(25),
            purpose: LegPurpose::Lead,
            hints: Vec::new(),
        });
        assert!(
            matches!(&placed, Err(pinline::media::MediaError::Refused(m)) if m.contains("reserved for fiction")),
            "{to} from {caller_id}: {placed:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sip_over_tcp_to_the_trunk_carries_calls_both_ways() {
    use pinline::media::sip::SipTransport;
    // Answered, then the lead hangs up: INVITE, 200, ACK, their BYE and
    // our 200 all on the one connection (sipp checks each).
    let sipp = Sipp::uas_tcp(
        &uas_scenario(
            Answer::After(Duration::from_millis(300)),
            Media::Port(9),
            End::TheirBye(Duration::from_millis(500)),
        ),
        1,
        &[],
    );
    let mut h = start_with(sipp.addr, None, |c| c.transport = SipTransport::Tcp).await;
    let leg = h.lead(Duration::from_secs(25));
    let mut seen = Vec::new();
    while !matches!(seen.last(), Some(MediaEvent::RemoteHangUp { .. })) {
        seen.push(h.next(5).await.1);
    }
    assert_eq!(
        seen,
        [
            MediaEvent::Ringing { leg: leg.clone() },
            MediaEvent::Answered {
                leg: leg.clone(),
                by: AnsweredBy::Human
            },
            MediaEvent::RemoteHangUp { leg: leg.clone() },
        ]
    );
    sipp.passed().await;
    // Busy, and our ACK of it, over TCP; then a call we end ourselves.
    let sipp = Sipp::uas_tcp(
        &uas_scenario(
            Answer::Refuse(486, "Busy Here"),
            Media::Port(9),
            End::OurBye,
        ),
        1,
        &[],
    );
    let mut h = start_with(sipp.addr, None, |c| c.transport = SipTransport::Tcp).await;
    let leg = h.lead(Duration::from_secs(25));
    assert_eq!(h.next(5).await.1, MediaEvent::Busy { leg });
    sipp.passed().await;
    let sipp = Sipp::uas_tcp(
        &uas_scenario(
            Answer::After(Duration::from_millis(100)),
            Media::Port(9),
            End::OurBye,
        ),
        1,
        &[],
    );
    let mut h = start_with(sipp.addr, None, |c| c.transport = SipTransport::Tcp).await;
    let leg = h.lead(Duration::from_secs(25));
    h.until_answered().await;
    h.sip.hang_up(&leg);
    sipp.passed().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unanswered_lead_is_cancelled_at_the_ring_timeout_never_before_15_s() {
    let sipp = no_audio_far_end(Answer::Never, End::OurBye);
    let mut h = start(sipp.addr, None).await;
    let placed = Instant::now();
    // Asked for 10 s: a lead rings at least 15.
    let leg = h.lead(Duration::from_secs(10));
    let (_, e) = h.next(5).await;
    assert_eq!(e, MediaEvent::Ringing { leg: leg.clone() });
    let (at, e) = h.next(25).await;
    assert_eq!(e, MediaEvent::NoAnswer { leg });
    let rang = at - placed;
    assert!(
        rang >= Duration::from_secs(15) && rang < Duration::from_secs(17),
        "cancelled after {rang:?}"
    );
    // sipp saw CANCEL, answered 200 and 487, and got the ACK.
    sipp.passed().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lead_that_hangs_up_is_a_remote_hang_up() {
    let sipp = talking_lead(
        Duration::from_millis(200),
        End::TheirBye(Duration::from_millis(1500)),
    );
    let mut h = start(sipp.addr, None).await;
    let leg = h.lead(Duration::from_secs(25));
    let (_, e) = h.next(5).await;
    assert_eq!(e, MediaEvent::Ringing { leg: leg.clone() });
    let (answered, _) = h.next(5).await;
    let (at, e) = h.next(5).await;
    assert_eq!(e, MediaEvent::RemoteHangUp { leg: leg.clone() });
    assert!(at - answered >= Duration::from_millis(1400));
    // Our 200 to their BYE reached sipp.
    sipp.passed().await;
    // The leg is gone: hanging it up again is harmless.
    h.sip.hang_up(&leg);
    assert!(h.sip.rtp_addr(&leg).is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_trunk_s_digest_challenge_is_answered() {
    let sipp = Sipp::uas(
        &uas_scenario(
            Answer::Challenge {
                user: "pinline",
                password: "s3cret",
            },
            Media::Port(9),
            End::OurBye,
        ),
        1,
        &[],
    );
    let mut h = start(sipp.addr, None).await;
    let leg = h.lead(Duration::from_secs(25));
    let (_, e) = h.next(5).await;
    assert!(matches!(e, MediaEvent::Answered { .. }), "{e:?}");
    h.sip.hang_up(&leg);
    // sipp verified the credentials (a wrong digest fails the scenario).
    sipp.passed().await;
}

/// The labels of what each packet carried, runs of two or more packets
/// collapsed (a packet straddling two sounds is ignored).
pub fn runs(samples_per_packet: &[Vec<i16>], hz: &[f64]) -> Vec<String> {
    let labels: Vec<String> = samples_per_packet
        .iter()
        .map(|s| audio::classify(s, hz))
        .collect();
    let mut out: Vec<(String, usize)> = Vec::new();
    for l in labels {
        match out.last_mut() {
            Some((last, n)) if *last == l => *n += 1,
            _ => out.push((l, 1)),
        }
    }
    let mut kept: Vec<String> = Vec::new();
    for (l, n) in out {
        if n >= 2 && kept.last() != Some(&l) {
            kept.push(l);
        }
    }
    kept
}

const HZ: [f64; 5] = [440.0, 660.0, 880.0, 1200.0, 1000.0];

fn heard_runs(peer: &RtpPeer, from: Instant, to: Instant) -> Vec<String> {
    let per_packet: Vec<Vec<i16>> = peer
        .packets()
        .iter()
        .filter(|h| h.at >= from && h.at < to)
        .map(|h| audio::decode(&h.packet.payload))
        .collect();
    runs(&per_packet, &HZ)
}

/// An agent's phone (sipp, its audio on a test-owned port) with the
/// pinned leg up, and a trunk whose lead answers after 300 ms with
/// `lead_media`.
pub struct Bridge {
    pub h: Harness,
    pub agent: RtpPeer,
    pub phone: Sipp,
    pub trunk: Sipp,
    pub pinned: LegId,
}

impl Bridge {
    async fn up(lead_media: Media, files: &[(&str, Vec<u8>)]) -> Bridge {
        Self::up_with(lead_media, files, 1).await
    }

    /// A pinned leg up on a sipp phone whose audio is `agent`, and a trunk
    /// that answers `calls` calls with `lead_media`.
    pub async fn up_with(lead_media: Media, files: &[(&str, Vec<u8>)], calls: u32) -> Bridge {
        let agent = RtpPeer::bind().await;
        let phone = Sipp::answering(Duration::ZERO, Media::Port(agent.port()), 1);
        let trunk = Sipp::uas(
            &uas_scenario(
                Answer::After(Duration::from_millis(300)),
                lead_media,
                End::OurBye,
            ),
            calls,
            files,
        );
        let mut h = start(trunk.addr, Some(phone.addr)).await;
        let pinned = h
            .sip
            .create_pinned_leg("agent-1")
            .expect("the pinned leg starts");
        let (_, e) = h.next(5).await;
        assert_eq!(
            e,
            MediaEvent::PinnedLegUp {
                leg: pinned.clone()
            }
        );
        Bridge {
            h,
            agent,
            phone,
            trunk,
            pinned,
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_agent_hears_silence_then_the_tone_then_the_lead_and_silence_again() {
    let Bridge {
        mut h,
        mut agent,
        phone,
        trunk,
        pinned,
    } = Bridge::up(
        Media::SippStream("lead.ulaw"),
        &[("lead.ulaw", lead_tone_file())],
    )
    .await;
    let t0 = Instant::now();
    // The agent talks all along: it must go nowhere while idle.
    agent.speak(h.sip.rtp_addr(&pinned).expect("pinned RTP"), 1200.0);
    let lead = h.lead(Duration::from_secs(25));
    h.until_answered().await;
    tokio::time::sleep(Duration::from_millis(400)).await;
    let bridged_at = Instant::now();
    h.sip.bridge(&lead, &pinned).expect("bridged");
    tokio::time::sleep(Duration::from_millis(1200)).await;
    let unbridged_at = Instant::now();
    h.sip.hang_up(&lead);
    tokio::time::sleep(Duration::from_millis(600)).await;
    let end = Instant::now();

    assert_eq!(heard_runs(&agent, t0, bridged_at), ["silence"], "idle");
    assert_eq!(
        heard_runs(&agent, bridged_at, unbridged_at),
        ["660 Hz", "880 Hz", "440 Hz"],
        "bridged: the tone, then the lead"
    );
    assert_eq!(
        heard_runs(&agent, unbridged_at + Duration::from_millis(100), end),
        ["silence"],
        "after the lead is gone"
    );
    // One continuous stream toward the agent: one SSRC, sequence +1.
    let p = agent.packets();
    assert!(p.len() > 100, "{} packets", p.len());
    assert!(p.iter().all(|x| x.packet.ssrc == p[0].packet.ssrc));
    for w in p.windows(2) {
        assert_eq!(
            w[1].packet.sequence,
            w[0].packet.sequence.wrapping_add(1),
            "sequence gap"
        );
    }
    agent.stop_speaking();
    h.sip.tear_down(&pinned);
    trunk.passed().await;
    phone.passed().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_lead_hears_the_agent_only_when_not_muted_and_silence_on_hold() {
    let mut lead_far = RtpPeer::bind().await;
    let Bridge {
        mut h,
        mut agent,
        phone,
        trunk,
        pinned,
    } = Bridge::up(Media::Port(lead_far.port()), &[]).await;
    agent.speak(h.sip.rtp_addr(&pinned).expect("pinned RTP"), 1200.0);
    let lead = h.lead(Duration::from_secs(25));
    h.until_answered().await;
    lead_far.speak(h.sip.rtp_addr(&lead).expect("lead RTP"), 440.0);
    h.sip.bridge(&lead, &pinned).expect("bridged");
    let step = Duration::from_millis(700);
    tokio::time::sleep(step).await;
    let t_talk = Instant::now();
    tokio::time::sleep(step).await;
    h.sip.mute(&pinned, true).expect("muted");
    let t_muted = Instant::now();
    tokio::time::sleep(step).await;
    h.sip.mute(&pinned, false).expect("unmuted");
    let t_unmuted = Instant::now();
    tokio::time::sleep(step).await;
    h.sip.hold(&lead, true).expect("held");
    let t_held = Instant::now();
    tokio::time::sleep(step).await;
    let t_end = Instant::now();
    let lag = Duration::from_millis(100);

    let expected = [
        ("talking", &lead_far, t_talk, t_muted, "1200 Hz"),
        ("muted", &lead_far, t_muted + lag, t_unmuted, "silence"),
        ("unmuted", &lead_far, t_unmuted + lag, t_held, "1200 Hz"),
        ("held", &lead_far, t_held + lag, t_end, "silence"),
        // On hold the agent still hears the lead.
        (
            "the agent during hold",
            &agent,
            t_held + lag,
            t_end,
            "440 Hz",
        ),
    ];
    for (what, peer, from, to, heard) in expected {
        assert_eq!(heard_runs(peer, from, to), [heard], "{what}");
    }
    agent.stop_speaking();
    lead_far.stop_speaking();
    h.sip.hang_up(&lead);
    h.sip.tear_down(&pinned);
    trunk.passed().await;
    phone.passed().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_prompt_is_spoken_in_full_before_the_leg_hangs_up() {
    let lead_far = RtpPeer::bind().await;
    let trunk = Sipp::answering(Duration::from_millis(100), Media::Port(lead_far.port()), 1);
    let mut h = start(trunk.addr, None).await;
    let lead = h.lead(Duration::from_secs(25));
    h.until_answered().await;
    let asked = Instant::now();
    h.sip
        .play(
            &lead,
            "This is Pinline calling. Please call us back at your convenience.",
            true,
        )
        .expect("the prompt starts");
    // The engine hangs the leg up right after asking for the prompt: the
    // message must still be heard to its end.
    h.sip.hang_up(&lead);
    let (done, e) = h.next(15).await;
    assert_eq!(e, MediaEvent::PromptDone { leg: lead.clone() });
    let spoken = done - asked;
    assert!(spoken > Duration::from_secs(2), "spoken for {spoken:?}");
    let voiced = lead_far
        .packets()
        .iter()
        .filter(|p| audio::level_dbfs(&audio::decode(&p.packet.payload)) > -40.0)
        .count();
    // Over a second of speech (20-ms packets) reached the lead.
    assert!(voiced > 50, "{voiced} voiced packets");
    // Then the BYE: sipp's scenario passes only if it came.
    trunk.passed().await;
}

/// A greeting spoken by espeak-ng as 8-kHz μ-law, then `silence_ms`.
fn greeting(text: &str, silence_ms: usize) -> Vec<u8> {
    let mut a = pinline::media::sip::prompt::speak(text)
        .expect("espeak-ng speaks (./dev setup installs it)")
        .to_vec();
    a.extend(std::iter::repeat_n(0xffu8, silence_ms * 8));
    a
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn answering_machine_detection_on_live_legs_tells_a_person_from_a_machine() {
    let cases = [
        ("Hello?", AnsweredBy::Human),
        (
            "Hi, you have reached the Johnson family. We can't come to the phone right now, please leave a message after the tone.",
            AnsweredBy::Machine,
        ),
    ];
    for (said, by) in cases {
        let sipp = Sipp::uas(
            &uas_scenario(
                Answer::After(Duration::from_millis(100)),
                Media::SippStream("greeting.ulaw"),
                End::OurBye,
            ),
            1,
            &[("greeting.ulaw", greeting(said, 4000))],
        );
        let mut h = start_with(sipp.addr, None, |c| c.amd = Some(AmdSettings::default())).await;
        let placed = Instant::now();
        let leg = h.lead(Duration::from_secs(25));
        let (_, e) = h.next(5).await;
        assert_eq!(e, MediaEvent::Ringing { leg: leg.clone() });
        let (at, e) = h.next(6).await;
        assert_eq!(
            e,
            MediaEvent::Answered {
                leg: leg.clone(),
                by
            },
            "{said}"
        );
        // Answered 100 ms in; decided within 3 s of that (and not at once:
        // it listened).
        let took = at - placed;
        assert!(
            took > Duration::from_millis(600) && took < Duration::from_millis(3300),
            "{said}: decided {took:?} after dialing"
        );
        eprintln!("AMD: {by:?} after {took:?}");
        h.sip.hang_up(&leg);
        sipp.passed().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_blind_transfer_is_a_refer_whose_notify_says_how_it_went() {
    for (status, ok) in [("SIP/2.0 200 OK", true), ("SIP/2.0 486 Busy Here", false)] {
        let sipp = no_audio_far_end(
            Answer::After(Duration::from_millis(100)),
            End::Referred(status),
        );
        let mut h = start(sipp.addr, None).await;
        let lead = h.lead(Duration::from_secs(25));
        h.until_answered().await;
        assert!(h.sip.transfer(&lead, "not a number").is_err());
        h.sip.transfer(&lead, "+15550100999").expect("REFER sent");
        let (_, e) = h.next(5).await;
        assert_eq!(
            e,
            MediaEvent::TransferDone {
                leg: lead.clone(),
                ok
            },
            "{status}"
        );
        if !ok {
            // Still our call: the agent goes on with it, then hangs up.
            assert!(h.sip.rtp_addr(&lead).is_some());
            h.sip.hang_up(&lead);
        }
        // sipp saw the REFER to the number and, after the NOTIFY, our BYE.
        sipp.passed().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lead_whose_rtp_stops_is_over_after_the_rtp_timeout() {
    // The lead answers but its audio never comes (port 9: nobody sends).
    let sipp = no_audio_far_end(Answer::After(Duration::from_millis(100)), End::OurBye);
    let mut h = start_with(sipp.addr, None, |c| c.rtp_timeout = Duration::from_secs(2)).await;
    let lead = h.lead(Duration::from_secs(25));
    h.until_answered().await;
    let answered = Instant::now();
    let (at, e) = h.next(5).await;
    assert_eq!(e, MediaEvent::RemoteHangUp { leg: lead });
    let quiet = at - answered;
    assert!(
        quiet >= Duration::from_secs(2) && quiet < Duration::from_secs(3),
        "ended after {quiet:?} of silence"
    );
    // And the far end got our BYE.
    sipp.passed().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_answer_after_the_call_was_given_up_is_acked_and_ended() {
    let sipp = no_audio_far_end(Answer::Late, End::OurBye);
    let mut h = start(sipp.addr, None).await;
    // A consult call may ring shorter than a lead: 2 s.
    let leg = h
        .sip
        .originate(&Originate {
            to: "+15550100002".into(),
            caller_id: "+15550199999".into(),
            ring_timeout: Duration::from_secs(2),
            purpose: LegPurpose::Consult,
            hints: Vec::new(),
        })
        .expect("placed");
    let (_, e) = h.next(5).await;
    assert_eq!(e, MediaEvent::Ringing { leg: leg.clone() });
    // CANCEL at 2 s, no 487: the leg is over 4 s later all the same.
    let (_, e) = h.next(10).await;
    assert_eq!(e, MediaEvent::NoAnswer { leg: leg.clone() });
    // The leg's port goes with it, soon after the event (a loaded machine
    // may take a moment): wait for it with a deadline, not a fixed time.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while h.sip.rtp_addr(&leg).is_some() && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(
        h.sip.rtp_addr(&leg).is_none(),
        "the leg's RTP port was kept"
    );
    // The 200 that comes later gets its ACK and a BYE (sipp requires both).
    sipp.passed().await;
}
