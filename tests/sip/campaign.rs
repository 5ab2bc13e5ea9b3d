//! The dialer end to end on the `sip` provider: a campaign of five leads
//! on a sipp trunk (three answer and talk at 440 Hz, one is busy, one
//! rings out) and two agents on baresip softphones, through the API on
//! the real clock. Every answered lead is bridged to an agent, who hears
//! the connect tone and then the lead; the rest get their outcomes;
//! wrap-ups work as on the sim.

use std::time::{Duration, Instant};

use chrono::Timelike;
use pinline::config::MediaKind;
use pinline::media::sip::SipConfig;
use pinline_tests::dialer::Floor;
use pinline_tests::{Backend, engine_tests};
use serde_json::json;

use crate::audio;
use crate::baresip::Baresip;
use crate::peers::Sipp;

/// Numbers in a zone where it is now between 09:00 and 20:00, so the
/// legal calling window (08:00–21:00 at the lead) is open whenever the
/// test runs: Tokyo, London or Los Angeles. Each ends in 1 … 5.
pub fn numbers_open_now() -> (&'static str, [&'static str; 5]) {
    let h = chrono::Utc::now().hour();
    if h < 9 {
        (
            "Asia/Tokyo",
            [
                "+81312345671",
                "+81312345672",
                "+81312345673",
                "+81312345674",
                "+81312345675",
            ],
        )
    } else if h < 18 {
        (
            "Europe/London",
            [
                "+442079460011",
                "+442079460012",
                "+442079460013",
                "+442079460014",
                "+442079460015",
            ],
        )
    } else {
        (
            "America/Los_Angeles",
            [
                "+12135550201",
                "+12135550202",
                "+12135550203",
                "+12135550204",
                "+12135550205",
            ],
        )
    }
}

/// The trunk: numbers ending 1–3 ring 1 s, answer and stream 440 Hz until
/// our BYE; 4 is busy; 5 rings until our CANCEL.
fn trunk_scenario() -> String {
    const HEAD: &str = "[last_Via:]\n[last_From:]\n[last_To:];tag=[pid]SIPpTag01[call_number]\n[last_Call-ID:]\n[last_CSeq:]";
    let resp = |code: &str| {
        format!("  <send><![CDATA[\nSIP/2.0 {code}\n{HEAD}\nContent-Length: 0\n\n]]></send>\n")
    };
    let mut x = String::from(
        "<?xml version=\"1.0\" encoding=\"ISO-8859-1\" ?>\n<scenario name=\"trunk\">\n\
  <recv request=\"INVITE\">\n    <action>\n\
      <ereg regexp=\"INVITE sip:[+0-9]*([0-9])@\" search_in=\"msg\" check_it=\"true\" assign_to=\"d0,last\"/>\n\
      <ereg regexp=\"CSeq: *([0-9]+)\" search_in=\"msg\" check_it=\"true\" assign_to=\"d1,invite_cseq\"/>\n\
      <todouble assign_to=\"n\" variable=\"last\"/>\n\
      <test assign_to=\"busy\" variable=\"n\" compare=\"equal\" value=\"4\"/>\n\
      <test assign_to=\"silent\" variable=\"n\" compare=\"equal\" value=\"5\"/>\n\
    </action>\n  </recv>\n",
    );
    x += &resp("100 Trying");
    x += "  <nop test=\"busy\" next=\"busy\"/>\n";
    x += &resp("180 Ringing");
    x += "  <nop test=\"silent\" next=\"silent\"/>\n  <pause milliseconds=\"1000\"/>\n";
    x += &format!(
        "  <send retrans=\"500\"><![CDATA[\nSIP/2.0 200 OK\n{HEAD}\nContact: <sip:lead@[local_ip]:[local_port]>\nContent-Type: application/sdp\nContent-Length: [len]\n\nv=0\no=lead 1 1 IN IP4 [media_ip]\ns=-\nc=IN IP4 [media_ip]\nt=0 0\nm=audio [media_port] RTP/AVP 0\na=rtpmap:0 PCMU/8000\n]]></send>\n"
    );
    x += "  <recv request=\"ACK\"/>\n  <nop><action><exec rtp_stream=\"lead.ulaw,-1,0\"/></action></nop>\n";
    x += "  <recv request=\"BYE\"/>\n";
    x += &resp("200 OK");
    x += "  <nop next=\"end\"/>\n  <label id=\"busy\"/>\n";
    x += &resp("486 Busy Here");
    x += "  <recv request=\"ACK\" next=\"end\"/>\n  <label id=\"silent\"/>\n  <recv request=\"CANCEL\"/>\n";
    x += &resp("200 OK");
    x += "  <send><![CDATA[\nSIP/2.0 487 Request Terminated\n[last_Via:]\n[last_From:]\n[last_To:];tag=[pid]SIPpTag01[call_number]\n[last_Call-ID:]\nCSeq: [$invite_cseq] INVITE\nContent-Length: 0\n\n]]></send>\n";

    x += "  <recv request=\"ACK\"/>\n  <label id=\"end\"/>\n";
    x += "  <Reference variables=\"d0,d1,n\"/>\n</scenario>\n";
    x
}

