//! The dialer engine on a manual clock, through the API (and the engine's
//! clock and connection hooks): pinned legs, routing with the tone first,
//! abandonment, the last check before dialing, outcomes and retries, the
//! wrap-up limit, preview, callbacks for a named agent, manual calls.

use pinline_tests::dialer::{Floor, lead};
use pinline_tests::{Backend, engine_tests};
use serde_json::{Value, json};

engine_tests!(
    the_pinned_leg_follows_presence,
    a_human_answer_reaches_the_idle_agent_tone_first,
);

async fn the_pinned_leg_follows_presence(backend: Backend) {
    let mut f = Floor::new(backend, json!({}), vec![], 1).await;
    let p = f.set_status(0, "AVAILABLE").await;
    assert_eq!(p["status"], "AVAILABLE");
    assert_eq!(p["pinnedLeg"]["state"], "CONNECTING");
    f.advance(1).await;
    let p = f.presence(0).await;
    assert_eq!(p["pinnedLeg"]["state"], "IDLE", "{p}");
    let leg = p["pinnedLeg"]["id"].clone();

    // BREAK tears it down; AVAILABLE brings a new one.
    let p = f.set_status(0, "BREAK").await;
    assert_eq!(
        (p["status"].as_str(), &p["pinnedLeg"]),
        (Some("BREAK"), &json!(null))
    );
    let p = f.set_status(0, "AVAILABLE").await;
    assert_ne!(p["pinnedLeg"]["id"], leg);
    // OFFLINE too.
    let p = f.set_status(0, "OFFLINE").await;
    assert_eq!(p["pinnedLeg"], json!(null));
    // Logout ends it and leaves the agent OFFLINE.
    f.set_status(0, "AVAILABLE").await;
    f.agent_ok(0, "mutation { logout }", json!({})).await;
    let p = f
        .srv
        .app
        .engine
        .presence(&f.agents[0].id)
        .await
        .expect("engine")
        .expect("known");
    assert_eq!(p.status.as_str(), "OFFLINE");
    assert!(p.pinned_leg.is_none());

    // No live connection for the grace period: OFFLINE, leg gone.
    let token = f.srv.login_demo("agent1").await;
    f.agents[0].token = token;
    f.set_status(0, "AVAILABLE").await;
    f.srv.app.engine.connection(&f.agents[0].id, false);
    f.advance(29).await;
    assert_eq!(
        f.presence(0).await["status"],
        "AVAILABLE",
        "still inside the grace period"
    );
    f.advance(2).await;
    let p = f.presence(0).await;
    assert_eq!(
        (p["status"].as_str(), &p["pinnedLeg"]),
        (Some("OFFLINE"), &json!(null)),
        "{p}"
    );
    // Illegal moves are CONFLICT.
    f.srv.app.engine.connection(&f.agents[0].id, true);
    let code = f
        .agent_err(
            0,
            "mutation($cc:ID!){setAgentStatus(input:{contactCenterId:$cc,status:ON_CALL}){presence{status}}}",
            json!({"cc": f.cc}),
        )
        .await;
    assert_eq!(code, "CONFLICT");
    f.finish().await;
}

async fn a_human_answer_reaches_the_idle_agent_tone_first(backend: Backend) {
    let mut f = Floor::new(
        backend,
        json!({}),
        vec![lead("+12025550101", "human", 3, 30)],
        1,
    )
    .await;
    f.start_campaign().await;
    f.set_status(0, "AVAILABLE").await;
    f.advance(2).await;
    let calls = f.calls_seen();
    assert_eq!(calls.len(), 1, "one call for one idle agent");
    assert_eq!(
        f.presence(0).await["status"],
        "AVAILABLE",
        "ringing: not on the call yet"
    );
    f.advance(3).await;
    let call = f.active_call(0).await;
    assert_eq!(call["state"], "CONNECTED", "{call}");
    assert_eq!(
        (call["origin"].as_str(), call["dialer"].as_bool()),
        (Some("DIALER"), Some(true))
    );
    assert_eq!(
        call["lead"]["customProperties"][0],
        json!({"key": "plan", "value": "gold"})
    );
    let p = f.presence(0).await;
    assert_eq!(
        (p["status"].as_str(), p["pinnedLeg"]["state"].as_str()),
        (Some("ON_CALL"), Some("BRIDGED"))
    );
    let steps = f.steps_of(&calls[0]);
    let tone = steps.iter().position(|s| s == "TONE").expect("tone");
    let connected = steps
        .iter()
        .position(|s| s == "CONNECTED")
        .expect("connected");
    assert!(tone < connected, "{steps:?}");
    assert_eq!(
        &steps[..5],
        ["DIALING", "RINGING", "ANSWERED", "TONE", "CONNECTED"],
        "{steps:?}"
    );

    // The lead hangs up after 30 s: wrap-up, leg back to idle.
    f.advance(30).await;
    let p = f.presence(0).await;
    assert_eq!(
        (p["status"].as_str(), p["pinnedLeg"]["state"].as_str()),
        (Some("WRAP_UP"), Some("IDLE")),
        "{p}"
    );
    assert_eq!(p["wrapUpCall"]["id"].as_str(), Some(calls[0].as_str()));
    let c = f.call(&calls[0]).await;
    assert_eq!(
        (c["state"].as_str(), c["outcome"].as_str()),
        (Some("ENDED"), Some("COMPLETED")),
        "{c}"
    );
    let steps = f.steps_of(&calls[0]);
    assert!(
        steps.ends_with(&["ENDED".into(), "WRAP_UP_REQUIRED".into()]),
        "{steps:?}"
    );
    // No new call reaches an agent in wrap-up.
    f.advance(10).await;
    assert_eq!(f.calls_seen().len(), 1);
    let w = f.wrap_up(0, &calls[0], "INTERESTED").await;
    assert_eq!(w["presence"]["status"], "AVAILABLE");
    // Retried: the stored one comes back, nothing new.
    let again = f.wrap_up(0, &calls[0], "INTERESTED").await;
    assert_eq!(again["wrapUp"]["id"], w["wrapUp"]["id"]);
    let l = f.lead_by_phone("+12025550101").await;
    assert_eq!(
        (l["status"].as_str(), l["attempts"].as_i64()),
        (Some("FINISHED"), Some(1)),
        "{l}"
    );
    f.finish().await;
}

