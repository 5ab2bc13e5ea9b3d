//! The browser pinned leg, end to end: `pinline serve --media sip` with no
//! phone set for the agent, the release web app in headless Chromium with a
//! fake microphone (a 1000 Hz tone), a lead played by sipp whose audio is a
//! test-owned RTP socket (it answers the agent at 440 Hz). What the agent
//! hears is read from the page's own WebAudio analysis (`data-heard`);
//! what the lead hears from its RTP socket.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use pinline_tests::browser::{Browser, web_dist};
use pinline_tests::serve::Served;
use serde_json::{Value, json};

use pinline::config::MediaKind;
use pinline::media::sip::SipConfig;
use pinline_tests::Backend;
use pinline_tests::dialer::Floor;
use pinline_tests::engine_tests;

use crate::audio;
use crate::campaign::numbers_open_now;
use crate::peers::{Media, RtpPeer, Sipp};

/// A 16-bit mono WAV of `secs` of `hz` at 48 kHz (Chromium's fake
/// microphone plays it in a loop).
fn wav_tone(hz: f64, secs: u32) -> Vec<u8> {
    let rate = 48_000u32;
    let n = rate * secs;
    let mut pcm = Vec::with_capacity(n as usize * 2);
    for i in 0..n {
        let v = (0.3
            * (2.0 * std::f64::consts::PI * hz * f64::from(i) / f64::from(rate)).sin()
            * 32767.0) as i16;
        pcm.extend_from_slice(&v.to_le_bytes());
    }
    let mut w = Vec::new();
    w.extend_from_slice(b"RIFF");
    w.extend_from_slice(&(36 + pcm.len() as u32).to_le_bytes());
    w.extend_from_slice(b"WAVEfmt ");
    w.extend_from_slice(&16u32.to_le_bytes());
    w.extend_from_slice(&1u16.to_le_bytes());
    w.extend_from_slice(&1u16.to_le_bytes());
    w.extend_from_slice(&rate.to_le_bytes());
    w.extend_from_slice(&(rate * 2).to_le_bytes());
    w.extend_from_slice(&2u16.to_le_bytes());
    w.extend_from_slice(&16u16.to_le_bytes());
    w.extend_from_slice(b"data");
    w.extend_from_slice(&(pcm.len() as u32).to_le_bytes());
    w.extend_from_slice(&pcm);
    w
}

/// The page's analysis: runs of (what, 21-ms blocks).
async fn heard(b: &Browser) -> Vec<(String, u32)> {
    let text = b
        .js("return document.body.dataset.heard || ''", json!([]))
        .await;
    text.as_str()
        .unwrap_or_default()
        .split_whitespace()
        .filter_map(|run| {
            let (what, n) = run.split_once('*')?;
            Some((what.to_owned(), n.parse().ok()?))
        })
        .collect()
}

