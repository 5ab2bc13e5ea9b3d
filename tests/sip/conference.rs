//! Conferences on real legs: the lead (440 Hz), an outside participant
//! (660 Hz) and the agent on a phone (1000 Hz), each a test-owned RTP
//! socket behind a sipp far end. Each must hear the other two, a held
//! party nobody (and nobody them), and after the agent leaves the two
//! outside parties each other.

use std::time::{Duration, Instant};

use pinline::media::{LegPurpose, MediaEvent, MediaProvider, Originate};

use crate::audio;
use crate::peers::{Media, RtpPeer};
use crate::provider::Bridge;

/// The tones a stretch of a peer's audio carries (each over a quarter of
/// the energy), or "silence".
fn tones(peer: &RtpPeer, from: Instant, to: Instant) -> String {
    tones_of(peer, from, to, &[440.0, 660.0, 1000.0])
}

fn tones_of(peer: &RtpPeer, from: Instant, to: Instant, hz: &[f64]) -> String {
    let samples: Vec<i16> = peer
        .packets()
        .iter()
        .filter(|h| h.at >= from && h.at < to)
        .flat_map(|h| audio::decode(&h.packet.payload))
        .collect();
    if samples.len() < 1600 {
        return format!("too little audio ({} samples)", samples.len());
    }
    if audio::level_dbfs(&samples) < -45.0 {
        return "silence".into();
    }
    let found: Vec<String> = hz
        .iter()
        .filter(|hz| audio::share_at(&samples, **hz) > 0.25)
        .map(|hz| format!("{hz}"))
        .collect();
    found.join("+")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_parties_hear_each_other_hold_leaves_the_mix_and_the_agent_can_leave() {
    let (mut lead_far, mut guest_far) = (RtpPeer::bind().await, RtpPeer::bind().await);
    // Both calls' SDP name the lead's socket; the guest's is latched by
    // symmetric RTP when it speaks.
    let Bridge {
        mut h,
        mut agent,
        phone,
        trunk,
        pinned,
    } = Bridge::up_with(Media::Port(lead_far.port()), &[], 2).await;
    agent.speak(h.sip.rtp_addr(&pinned).expect("pinned RTP"), 1000.0);
    let lead = h.lead(Duration::from_secs(25));
    h.until_answered().await;
    lead_far.speak(h.sip.rtp_addr(&lead).expect("lead RTP"), 440.0);
    h.sip.bridge(&lead, &pinned).expect("bridged");
    let guest = h
        .sip
        .originate(&Originate {
            to: "+15550100002".into(),
            caller_id: "+15550199999".into(),
            ring_timeout: Duration::from_secs(20),
            purpose: LegPurpose::Participant,
            hints: Vec::new(),
        })
        .expect("the participant is called");
    h.until_answered().await;
    guest_far.speak(h.sip.rtp_addr(&guest).expect("guest RTP"), 660.0);
    h.sip.join(&lead, &guest).expect("joined");

    let step = Duration::from_millis(900);
    let settle = Duration::from_millis(200);
    tokio::time::sleep(settle).await;
    let t_all = Instant::now();
    tokio::time::sleep(step).await;
    h.sip.hold(&lead, true).expect("held");
    let t_held = Instant::now();
    tokio::time::sleep(step).await;
    h.sip.hold(&lead, false).expect("resumed");
    h.sip.leave(&pinned).expect("the agent leaves");
    let t_left = Instant::now();
    tokio::time::sleep(step).await;
    let t_end = Instant::now();

    let window = |a: Instant, b: Instant| (a + settle, b);
    let checks = [
        (
            "the lead, all in",
            &lead_far,
            window(t_all - settle, t_held),
            "660+1000",
        ),
        (
            "the guest, all in",
            &guest_far,
            window(t_all - settle, t_held),
            "440+1000",
        ),
        (
            "the agent, all in",
            &agent,
            window(t_all - settle, t_held),
            "440+660",
        ),
        (
            "the lead on hold",
            &lead_far,
            window(t_held, t_left),
            "silence",
        ),
        (
            "the guest, lead on hold",
            &guest_far,
            window(t_held, t_left),
            "1000",
        ),
        (
            "the agent, lead on hold",
            &agent,
            window(t_held, t_left),
            "660",
        ),
        (
            "the lead, agent gone",
            &lead_far,
            window(t_left, t_end),
            "660",
        ),
        (
            "the guest, agent gone",
            &guest_far,
            window(t_left, t_end),
            "440",
        ),
        ("the agent, gone", &agent, window(t_left, t_end), "silence"),
    ];
    let mut wrong = Vec::new();
    for (what, peer, (from, to), expected) in checks {
        let got = tones(peer, from, to);
        if got != expected {
            wrong.push(format!("{what}: heard {got}, expected {expected}"));
        }
    }
    assert!(wrong.is_empty(), "{wrong:#?}");

    // The lead hangs up... here the dialer does; the guest, alone, is
    // ended too (a remote hang-up for whoever tracks it).
    h.sip.hang_up(&lead);
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let (_, e) = h.next(5).await;
        if e == (MediaEvent::RemoteHangUp { leg: guest.clone() }) {
            break;
        }
        assert!(Instant::now() < deadline, "the guest was left alone");
    }
    agent.stop_speaking();
    lead_far.stop_speaking();
    guest_far.stop_speaking();
    h.sip.tear_down(&pinned);
    trunk.passed().await;
    phone.passed().await;
}