engine_tests!(
    an_abandoned_number_is_locked_out_in_every_predictive_campaign,
    no_agent_free_means_abandoned_with_safe_harbor_and_a_lockout_only_when_predictive,
    a_number_listed_between_claim_and_dial_is_not_called,
    unanswered_outcomes_are_recorded_and_retried,
    the_wrap_up_limit_records_an_automatic_disposition,
    progressive_never_has_more_calls_in_flight_than_idle_agents,
    a_callback_for_a_named_agent_goes_to_that_agent,
    manual_calls_are_manual_and_pass_the_gate,
    preview_offers_wait_for_the_agent_and_leave_with_them,
    the_pacer_ends_calls_rung_15_s_when_no_agent_will_be_free,
);

/// The agent steps away while the call rings: nobody takes the answer.
async fn abandon_one(mode: &str, backend: Backend) -> (String, String) {
    let mut f = Floor::new(
        backend,
        if mode == "PREDICTIVE" {
            json!({"dialMode": mode})
        } else {
            json!({"dialMode": mode, "retryDelays": {"abandonedMinutes": 1}})
        },
        vec![lead("+12025550111", "human", 5, 30)],
        1,
    )
    .await;
    f.start_campaign().await;
    f.set_status(0, "AVAILABLE").await;
    f.advance(1).await;
    let call = f.calls_seen()[0].clone();
    f.set_status(0, "BREAK").await;
    f.advance(5).await;
    assert_eq!(
        f.call(&call).await["state"],
        "ANSWERED",
        "waiting for an agent"
    );
    f.advance(1).await;
    assert_eq!(
        f.call(&call).await["state"],
        "ANSWERED",
        "still inside the 2 s"
    );
    f.advance(1).await;
    let c = f.call(&call).await;
    assert_eq!(c["outcome"], "ABANDONED", "{c}");
    let steps = f.steps_of(&call);
    assert!(steps.contains(&"SAFE_HARBOR".to_owned()), "{steps:?}");
    let l = f.lead_by_phone("+12025550111").await;
    assert_eq!(l["lastOutcome"], "ABANDONED");
    // After the (1-minute) retry delay: the lockout, or not.
    f.advance(120).await;
    let verdict = f.verdict(l["id"].as_str().expect("id")).await;
    let stats = f
        .srv
        .ok(
            Some(&f.sup),
            "query($c:ID!){campaign(id:$c){stats{attempts abandonRateToday abandonRate30d}}}",
            json!({"c": f.campaign}),
        )
        .await;
    assert_eq!(
        stats["campaign"]["stats"]["abandonRateToday"], 1.0,
        "{stats}"
    );
    f.finish().await;
    (verdict, call)
}