engine_tests!(
    a_campaign_runs_over_sipp_leads_and_baresip_agents,
    conferences_and_warm_transfers_to_numbers_work_on_sip_legs,
);

/// A floor on the `sip` provider: `trunk` for leads, `phones[i]` for
/// demo agent i+1, a PROGRESSIVE campaign of `numbers`.
async fn sip_floor(
    backend: Backend,
    trunk: &Sipp,
    phones: &[Baresip],
    numbers: &[&str],
    agents: usize,
) -> Floor {
    let mut sip = SipConfig::new(
        "127.0.0.1:0".parse().expect("addr"),
        &trunk.addr.to_string(),
    );
    let lo = crate::provider::port_block();
    sip.rtp_ports = (lo, lo + 99);
    sip.browser_wait = Duration::from_secs(2);
    for (i, p) in phones.iter().enumerate() {
        sip.agent_phones
            .insert(format!("agent{}@demo.pinline.test", i + 1), p.uri());
    }
    let (zone, _) = numbers_open_now();
    let leads = numbers
        .iter()
        .map(|n| json!({"phone": n, "firstName": "Lead", "lastName": n, "timeZone": zone}))
        .collect();
    Floor::new_with(
        backend,
        move |c| c.media = MediaKind::Sip(Box::new(sip)),
        json!({"dialMode": "PROGRESSIVE", "ringTimeoutSeconds": 15}),
        leads,
        agents,
    )
    .await
}