/// Wait (up to 20 s) until the page's analysis satisfies `ok`.
async fn until_heard(b: &Browser, what: &str, ok: impl Fn(&[(String, u32)]) -> bool) {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let runs = heard(b).await;
        if ok(&runs) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "the agent's page never heard {what}: {runs:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The runs after the `skip` first ones.
fn after(runs: &[(String, u32)], skip: usize) -> Vec<(String, u32)> {
    runs.iter().skip(skip).cloned().collect()
}

/// What the lead heard over the last `ms`: "silence", "1000 Hz"…
fn lead_hears(peer: &RtpPeer, ms: u64) -> String {
    let since = Instant::now() - Duration::from_millis(ms);
    let samples: Vec<i16> = peer
        .packets()
        .iter()
        .filter(|h| h.at >= since)
        .flat_map(|h| audio::decode(&h.packet.payload))
        .collect();
    if samples.len() < 800 {
        return format!("nothing ({} samples)", samples.len());
    }
    audio::classify(&samples, &[1000.0, 440.0])
}

async fn until_lead_hears(peer: &RtpPeer, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let now = lead_hears(peer, 400);
        if now == what {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "the lead never heard {what}: {now}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn gql_ok(s: &Served, token: &str, query: &str, vars: Value) -> Value {
    s.ok(Some(token), query, vars).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_browser_agent_hears_silence_the_tone_then_the_lead_and_mute_hold_and_reload_work() {
    browser_leg_journey(None).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_browser_agent_s_call_postgres_smoke() {
    let url = pinline_tests::pg::fresh_database().await;
    browser_leg_journey(Some(&url)).await;
    pinline_tests::pg::drop_database(&url).await;
}

async fn browser_leg_journey(db_url: Option<&str>) {
    let mut lead = RtpPeer::bind().await;
    let trunk = Sipp::answering(Duration::from_secs(1), Media::Port(lead.port()), 1);
    let dir = tempfile::tempdir().expect("dir");
    let lo = crate::provider::port_block();
    let dist = web_dist();
    let served = Served::start(
        dir.path(),
        db_url,
        &[
            "--seed-demo",
            "--demo-agents",
            "0",
            "--demo-days",
            "0",
            "--web-dist",
            dist.to_str().expect("utf-8"),
            "--media",
            "sip",
            "--sip-trunk",
            &trunk.addr.to_string(),
            "--sip-bind",
            "127.0.0.1:0",
            "--rtp-ports",
            &format!("{lo}-{}", lo + 99),
        ],
    )
    .await;
    let password = served.password.clone().expect("demo logins");
    let sup = served
        .login("supervisor@demo.pinline.test", &password)
        .await;
    let cc = served.first_contact_center(&sup).await;

    let mic = dir.path().join("agent-mic.wav");
    std::fs::write(&mic, wav_tone(1000.0, 3)).expect("the fake microphone");
    let b = Browser::start_with(
        1280,
        900,
        &[
            "--use-fake-ui-for-media-stream".into(),
            "--use-fake-device-for-media-stream".into(),
            format!("--use-file-for-fake-audio-capture={}", mic.display()),
            "--allow-loopback-in-peer-connection".into(),
        ],
    )
    .await;
    b.sign_in(&served.url, "agent1@demo.pinline.test", &password)
        .await;
    b.click("#go-available").await;
    b.wait_attr("#agent-status", "data-status", "AVAILABLE")
        .await;
    // The page opens the leg itself: up when DTLS is.
    b.wait_attr("#pinned-leg", "data-kind", "BROWSER").await;
    b.wait_attr("#pinned-leg", "data-state", "IDLE").await;
    b.wait_attr("body", "data-rtc", "connected").await;
    assert!(
        b.text("#pinned-leg").await.contains("this browser"),
        "{}",
        b.text("#pinned-leg").await
    );
    // Idle: silence, and only silence, for a while.
    until_heard(&b, "a second of silence", |r| {
        r.len() == 1 && r[0].0 == "silence" && r[0].1 >= 45
    })
    .await;
    assert!(
        lead.packets().is_empty(),
        "nothing goes anywhere before a call"
    );

    // One lead, progressive: it answers after 1 s.
    let (zone, numbers) = numbers_open_now();
    let campaign = gql_ok(
        &served,
        &sup,
        "mutation($i:CreateCampaignInput!){createCampaign(input:$i){campaign{id}}}",
        json!({"i": {"contactCenterId": cc, "name": "WebRTC", "dialMode": "PROGRESSIVE",
                     "callerId": "+14155550200", "ringTimeoutSeconds": 20}}),
    )
    .await["createCampaign"]["campaign"]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    gql_ok(
        &served,
        &sup,
        "mutation($i:AddLeadsInput!){addLeads(input:$i){added}}",
        json!({"i": {"campaignId": campaign, "leads": [
            {"phone": numbers[0], "firstName": "Ada", "lastName": "Lead", "timeZone": zone}]}}),
    )
    .await;
    let before = heard(&b).await.len();
    gql_ok(
        &served,
        &sup,
        "mutation($c:ID!){startCampaign(input:{campaignId:$c}){campaign{state}}}",
        json!({"c": campaign}),
    )
    .await;
    b.wait_attr("#pinned-leg", "data-state", "BRIDGED").await;
    // The lead hears the agent's microphone, and talks back at 440 Hz.
    until_lead_hears(&lead, "1000 Hz").await;
    let agent_rtp: SocketAddr = lead.source().expect("the server's RTP address");
    lead.speak(agent_rtp, 440.0);
    // The agent: silence, the chime (660 then 880 Hz; under load Chrome's
    // jitter buffer may squeeze one note), then the lead.
    until_heard(&b, "the tone then the lead", |r| {
        let new = after(r, before.saturating_sub(1));
        let tone = new.iter().position(|(w, _)| w == "660" || w == "880");
        let lead = new.iter().position(|(w, _)| w == "440");
        matches!((tone, lead, new.last()),
            (Some(t), Some(l), Some((w, n))) if t < l && w == "440" && *n >= 20)
    })
    .await;
    let new = after(&heard(&b).await, before.saturating_sub(1));
    eprintln!("the agent heard, from the call's start: {new:?}");
    assert_eq!(new[0].0, "silence", "{new:?}");
    let tone: u32 = new
        .iter()
        .filter(|(w, _)| w == "660" || w == "880")
        .map(|(_, n)| n)
        .sum();
    // The page analyses on its main thread: on a loaded machine some
    // blocks come out as gaps, so the chime may show shorter than it is;
    // and Chrome's jitter buffer stretches audio when packets arrive
    // late (a CI run heard 13 blocks), so it may show up to twice as long.
    // What matters: a short chime, then the lead.
    assert!(
        (1..=16).contains(&tone),
        "the chime lasts 150 ms (about 7 blocks), heard {tone}: {new:?}"
    );

    // Mute: the lead hears silence; unmuted, the agent again.
    b.click("#mute").await;
    b.wait_attr("#mute", "aria-pressed", "true").await;
    until_lead_hears(&lead, "silence").await;
    b.click("#mute").await;
    b.wait_attr("#mute", "aria-pressed", "false").await;
    until_lead_hears(&lead, "1000 Hz").await;
    // Hold: the lead hears silence; the agent still hears the lead.
    b.click("#hold").await;
    b.wait_attr("#hold", "aria-pressed", "true").await;
    until_lead_hears(&lead, "silence").await;
    let count = |r: &[(String, u32)], what: &str| -> u32 {
        r.iter().filter(|(w, _)| w == what).map(|(_, n)| n).sum()
    };
    let at_hold = heard(&b).await;
    // Twenty more packets of the lead (0.4 s of audio), however slowly a
    // loaded machine delivers them.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    let r = loop {
        let r = heard(&b).await;
        if count(&r, "440") >= count(&at_hold, "440") + 20 || tokio::time::Instant::now() > deadline
        {
            break r;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert!(
        count(&r, "440") >= count(&at_hold, "440") + 20
            && count(&r, "silence") == count(&at_hold, "silence"),
        "on hold the agent still hears the lead: {r:?}"
    );
    b.click("#hold").await;
    b.wait_attr("#hold", "aria-pressed", "false").await;
    until_lead_hears(&lead, "1000 Hz").await;

    // A reload mid-call: the page opens the leg again and hears the lead.
    b.js("location.reload()", json!([])).await;
    b.wait("[data-link=open]").await;
    b.wait_attr("body", "data-rtc", "connected").await;
    b.wait_attr("#pinned-leg", "data-state", "BRIDGED").await;
    until_heard(&b, "the lead again after the reload", |r| {
        r.last().is_some_and(|(w, n)| w == "440" && *n >= 20)
    })
    .await;
    until_lead_hears(&lead, "1000 Hz").await;

    // Hang up: back to silence (the leg stays), the lead gets our BYE.
    b.click("#hang-up").await;
    b.wait("#wrap-up").await;
    until_heard(&b, "silence after the call", |r| {
        r.last().is_some_and(|(w, n)| w == "silence" && *n >= 20)
    })
    .await;
    trunk.passed().await;
    lead.stop_speaking();
    let p = served
        .ok(
            Some(&served.login("agent1@demo.pinline.test", &password).await),
            "{ myPresence { status pinnedLeg { state kind } } }",
            json!({}),
        )
        .await;
    assert_eq!(p["myPresence"]["status"], "WRAP_UP", "{p}");
    assert_eq!(p["myPresence"]["pinnedLeg"]["state"], "IDLE", "{p}");
    b.close().await;
    assert!(served.stop().await, "serve stops cleanly");
}

engine_tests!(an_sdp_offer_is_answered_as_ice_lite_pcmu_or_refused_with_why);

/// Two servers on one PostgreSQL: the page's offer reaches the server
/// that runs the agent's center (its media carries the leg), whichever
/// server the page asked — the answer's candidate is from that server's
/// RTP pool.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_browser_offer_to_another_server_is_answered_by_the_centers_owner() {
    let sip = |lo: u16| {
        let mut sip = SipConfig::new(
            "127.0.0.1:0".parse().expect("addr"),
            &format!("127.0.0.1:{}", crate::peers::free_udp_port()),
        );
        sip.rtp_ports = (lo, lo + 99);
        MediaKind::Sip(Box::new(sip))
    };
    let (lo_a, lo_b) = (crate::provider::port_block(), crate::provider::port_block());
    let f = Floor::new_with(
        Backend::Postgres,
        move |c| c.media = sip(lo_a),
        json!({}),
        vec![],
        1,
    )
    .await;
    let db = f.srv.app.db.clone();
    let deadline = Instant::now() + Duration::from_secs(10);
    while pinline::store::leases::holder(&db, &f.cc)
        .await
        .expect("holder")
        .as_deref()
        != Some(f.srv.app.instance.as_str())
    {
        assert!(Instant::now() < deadline, "the center runs on A");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let shared = f.srv.database_url.clone();
    let b = pinline_tests::TestServer::start_with(Backend::Postgres, move |c| {
        c.database_url = Some(shared);
        c.media = sip(lo_b);
    })
    .await;
    let token = f.agents[0].token.clone();
    let set = b
        .ok(
            Some(&token),
            "mutation($cc:ID!){setAgentStatus(input:{contactCenterId:$cc,status:AVAILABLE}){presence{pinnedLeg{kind state}}}}",
            json!({"cc": f.cc}),
        )
        .await;
    assert_eq!(
        set["setAgentStatus"]["presence"]["pinnedLeg"]["kind"], "BROWSER",
        "{set}"
    );
    let body = b
        .gql(
            Some(&token),
            "mutation($sdp:String!){connectPinnedLeg(input:{sdpOffer:$sdp}){sdpAnswer}}",
            json!({"sdp": offer("0", "a=rtpmap:0 PCMU/8000\r\n")}),
        )
        .await;
    let answer = body["data"]["connectPinnedLeg"]["sdpAnswer"]
        .as_str()
        .unwrap_or_else(|| panic!("an answer: {body}"));
    let port = answer
        .lines()
        .find(|l| l.starts_with("a=candidate:"))
        .and_then(|l| l.split_whitespace().nth(5))
        .and_then(|p| p.parse::<u16>().ok())
        .unwrap_or_else(|| panic!("a candidate: {answer}"));
    assert!(
        (lo_a..=lo_a + 99).contains(&port),
        "a candidate of A's (the owner's) RTP pool, not B's: {port}"
    );
    b.finish().await;
    f.finish().await;
}

/// A browser's offer, reduced to what WebRTC requires, with `codecs` as
/// the audio line's formats and `rtpmap`s.
fn offer(codecs: &str, rtpmaps: &str) -> String {
    let fingerprint = (0..32)
        .map(|i| format!("{:02X}", i * 7 % 256))
        .collect::<Vec<_>>()
        .join(":");
    format!(
        "v=0\r\no=- 4611731400430051336 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=group:BUNDLE 0\r\n\
         a=msid-semantic: WMS\r\nm=audio 9 UDP/TLS/RTP/SAVPF {codecs}\r\nc=IN IP4 0.0.0.0\r\n\
         a=rtcp:9 IN IP4 0.0.0.0\r\na=ice-ufrag:Wq7e\r\na=ice-pwd:Yc2cLxlM0tV1mbjbXHKsT6J3\r\n\
         a=ice-options:trickle\r\na=fingerprint:sha-256 {fingerprint}\r\na=setup:actpass\r\n\
         a=mid:0\r\na=sendrecv\r\na=msid:- 7f0e8c1a-6b1d-4a36-9d43-2f7b8c9d0e1f\r\na=rtcp-mux\r\n\
         {rtpmaps}a=ssrc:1001 cname:pinline-test\r\n"
    )
}

/// The mutation on a BROWSER leg, without a browser: a usable offer gets
/// an ICE-lite answer with PCMU and the server's one candidate; what cannot
/// be used is refused on `sdpOffer` with why.
async fn an_sdp_offer_is_answered_as_ice_lite_pcmu_or_refused_with_why(backend: Backend) {
    let lo = crate::provider::port_block();
    let mut sip = SipConfig::new(
        "127.0.0.1:0".parse().expect("addr"),
        &format!("127.0.0.1:{}", crate::peers::free_udp_port()),
    );
    sip.rtp_ports = (lo, lo + 99);
    let f = Floor::new_with(
        backend,
        move |c| c.media = MediaKind::Sip(Box::new(sip)),
        json!({}),
        vec![],
        1,
    )
    .await;
    let p = f.set_status(0, "AVAILABLE").await;
    assert_eq!(p["pinnedLeg"]["kind"], "BROWSER", "{p}");
    assert_eq!(p["pinnedLeg"]["state"], "CONNECTING", "{p}");
    let connect = |sdp: String| {
        let token = f.agents[0].token.clone();
        let srv = &f.srv;
        async move {
            srv.gql(
                Some(&token),
                "mutation($sdp:String!){connectPinnedLeg(input:{sdpOffer:$sdp}){sdpAnswer pinnedLeg{kind state}}}",
                json!({"sdp": sdp}),
            )
            .await
        }
    };
    for (sdp, why) in [
        ("hello".to_owned(), "not an SDP offer"),
        (
            offer("111", "a=rtpmap:111 opus/48000/2\r\n"),
            "the offer has no audio in PCMU",
        ),
        // Refused at the edge, by the input limits, before the resolver.
        ("v=0\r\n".repeat(20_000), "must be at most 65536 characters"),
    ] {
        let body = connect(sdp).await;
        assert_eq!(
            pinline_tests::error_code(&body).as_deref(),
            Some("VALIDATION"),
            "{body}"
        );
        assert_eq!(
            body["errors"][0]["extensions"]["field"], "sdpOffer",
            "{body}"
        );
        assert!(body.to_string().contains(why), "{why}: {body}");
    }
    let body = connect(offer(
        "111 0 8",
        "a=rtpmap:111 opus/48000/2\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:8 PCMA/8000\r\n",
    ))
    .await;
    let answer = body["data"]["connectPinnedLeg"]["sdpAnswer"]
        .as_str()
        .unwrap_or_else(|| panic!("an answer: {body}"));
    assert!(answer.contains("a=ice-lite"), "{answer}");
    assert!(answer.contains("a=rtpmap:0 PCMU/8000"), "{answer}");
    assert!(
        !answer.contains("opus") && !answer.contains("PCMA"),
        "{answer}"
    );
    let port_in_range = answer.lines().any(|l| {
        l.starts_with("a=candidate:")
            && l.contains(" 127.0.0.1 ")
            && l.split_whitespace()
                .nth(5)
                .and_then(|p| p.parse::<u16>().ok())
                .is_some_and(|p| (lo..=lo + 99).contains(&p))
    });
    assert!(
        port_in_range,
        "one host candidate from the RTP pool: {answer}"
    );
    assert_eq!(
        body["data"]["connectPinnedLeg"]["pinnedLeg"],
        json!({"kind": "BROWSER", "state": "CONNECTING"})
    );
    f.finish().await;
}