/// Two predictive campaigns hold the same number; a call to it is
/// abandoned in one: the other does not dial it for 72 hours, and both
/// trails say why.
async fn an_abandoned_number_is_locked_out_in_every_predictive_campaign(backend: Backend) {
    let phone = "+12025550111";
    let mut f = Floor::new(
        backend,
        json!({"dialMode": "PREDICTIVE"}),
        vec![lead(phone, "human", 5, 30)],
        2,
    )
    .await;
    // The same number in a predictive campaign of another contact center,
    // running all along (agent 1 works there).
    let (east, east_campaign) = f
        .second_contact_center(phone, json!({"dialMode": "PREDICTIVE"}))
        .await;
    let east_lead = f.leads_of(&east_campaign).await[0]["id"]
        .as_str()
        .expect("lead")
        .to_owned();
    let other = f
        .campaign_in(
            &f.cc.clone(),
            "Same number",
            json!({"dialMode": "PREDICTIVE"}),
        )
        .await;
    f.add_lead(&other, lead(phone, "human", 5, 30)).await;
    let other_lead = f.leads_of(&other).await[0]["id"]
        .as_str()
        .expect("lead")
        .to_owned();
    // The call in the first campaign is abandoned: no agent at answer.
    f.start_campaign().await;
    f.set_status(0, "AVAILABLE").await;
    f.advance(1).await;
    let call = f.calls_seen()[0].clone();
    f.set_status(0, "BREAK").await;
    f.advance(8).await;
    assert_eq!(f.call(&call).await["outcome"], "ABANDONED");
    let t0 = f.srv.app.engine.clock().now();

    // The other campaign runs (one at a time per contact center) with an
    // agent free: its lead is not dialed.
    let first = f.campaign.clone();
    f.lifecycle("pauseCampaign", &first).await;
    f.lifecycle("startCampaign", &other).await;
    f.set_status(0, "AVAILABLE").await;
    for _ in 0..10 {
        f.advance(1).await;
    }
    assert_eq!(
        f.calls_seen(),
        vec![call.clone()],
        "the number was dialed again"
    );
    assert_eq!(f.verdict(&other_lead).await, "ABANDON_LOCKOUT");
    // Nor in the other contact center, with its agent free.
    f.agent_ok(
        1,
        "mutation($cc:ID!){setAgentStatus(input:{contactCenterId:$cc,status:AVAILABLE}){presence{status}}}",
        json!({"cc": east}),
    )
    .await;
    for _ in 0..5 {
        f.advance(1).await;
    }
    assert_eq!(
        f.calls_seen(),
        vec![call.clone()],
        "dialed from the other contact center"
    );
    assert_eq!(f.verdict(&east_lead).await, "ABANDON_LOCKOUT");
    let trail = |campaign: String| {
        let srv = &f.srv;
        let sup = f.sup.clone();
        async move {
            srv.ok(
                Some(&sup),
                "query($c:ID!,$from:DateTime!,$to:DateTime!){complianceTrail(campaignId:$c,from:$from,to:$to,first:50){edges{node{leadId verdict allowed facts}}}}",
                json!({
                    "c": campaign,
                    "from": (t0 - chrono::Duration::hours(1)).to_rfc3339(),
                    "to": (t0 + chrono::Duration::hours(80)).to_rfc3339(),
                }),
            )
            .await["complianceTrail"]["edges"]
                .as_array()
                .expect("edges")
                .iter()
                .map(|e| e["node"].clone())
                .collect::<Vec<Value>>()
        }
    };
    // The other campaign's trail: refused for the lockout, with the
    // number's abandoned call among the facts.
    let theirs = trail(other.clone()).await;
    let refused = theirs
        .iter()
        .find(|r| r["verdict"] == "ABANDON_LOCKOUT")
        .unwrap_or_else(|| panic!("no lockout in the trail: {theirs:?}"));
    assert_eq!(refused["leadId"], other_lead.as_str());
    assert_eq!(refused["allowed"], false);
    let facts: Value =
        serde_json::from_str(refused["facts"].as_str().expect("facts")).expect("JSON facts");
    assert!(facts["number"]["lastAbandonedAt"].is_string(), "{facts}");
    assert!(
        facts["lastAbandonedAt"].is_null(),
        "this lead was never called: {facts}"
    );
    // The first campaign's trail: the call it was allowed to place.
    let ours = trail(first).await;
    assert!(
        ours.iter()
            .any(|r| r["verdict"] == "ELIGIBLE" && r["allowed"] == true),
        "{ours:?}"
    );

    // The lockout lifts 72 hours after the abandoned call (asked at that
    // instant rather than run through: the manual clock steps each second).
    let at = |t: chrono::DateTime<chrono::Utc>| {
        let srv = &f.srv;
        let sup = f.sup.clone();
        let lead = other_lead.clone();
        async move {
            srv.ok(
                Some(&sup),
                "query($l:ID!,$at:DateTime){eligibility(leadId:$l,at:$at){reason}}",
                json!({"l": lead, "at": t.to_rfc3339()}),
            )
            .await["eligibility"]["reason"]
                .as_str()
                .expect("reason")
                .to_owned()
        }
    };
    assert_eq!(
        at(t0 + chrono::Duration::hours(71)).await,
        "ABANDON_LOCKOUT"
    );
    assert_ne!(
        at(t0 + chrono::Duration::hours(72)).await,
        "ABANDON_LOCKOUT"
    );
    f.finish().await;
}

async fn no_agent_free_means_abandoned_with_safe_harbor_and_a_lockout_only_when_predictive(
    backend: Backend,
) {
    let (verdict, _) = abandon_one("PREDICTIVE", backend).await;
    assert_eq!(verdict, "ABANDON_LOCKOUT");
    let (verdict, _) = abandon_one("PROGRESSIVE", backend).await;
    assert_eq!(verdict, "ELIGIBLE", "progressive campaigns may call again");
}