/// A warm transfer between two agents on SIP phones: the lead holds while
/// agent A (1000 Hz) talks with agent B (1200 Hz); A leaves and the lead
/// (440 Hz) and B talk.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_warm_transfer_between_two_agents_consults_then_hands_over() {
    use crate::peers::Sipp;
    let (mut lead_far, mut a, mut b) = (
        RtpPeer::bind().await,
        RtpPeer::bind().await,
        RtpPeer::bind().await,
    );
    // Both phones' SDP name A's socket; B's is latched when B speaks.
    let phones = Sipp::answering(Duration::ZERO, Media::Port(a.port()), 2);
    let trunk = Sipp::answering(Duration::from_millis(200), Media::Port(lead_far.port()), 1);
    let mut h = crate::provider::start(trunk.addr, Some(phones.addr)).await;
    let pinned_a = h.sip.create_pinned_leg("agent-a").expect("A's leg");
    let pinned_b = h.sip.create_pinned_leg("agent-b").expect("B's leg");
    for _ in 0..2 {
        assert!(matches!(h.next(5).await.1, MediaEvent::PinnedLegUp { .. }));
    }
    a.speak(h.sip.rtp_addr(&pinned_a).expect("A's RTP"), 1000.0);
    b.speak(h.sip.rtp_addr(&pinned_b).expect("B's RTP"), 1200.0);
    let lead = h.lead(Duration::from_secs(25));
    h.until_answered().await;
    lead_far.speak(h.sip.rtp_addr(&lead).expect("lead RTP"), 440.0);
    h.sip.bridge(&lead, &pinned_a).expect("A has the lead");
    // What the engine does for a warm transfer to an agent.
    h.sip.hold(&lead, true).expect("held");
    h.sip.bridge(&lead, &pinned_b).expect("B joins");
    let step = Duration::from_millis(900);
    let settle = Duration::from_millis(250);
    let t_consult = Instant::now();
    tokio::time::sleep(step).await;
    h.sip.hold(&lead, false).expect("resumed");
    h.sip.leave(&pinned_a).expect("A leaves");
    let t_handed = Instant::now();
    tokio::time::sleep(step).await;
    let t_end = Instant::now();
    let hz = [440.0, 1000.0, 1200.0];
    let checks = [
        (
            "the lead, consulting",
            &lead_far,
            t_consult,
            t_handed,
            "silence",
        ),
        ("A, consulting", &a, t_consult, t_handed, "1200"),
        ("B, consulting", &b, t_consult, t_handed, "1000"),
        ("the lead, handed over", &lead_far, t_handed, t_end, "1200"),
        ("A, gone", &a, t_handed, t_end, "silence"),
        ("B, handed over", &b, t_handed, t_end, "440"),
    ];
    let mut wrong = Vec::new();
    for (what, peer, from, to, expected) in checks {
        let got = tones_of(peer, from + settle, to, &hz);
        if got != expected {
            wrong.push(format!("{what}: heard {got}, expected {expected}"));
        }
    }
    assert!(wrong.is_empty(), "{wrong:#?}");
    a.stop_speaking();
    b.stop_speaking();
    lead_far.stop_speaking();
    h.sip.hang_up(&lead);
    h.sip.tear_down(&pinned_a);
    h.sip.tear_down(&pinned_b);
    trunk.passed().await;
    phones.passed().await;
}