/// Wait (up to 10 s) for a call to show `step` `times` times.
async fn until_step(f: &mut Floor, id: &str, step: &str, times: usize) {
    for _ in 0..100 {
        if f.steps_of(id).iter().filter(|s| *s == step).count() >= times {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("no {step}: {:?}", f.steps_of(id));
}

/// Adding a participant and a warm transfer to an outside number on real
/// legs: the participant joins the call (the provider mixes it, see
/// `conference.rs` for what each party hears), the consulted number
/// answers and talks with the agent while the lead holds, and hanging up
/// completes the transfer: the call ends TRANSFERRED for the agent while
/// the outside parties stay connected (until the server stops here).
async fn conferences_and_warm_transfers_to_numbers_work_on_sip_legs(backend: Backend) {
    // The lead, the participant and the consulted number all answer.
    let trunk = Sipp::uas(
        &trunk_scenario(),
        3,
        &[("lead.ulaw", audio::ulaw_tone(440.0, 2000))],
    );
    let phones = [Baresip::start("agent1", 1200).await];
    let (_, numbers) = numbers_open_now();
    let mut f = sip_floor(backend, &trunk, &phones, &numbers[..1], 1).await;
    f.set_status(0, "AVAILABLE").await;
    // baresip answers the pinned leg (slower on a loaded machine).
    for _ in 0..200 {
        if f.presence(0).await["pinnedLeg"]["state"] == "IDLE" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    f.start_campaign().await;
    let mut id = String::new();
    for _ in 0..300 {
        let c = f.active_call(0).await;
        if c["state"] == "CONNECTED" {
            id = c["id"].as_str().expect("id").to_owned();
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(!id.is_empty(), "the lead reached the agent");
    let v = json!({"c": id});

    f.agent_ok(
        0,
        "mutation($c:ID!){addParticipant(input:{callId:$c,phone:\"+12025550271\"})}",
        v.clone(),
    )
    .await;
    until_step(&mut f, &id, "PARTICIPANT_JOINED", 1).await;
    let c = f.call(&id).await;
    assert_eq!(c["state"], "CONNECTED", "{c}");
    assert!(!c.to_string().contains("PARTICIPANT_FAILED"), "{c}");

    let transfer = "mutation($c:ID!,$to:TransferTargetInput!,$m:TransferMode!){transferCall(input:{callId:$c,to:$to,mode:$m})}";
    f.agent_ok(
        0,
        transfer,
        json!({"c": id, "to": {"phone": "+12025550272"}, "m": "WARM"}),
    )
    .await;
    // Started, then the consulted number answered (and was joined).
    until_step(&mut f, &id, "TRANSFER_STARTED", 2).await;
    assert_eq!(f.call(&id).await["state"], "TRANSFERRING");
    // Hanging up completes the warm transfer.
    f.hang_up(0, &id).await;
    until_step(&mut f, &id, "ENDED", 1).await;
    let c = f.call(&id).await;
    assert_eq!(c["outcome"], "TRANSFERRED", "{c}");
    assert!(!c.to_string().contains("TRANSFER_FAILED"), "{c}");
    if f.presence(0).await["status"] == "WRAP_UP" {
        f.wrap_up(0, &id, "INTERESTED").await;
    }
    f.set_status(0, "OFFLINE").await;
    // The outside parties talk on without the agent; the server's stop
    // ends their calls. Every one of the three got its BYE.
    f.srv.app.media.shut_down();
    trunk.passed().await;
    f.finish().await;
}

async fn a_campaign_runs_over_sipp_leads_and_baresip_agents(backend: Backend) {
    let trunk = Sipp::uas(
        &trunk_scenario(),
        5,
        &[("lead.ulaw", audio::ulaw_tone(440.0, 2000))],
    );
    let phones = [
        Baresip::start("agent1", 1200).await,
        Baresip::start("agent2", 1000).await,
    ];
    let (_, numbers) = numbers_open_now();
    let mut f = sip_floor(backend, &trunk, &phones, &numbers, 3).await;
    // Agent 3 has no phone: their pinned leg is a browser one, waiting
    // for their page; no page opens it, so they go on Break with why.
    let p = f.set_status(2, "AVAILABLE").await;
    assert_eq!(p["pinnedLeg"]["kind"], "BROWSER", "{p}");
    assert_eq!(p["pinnedLeg"]["state"], "CONNECTING", "{p}");
    for i in 0..2 {
        let p = f.set_status(i, "AVAILABLE").await;
        assert_eq!(p["pinnedLeg"]["state"], "CONNECTING", "{p}");
    }
    // baresip answers: each pinned leg comes up. A baresip still starting
    // on a loaded machine catches a retransmitted INVITE (the transaction
    // lives 32 s, timer B): a CI run waited more than 10 s for one.
    let deadline = Instant::now() + Duration::from_secs(30);
    for i in 0..2 {
        loop {
            let p = f.presence(i).await;
            if p["pinnedLeg"]["state"] == "IDLE" {
                break;
            }
            assert!(Instant::now() < deadline, "agent {i}'s pinned leg: {p}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    f.start_campaign().await;
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let p = f.presence(2).await;
        if p["status"] == "BREAK" {
            assert_eq!(
                p["reason"], "the agent's page did not open the audio leg within 2 s",
                "{p}"
            );
            assert!(p["pinnedLeg"].is_null(), "{p}");
            break;
        }
        assert_eq!(p["status"], "AVAILABLE", "{p}");
        assert!(
            Instant::now() < deadline,
            "agent 3 never went on Break: {p}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // Each agent talks 1.5 s with whoever they get, hangs up, wraps up.
    let mut connected: Vec<(usize, String)> = Vec::new();
    let mut since: [Option<(String, Instant)>; 2] = [None, None];
    let deadline = Instant::now() + Duration::from_secs(60);
    while connected.len() < 3 {
        assert!(
            Instant::now() < deadline,
            "only {} calls reached agents",
            connected.len()
        );
        for (i, slot) in since.iter_mut().enumerate() {
            match slot {
                None => {
                    let c = f.active_call(i).await;
                    if c["state"] == "CONNECTED" {
                        let id = c["id"].as_str().expect("id").to_owned();
                        connected.push((i, id.clone()));
                        *slot = Some((id, Instant::now()));
                    }
                }
                Some((id, at)) if at.elapsed() >= Duration::from_millis(1500) => {
                    f.hang_up(i, id).await;
                    let w = f.wrap_up(i, id, "INTERESTED").await;
                    assert_eq!(w["wrapUp"]["dispositionCode"], "INTERESTED", "{w}");
                    *slot = None;
                }
                Some(_) => {}
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Finish the last ones, then wait for the busy and unanswered leads.
    for _ in 0..40 {
        for (i, slot) in since.iter_mut().enumerate() {
            if let Some((id, at)) = slot
                && at.elapsed() >= Duration::from_millis(1500)
            {
                f.hang_up(i, id).await;
                f.wrap_up(i, id, "INTERESTED").await;
                *slot = None;
            }
        }
        let leads = f.leads_of(&f.campaign).await;
        if since.iter().all(Option::is_none) && leads.iter().all(|l| l["attempts"] == 1) {
            let done = futures::future::join_all(
                leads
                    .iter()
                    .map(|l| f.lead_by_phone(l["phone"].as_str().unwrap_or(""))),
            )
            .await;
            if done.iter().all(|l| !l["lastOutcome"].is_null()) {
                break;
            }
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    for (n, expected) in
        numbers
            .iter()
            .zip(["COMPLETED", "COMPLETED", "COMPLETED", "BUSY", "NO_ANSWER"])
    {
        let l = f.lead_by_phone(n).await;
        assert_eq!(l["lastOutcome"], expected, "lead {n}: {l}");
    }
    for (_, id) in &connected {
        let c = f.call(id).await;
        assert_eq!(c["wrapUp"]["dispositionCode"], "INTERESTED", "{c}");
        assert_eq!(c["answeredBy"], "HUMAN", "{c}");
        let steps = f.steps_of(id);
        let tone = steps.iter().position(|s| s == "TONE");
        let connected = steps.iter().position(|s| s == "CONNECTED");
        assert!(
            tone.is_some() && tone < connected,
            "the tone, then connected: {steps:?}"
        );
    }
    for i in 0..2 {
        f.set_status(i, "OFFLINE").await;
    }
    trunk.passed().await;

    // What each agent heard: silence while idle, then for each call the
    // tone (660 → 880 Hz) and the lead (440 Hz).
    let mut calls_heard = 0;
    for (i, phone) in phones.into_iter().enumerate() {
        let heard = phone.stop_and_heard().await;
        let chunks: Vec<Vec<i16>> = heard.chunks(160).map(<[i16]>::to_vec).collect();
        let runs = crate::provider::runs(&chunks, &[440.0, 660.0, 880.0, 1000.0, 1200.0]);
        assert_eq!(
            runs.first().map(String::as_str),
            Some("silence"),
            "agent {i}: {runs:?}"
        );
        let tone_then_lead = runs
            .windows(3)
            .filter(|w| w == &["660 Hz", "880 Hz", "440 Hz"])
            .count();
        let took = connected.iter().filter(|(a, _)| *a == i).count();
        eprintln!("agent {i} took {took} calls and heard {runs:?}");
        assert_eq!(
            tone_then_lead, took,
            "agent {i} took {took} calls and heard {runs:?}"
        );
        assert!(
            !runs.iter().any(|r| r == "1000 Hz" || r == "1200 Hz"),
            "no agent hears an agent: {runs:?}"
        );
        calls_heard += tone_then_lead;
    }
    assert_eq!(calls_heard, 3);
    f.finish().await;
}

/// With a real trunk, the 555-0100…0199 numbers the demo and the simulator
/// use are refused as leads, as caller IDs and for manual calls: no one
/// can answer them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fictional_numbers_never_reach_a_real_trunk() {
    let mut sip = SipConfig::new("127.0.0.1:0".parse().expect("addr"), "127.0.0.1:9");
    let lo = crate::provider::port_block();
    sip.rtp_ports = (lo, lo + 99);
    let f = Floor::new_with(
        Backend::Sqlite,
        move |c| c.media = MediaKind::Sip(Box::new(sip)),
        json!({"dialMode": "PREVIEW"}),
        vec![],
        1,
    )
    .await;
    let added = f
        .srv
        .ok(
            Some(&f.sup),
            "mutation($i:AddLeadsInput!){addLeads(input:$i){added rejected{code message}}}",
            json!({"i": {"campaignId": f.campaign, "leads": [{"phone": "+12135550123"}, {"phone": "+12135550223"}]}}),
        )
        .await;
    assert_eq!(added["addLeads"]["added"], 1, "{added}");
    assert_eq!(added["addLeads"]["rejected"][0]["code"], "NUMBER_TYPE");
    let update = f
        .srv
        .gql(
            Some(&f.sup),
            "mutation($i:UpdateCampaignInput!){updateCampaign(input:$i){campaign{callerId}}}",
            json!({"i": {"id": f.campaign, "callerId": "+14155550100"}}),
        )
        .await;
    assert_eq!(
        update["errors"][0]["extensions"]["field"], "callerId",
        "{update}"
    );
    f.set_status(0, "AVAILABLE").await;
    let placed = f
        .srv
        .gql(
            Some(&f.agents[0].token),
            "mutation($cc:ID!,$p:String!){placeCall(input:{contactCenterId:$cc,phone:$p}){call{id}}}",
            json!({"cc": f.cc, "p": "+12135550123"}),
        )
        .await;
    assert_eq!(
        placed["errors"][0]["extensions"]["code"], "VALIDATION",
        "{placed}"
    );
    f.finish().await;
}