async fn a_number_listed_between_claim_and_dial_is_not_called(backend: Backend) {
    let mut f = Floor::new(
        backend,
        json!({"dialMode": "PREVIEW"}),
        vec![lead("+12025550121", "human", 3, 30)],
        1,
    )
    .await;
    f.start_campaign().await;
    f.set_status(0, "AVAILABLE").await;
    f.advance(1).await;
    let offer = f.calls_seen()[0].clone();
    assert_eq!(f.steps_of(&offer), ["OFFERED"]);
    // Preview dials only on the agent's word.
    f.advance(120).await;
    assert_eq!(f.steps_of(&offer), ["OFFERED"]);
    f.add_dnc("+12025550121").await;
    let r = f
        .agent_ok(
            0,
            "mutation($c:ID!){dialPreview(input:{callId:$c}){call{state outcome}}}",
            json!({"c": offer}),
        )
        .await;
    assert_eq!(r["dialPreview"]["call"]["outcome"], "NOT_DIALED", "{r}");
    let steps = f.steps_of(&offer);
    assert!(!steps.contains(&"DIALING".to_owned()), "{steps:?}");
    let trail = f
        .srv
        .ok(
            Some(&f.sup),
            "query($c:ID!,$from:DateTime!,$to:DateTime!){complianceTrail(campaignId:$c,from:$from,to:$to){edges{node{verdict allowed}}}}",
            json!({"c": f.campaign, "from": "2026-11-24T00:00:00Z", "to": "2026-11-25T00:00:00Z"}),
        )
        .await;
    let verdicts: Vec<&str> = trail["complianceTrail"]["edges"]
        .as_array()
        .expect("edges")
        .iter()
        .filter_map(|e| e["node"]["verdict"].as_str())
        .collect();
    assert_eq!(
        verdicts,
        ["ELIGIBLE", "DNC"],
        "claimed, then refused right before dialing"
    );
    f.finish().await;
}

async fn unanswered_outcomes_are_recorded_and_retried(backend: Backend) {
    let leads = vec![
        lead("+12025550131", "machine", 4, 0),
        lead("+12025550132", "busy", 2, 0),
        lead("+12025550133", "no_answer", 0, 0),
        lead("+12025550134", "failed", 1, 0),
    ];
    let mut f = Floor::new(
        backend,
        json!({"retryDelays": {"machineMinutes": 60, "busyMinutes": 10, "noAnswerMinutes": 30, "failedMinutes": 120}}),
        leads,
        4,
    )
    .await;
    f.start_campaign().await;
    for i in 0..4 {
        f.set_status(i, "AVAILABLE").await;
    }
    f.advance(1).await;
    assert_eq!(f.calls_seen().len(), 4);
    f.advance(30).await;
    for (phone, outcome, minutes) in [
        ("+12025550131", "MACHINE", 60),
        ("+12025550132", "BUSY", 10),
        ("+12025550133", "NO_ANSWER", 30),
        ("+12025550134", "FAILED", 120),
    ] {
        let l = f.lead_by_phone(phone).await;
        assert_eq!(
            (
                l["status"].as_str(),
                l["attempts"].as_i64(),
                l["lastOutcome"].as_str()
            ),
            (Some("RETRY"), Some(1), Some(outcome)),
            "{l}"
        );
        let due: chrono::DateTime<chrono::Utc> =
            l["notBefore"].as_str().expect("due").parse().expect("time");
        let started = pinline_tests::dialer::test_start();
        let after = (due - started).num_minutes();
        assert!(
            (minutes..=minutes + 1).contains(&after),
            "{phone}: due after {after} min"
        );
    }
    // Nobody reached an agent.
    for i in 0..4 {
        assert_eq!(f.presence(i).await["status"], "AVAILABLE");
    }
    f.finish().await;
}

async fn the_wrap_up_limit_records_an_automatic_disposition(backend: Backend) {
    let mut f = Floor::new(
        backend,
        json!({"wrapUpLimitSeconds": 20}),
        vec![lead("+12025550141", "human", 2, 10)],
        1,
    )
    .await;
    f.start_campaign().await;
    f.set_status(0, "AVAILABLE").await;
    f.advance(14).await;
    let call = f.calls_seen()[0].clone();
    assert_eq!(f.presence(0).await["status"], "WRAP_UP");
    // The call ended at 12.2 s (0.2 s leg, 2 s ring, 10 s talk).
    f.advance(17).await;
    assert_eq!(f.presence(0).await["status"], "WRAP_UP");
    f.advance(2).await;
    assert_eq!(f.presence(0).await["status"], "AVAILABLE");
    let c = f.call(&call).await;
    assert_eq!(
        c["wrapUp"],
        json!({"dispositionCode": "NO_DISPOSITION", "automatic": true})
    );
    // Within the edit window the agent's own disposition corrects it;
    // after the window it is too late.
    let w = f.wrap_up(0, &call, "INTERESTED").await;
    assert_eq!(w["wrapUp"]["automatic"], false, "{w}");
    f.advance(6 * 60).await;
    let code = f
        .agent_err(0, "mutation($c:ID!){submitWrapUp(input:{callId:$c,dispositionCode:\"NOT_INTERESTED\"}){wrapUp{id}}}", json!({"c": call}))
        .await;
    assert_eq!(code, "CONFLICT");
    f.finish().await;
}

async fn progressive_never_has_more_calls_in_flight_than_idle_agents(backend: Backend) {
    let leads = (0..30)
        .map(|i| {
            lead(
                &format!("+120255502{i:02}"),
                if i % 3 == 0 { "human" } else { "no_answer" },
                6,
                20,
            )
        })
        .collect();
    let mut f = Floor::new(backend, json!({"ringTimeoutSeconds": 15}), leads, 3).await;
    f.start_campaign().await;
    for i in 0..3 {
        f.set_status(i, "AVAILABLE").await;
    }
    for _ in 0..90 {
        f.advance(1).await;
        let mut idle = 0;
        for i in 0..3 {
            let p = f.presence(i).await;
            if p["status"] == "WRAP_UP" {
                let call = p["wrapUpCall"]["id"].as_str().expect("call").to_owned();
                f.wrap_up(i, &call, "NOT_INTERESTED").await;
            }
            if f.presence(i).await["status"] == "AVAILABLE" {
                idle += 1;
            }
        }
        let in_flight = f.calls_awaiting_agent().await;
        assert!(
            in_flight <= idle.max(in_flight.min(3)),
            "{in_flight} calls for {idle} idle agents"
        );
        assert!(in_flight <= 3);
    }
    assert!(f.calls_seen().len() >= 6, "the campaign kept dialing");
    f.finish().await;
}

async fn a_callback_for_a_named_agent_goes_to_that_agent(backend: Backend) {
    let mut f = Floor::new(
        backend,
        json!({}),
        vec![lead("+12025550151", "human", 2, 10)],
        2,
    )
    .await;
    f.start_campaign().await;
    f.set_status(0, "AVAILABLE").await;
    f.advance(14).await;
    let call = f.calls_seen()[0].clone();
    let at = (pinline_tests::dialer::test_start() + chrono::Duration::hours(1)).to_rfc3339();
    let agent2 = f.agents[1].id.clone();
    f.agent_ok(
        0,
        "mutation($c:ID!,$at:DateTime!,$a:ID!){submitWrapUp(input:{callId:$c,dispositionCode:\"CALL_BACK\",callbackAt:$at,callbackAgentId:$a}){wrapUp{id}}}",
        json!({"c": call, "at": at, "a": agent2}),
    )
    .await;
    let l = f.lead_by_phone("+12025550151").await;
    assert_eq!(l["status"], "CALLBACK");
    // Agent 1 has been idle longest, yet the callback is agent 2's.
    f.set_status(1, "AVAILABLE").await;
    f.advance(3600).await;
    f.advance(5).await;
    let calls = f.calls_seen();
    assert_eq!(calls.len(), 2, "{calls:?}");
    let c = f.call(&calls[1]).await;
    assert_eq!(c["agent"]["id"].as_str(), Some(agent2.as_str()), "{c}");
    assert_eq!(f.presence(0).await["status"], "AVAILABLE");
    f.finish().await;
}

async fn manual_calls_are_manual_and_pass_the_gate(backend: Backend) {
    let mut f = Floor::new(backend, json!({}), vec![], 1).await;
    f.set_status(0, "AVAILABLE").await;
    f.advance(1).await;
    f.add_dnc("+12025550161").await;
    let q = "mutation($cc:ID!,$p:String!){placeCall(input:{contactCenterId:$cc,phone:$p}){call{id origin dialer state}}}";
    let code = f
        .agent_err(0, q, json!({"cc": f.cc, "p": "+12025550161"}))
        .await;
    assert_eq!(code, "CONFLICT", "a DNC number is refused");
    // Premium rate, toll-free, an extension: never dialed.
    for p in ["+19005550163", "+18005550164", "202 555 0165 x12"] {
        let code = f.agent_err(0, q, json!({"cc": f.cc, "p": p})).await;
        assert_eq!(code, "VALIDATION", "{p}");
    }
    let r = f
        .agent_ok(0, q, json!({"cc": f.cc, "p": "(202) 555-0162"}))
        .await;
    let call = &r["placeCall"]["call"];
    assert_eq!(
        (call["origin"].as_str(), call["dialer"].as_bool()),
        (Some("MANUAL"), Some(false)),
        "{r}"
    );
    assert_eq!(f.presence(0).await["status"], "ON_CALL");
    let id = call["id"].as_str().expect("id").to_owned();
    // The sim answers (or not) within the ring timeout; hang up ends it.
    f.advance(40).await;
    let c = f.call(&id).await;
    if c["state"] != "ENDED" {
        f.agent_ok(
            0,
            "mutation($c:ID!){hangUp(input:{callId:$c})}",
            json!({"c": id}),
        )
        .await;
    }
    let c = f.call(&id).await;
    assert_eq!(c["state"], "ENDED", "{c}");
    assert_eq!(f.presence(0).await["status"], "WRAP_UP");
    // The organization caps its numbers at one call in 8 hours: a second
    // manual call to the bare number is refused, citing the policy.
    let admin = f.srv.login_demo("admin").await;
    f.srv
        .ok(
            Some(&admin),
            "mutation{setCompliancePolicy(input:{caps:[{max:1,withinHours:8}]}){policy{revision}}}",
            json!({}),
        )
        .await;
    f.agent_ok(
        0,
        "mutation($c:ID!){submitWrapUp(input:{callId:$c,dispositionCode:\"NO_ANSWER\"}){wrapUp{id}}}",
        json!({"c": id}),
    )
    .await;
    f.set_status(0, "AVAILABLE").await;
    let body = f
        .srv
        .gql(
            Some(&f.agents[0].token),
            q,
            json!({"cc": f.cc, "p": "(202) 555-0162"}),
        )
        .await;
    assert_eq!(
        pinline_tests::error_code(&body).as_deref(),
        Some("CONFLICT"),
        "{body}"
    );
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .is_some_and(|m| m.contains("Organization policy, revision 1")),
        "{body}"
    );
    f.finish().await;
}

engine_tests!(call_controls_follow_the_call_state);

async fn call_controls_follow_the_call_state(backend: Backend) {
    let mut f = Floor::new(
        backend,
        json!({}),
        vec![
            lead("+12025550171", "human", 3, 600),
            lead("+12025550172", "human", 3, 600),
        ],
        2,
    )
    .await;
    f.start_campaign().await;
    f.set_status(0, "AVAILABLE").await;
    f.advance(5).await;
    let call = f.active_call(0).await;
    assert_eq!(call["state"], "CONNECTED");
    let id = call["id"].as_str().expect("id").to_owned();
    let v = json!({"c": id});
    let mute = |m: bool| format!("mutation($c:ID!){{muteCall(input:{{callId:$c,muted:{m}}})}}");
    let hold = |h: bool| format!("mutation($c:ID!){{holdCall(input:{{callId:$c,onHold:{h}}})}}");
    f.agent_ok(0, &mute(true), v.clone()).await;
    assert_eq!(f.active_call(0).await["muted"], true);
    f.agent_ok(0, &mute(false), v.clone()).await;
    f.agent_ok(0, &hold(true), v.clone()).await;
    assert_eq!(f.active_call(0).await["state"], "HELD");
    assert_eq!(f.agent_err(0, &hold(true), v.clone()).await, "CONFLICT");
    f.agent_ok(0, &mute(true), v.clone()).await;
    f.agent_ok(0, &hold(false), v.clone()).await;
    assert_eq!(f.agent_err(0, &hold(false), v.clone()).await, "CONFLICT");
    assert_eq!(f.active_call(0).await["state"], "CONNECTED");
    // Not agent 2's call.
    assert_eq!(f.agent_err(1, &mute(true), v.clone()).await, "NOT_FOUND");

    // A blind transfer to a number that is busy fails: the lead is back.
    let transfer = "mutation($c:ID!,$to:TransferTargetInput!,$m:TransferMode!){transferCall(input:{callId:$c,to:$to,mode:$m})}";
    f.agent_ok(
        0,
        transfer,
        json!({"c": id, "to": {"phone": "+12025550000"}, "m": "BLIND"}),
    )
    .await;
    assert_eq!(f.active_call(0).await["state"], "TRANSFERRING");
    assert_eq!(f.agent_err(0, &mute(false), v.clone()).await, "CONFLICT");
    f.advance(3).await;
    assert_eq!(f.active_call(0).await["state"], "CONNECTED");
    assert!(f.steps_of(&id).contains(&"TRANSFER_FAILED".to_owned()));
    assert_eq!(f.presence(0).await["status"], "ON_CALL");

    // Conference in an outside number.
    f.agent_ok(
        0,
        "mutation($c:ID!){addParticipant(input:{callId:$c,phone:\"+12025550177\"})}",
        v.clone(),
    )
    .await;
    f.advance(3).await;
    assert!(f.steps_of(&id).contains(&"PARTICIPANT_JOINED".to_owned()));

    // Warm transfer to agent 2: both on the call until agent 1 hangs up.
    f.set_status(1, "AVAILABLE").await;
    f.advance(1).await;
    let agent2 = f.agents[1].id.clone();
    f.agent_ok(
        0,
        transfer,
        json!({"c": id, "to": {"agentId": agent2}, "m": "WARM"}),
    )
    .await;
    assert_eq!(f.presence(1).await["status"], "ON_CALL");
    f.agent_ok(0, "mutation($c:ID!){hangUp(input:{callId:$c})}", v.clone())
        .await;
    let c = f.call(&id).await;
    assert_eq!(
        (c["state"].as_str(), c["agent"]["id"].as_str()),
        (Some("CONNECTED"), Some(agent2.as_str())),
        "{c}"
    );
    assert_eq!(
        f.presence(0).await["status"],
        "AVAILABLE",
        "no wrap-up for the agent who handed over"
    );
    // Agent 2 hangs up: the call ends, wrap-up, controls refused.
    f.agent_ok(1, "mutation($c:ID!){hangUp(input:{callId:$c})}", v.clone())
        .await;
    let c = f.call(&id).await;
    assert_eq!(
        (c["state"].as_str(), c["outcome"].as_str()),
        (Some("ENDED"), Some("COMPLETED"))
    );
    assert_eq!(f.presence(1).await["status"], "WRAP_UP");
    assert_eq!(f.agent_err(1, &mute(true), v.clone()).await, "CONFLICT");

    // Meanwhile agent 1 got the second lead; a blind transfer out ends it.
    f.advance(5).await;
    let second = f.active_call(0).await;
    let id2 = second["id"].as_str().expect("second call").to_owned();
    f.agent_ok(
        0,
        transfer,
        json!({"c": id2, "to": {"phone": "(202) 555-0188"}, "m": "BLIND"}),
    )
    .await;
    f.advance(3).await;
    let c = f.call(&id2).await;
    assert_eq!(c["outcome"], "TRANSFERRED", "{c}");
    assert_eq!(f.presence(0).await["status"], "WRAP_UP");
    // Bad input: no target, a malformed number.
    let code = f
        .agent_err(
            0,
            "mutation($c:ID!){addParticipant(input:{callId:$c})}",
            json!({"c": id2}),
        )
        .await;
    assert_eq!(code, "VALIDATION");
    f.finish().await;
}

async fn preview_offers_wait_for_the_agent_and_leave_with_them(backend: Backend) {
    let mut f = Floor::new(
        backend,
        json!({"dialMode": "PREVIEW"}),
        vec![
            lead("+12025550191", "human", 2, 30),
            lead("+12025550192", "human", 2, 30),
        ],
        1,
    )
    .await;
    f.start_campaign().await;
    f.set_status(0, "AVAILABLE").await;
    f.advance(1).await;
    let offered = |p: &serde_json::Value| p["offeredCall"]["id"].as_str().map(str::to_owned);
    let q = "{ myPresence { status offeredCall { id state lead { phone } } } }";
    let p = f.agent_ok(0, q, json!({})).await["myPresence"].clone();
    let first = offered(&p).expect("an offer is shown to the agent");
    assert_eq!(p["offeredCall"]["state"], "OFFERED");
    // Skip: the offer ends, the next one comes.
    f.agent_ok(
        0,
        "mutation($c:ID!){skipPreview(input:{callId:$c}){call{outcome}}}",
        json!({"c": first}),
    )
    .await;
    assert_eq!(f.call(&first).await["outcome"], "SKIPPED");
    f.advance(1).await;
    let p = f.agent_ok(0, q, json!({})).await["myPresence"].clone();
    let second = offered(&p).expect("the next offer");
    assert_ne!(second, first);
    // A break withdraws it and gives the lead back untouched.
    let phone = p["offeredCall"]["lead"]["phone"]
        .as_str()
        .expect("phone")
        .to_owned();
    f.set_status(0, "BREAK").await;
    assert_eq!(f.call(&second).await["outcome"], "NOT_DIALED");
    let p = f.agent_ok(0, q, json!({})).await["myPresence"].clone();
    assert_eq!(offered(&p), None);
    let l = f.lead_by_phone(&phone).await;
    assert_eq!(
        (l["status"].as_str(), l["attempts"].as_i64()),
        (Some("NEW"), Some(0)),
        "{l}"
    );
    // Back and dialing: the call reaches this agent.
    f.set_status(0, "AVAILABLE").await;
    f.advance(1).await;
    let p = f.agent_ok(0, q, json!({})).await["myPresence"].clone();
    let third = offered(&p).expect("an offer again");
    assert_eq!(
        p["offeredCall"]["lead"]["phone"], phone,
        "the withdrawn lead first"
    );
    f.agent_ok(
        0,
        "mutation($c:ID!){dialPreview(input:{callId:$c}){call{state}}}",
        json!({"c": third}),
    )
    .await;
    f.advance(5).await;
    let c = f.active_call(0).await;
    assert_eq!(
        (c["id"].as_str(), c["state"].as_str()),
        (Some(third.as_str()), Some("CONNECTED"))
    );
    f.finish().await;
}

/// Five people answer at once and talk for ten minutes: the calls dialed
/// ahead of them that still ring have no agent to come to. The predictive
/// pacer ends them — after 15 s of ringing, never sooner, well before the
/// 30-s ring timeout — as NO_ANSWER with its reason.
async fn the_pacer_ends_calls_rung_15_s_when_no_agent_will_be_free(backend: Backend) {
    let people: Vec<String> = (0..5).map(|i| format!("+1202555014{i}")).collect();
    let mut leads: Vec<_> = people.iter().map(|p| lead(p, "human", 2, 600)).collect();
    leads.extend((0..6).map(|i| lead(&format!("+1202555015{i}"), "no_answer", 0, 0)));
    let mut f = Floor::new(
        backend,
        json!({"dialMode": "PREDICTIVE", "ringTimeoutSeconds": 30}),
        leads,
        5,
    )
    .await;
    // The people are dialed first.
    for p in &people {
        let id = f.lead_by_phone(p).await["id"].clone();
        f.srv
            .ok(
                Some(&f.sup),
                "mutation($i:UpdateLeadInput!){updateLead(input:$i){lead{id}}}",
                json!({"i": {"id": id, "priority": 10}}),
            )
            .await;
    }
    // What the pacer learns from at start: 600 calls two months back
    // (31 % people answering after 20 s, two-minute talks).
    let campaign = pinline::store::campaigns::get(&f.srv.app.db, &f.campaign)
        .await
        .expect("get")
        .expect("campaign");
    pinline::store::bench_seed::seed_history(
        &f.srv.app.db,
        &campaign,
        2,
        600,
        "2026-09-01 00:00:00",
    )
    .await
    .expect("seed the history");
    f.start_campaign().await;
    for i in 0..5 {
        f.set_status(i, "AVAILABLE").await;
    }
    f.advance(1).await;
    let dialed = f.calls_seen();
    assert!(
        dialed.len() > 5,
        "dialed ahead of the five agents: {dialed:?}"
    );
    // The people answer at 2 s and take every agent.
    f.advance(2).await;
    for i in 0..5 {
        assert_eq!(f.presence(i).await["status"], "ON_CALL");
    }
    let mut ahead = Vec::new();
    for id in &dialed {
        let c = f.call(id).await;
        if c["answeredBy"].is_null() {
            ahead.push(id.clone());
        }
    }
    assert!(!ahead.is_empty());
    // Not before 15 s of ringing…
    f.advance(11).await;
    for id in &ahead {
        assert_ne!(f.call(id).await["state"], "ENDED", "ended before 15 s");
    }
    // …then, with every agent talking for minutes, all of them.
    for _ in 0..4 {
        f.advance(1).await;
    }
    for id in &ahead {
        let c = f.call(id).await;
        assert_eq!(c["outcome"], "NO_ANSWER", "{c}");
        let detail = c["events"]
            .as_array()
            .and_then(|e| e.iter().find(|e| e["step"] == "ENDED"))
            .map(|e| e["detail"].as_str().unwrap_or_default().to_owned())
            .unwrap_or_default();
        assert!(
            detail.starts_with("ended by the pacer after ringing 1"),
            "{detail}"
        );
    }
    f.finish().await;
}

engine_tests!(a_lead_in_a_zone_new_to_the_campaign_is_reached_within_seconds);

/// The engine keeps the zones of a campaign's leads for a few seconds
/// (reading them scans every lead): a lead added in a zone none of the
/// others is in is still called within seconds, not once the others run
/// out.
async fn a_lead_in_a_zone_new_to_the_campaign_is_reached_within_seconds(backend: Backend) {
    let leads: Vec<Value> = (0..40)
        .map(|i| lead(&format!("+1202555{:04}", 3100 + i), "busy", 1, 0))
        .collect();
    let mut f = Floor::new(backend, json!({"dialMode": "PROGRESSIVE"}), leads, 1).await;
    f.start_campaign().await;
    f.set_status(0, "AVAILABLE").await;
    f.advance(3).await;
    let dialed = |l: &Value| l["attempts"].as_i64().unwrap_or(0) > 0 || l["status"] == "DIALING";
    let busy_before = f
        .leads_of(&f.campaign)
        .await
        .iter()
        .filter(|l| dialed(l))
        .count();
    assert!(busy_before > 0, "the campaign is dialing");
    let mut chicago = lead("+13125550100", "busy", 1, 0);
    chicago["timeZone"] = json!("America/Chicago");
    let campaign = f.campaign.clone();
    f.add_lead(&campaign, chicago).await;
    // First in line among the new leads.
    let id = f.lead_by_phone("+13125550100").await["id"].clone();
    f.srv
        .ok(
            Some(&f.sup),
            "mutation($i:UpdateLeadInput!){updateLead(input:$i){lead{id}}}",
            json!({"i": {"id": id, "priority": 100}}),
        )
        .await;
    let mut reached = None;
    for s in 0..20 {
        if dialed(&f.lead_by_phone("+13125550100").await) {
            reached = Some(s);
            break;
        }
        f.advance(1).await;
    }
    let s = reached.expect("the lead in the new zone was called within 20 s");
    let left = f
        .leads_of(&f.campaign)
        .await
        .iter()
        .filter(|l| !dialed(l))
        .count();
    assert!(left > 0, "called before the other leads ran out ({s} s)");
    f.finish().await;
}
