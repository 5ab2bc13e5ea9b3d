//! The supervisor's what-if (`pinline simulate --from-campaign`) against a
//! database with a campaign's calls on record, on both backends: the
//! scenario it builds carries the recorded answer rates and durations, and
//! the prediction it prints is the simulator's for that many agents.

use pinline::store;
use pinline_tests::{TestServer, on_both_backends, pinline_bin};
use serde_json::json;

on_both_backends!(what_if_predicts_from_the_calls_on_record);

async fn what_if_predicts_from_the_calls_on_record(srv: TestServer) {
    srv.seed_demo().await;
    let sup = srv.login_demo("supervisor").await;
    let cc = srv
        .ok(
            Some(&sup),
            "{ contactCenters { edges { node { id } } } }",
            json!({}),
        )
        .await["contactCenters"]["edges"][0]["node"]["id"]
        .clone();
    let id = srv
        .ok(
            Some(&sup),
            "mutation($cc:ID!){createCampaign(input:{contactCenterId:$cc,name:\"History\",callerId:\"+14155550100\",ringTimeoutSeconds:30}){campaign{id}}}",
            json!({"cc": cc}),
        )
        .await["createCampaign"]["campaign"]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let campaign = store::campaigns::get(&srv.app.db, &id)
        .await
        .expect("get")
        .expect("campaign");
    // 3 000 calls: 31 % people (answered after 20 s, 120 s to hang-up, a
    // 20-s wrap-up), 20 % machines, 9 % busy, 40 % unanswered.
    store::bench_seed::seed_history(&srv.app.db, &campaign, 4, 3_000, "2026-10-01 00:00:00")
        .await
        .expect("seed the calls");

    let sc = pinline::sim::whatif::scenario_from_campaign(&srv.app.db, &id, 12)
        .await
        .expect("a scenario from the history");
    let r = &sc.rates[0];
    let near = |got: f64, want: f64, tol: f64, what: &str| {
        assert!((got - want).abs() <= tol, "{what}: {got}, expected {want}");
    };
    near(r.human, 0.31, 0.01, "people");
    near(r.machine, 0.20, 0.01, "machines");
    near(r.failed, 0.09, 0.01, "busy");
    near(sc.answer_time.mean, 20.0, 1.0, "time to answer");
    near(sc.talk.mean, 120.0, 6.0, "talk");
    near(sc.wrap.mean, 20.0, 1.0, "wrap-up");
    assert_eq!(sc.ring_timeout_secs, 30.0);

    // The command line, as a supervisor runs it.
    let out = std::process::Command::new(pinline_bin())
        .args(["simulate", "--from-campaign", &id, "--agents", "12"])
        .args(["--seeds", "3", "--json", "--threads", "1"])
        .arg("--database-url")
        .arg(&srv.database_url)
        .output()
        .expect("run pinline simulate");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let report = &v[0];
    assert!(
        report["scenario"]["name"]
            .as_str()
            .is_some_and(|n| n.contains("History")),
        "{report}"
    );
    let row = |name: &str| {
        report["pacers"]
            .as_array()
            .expect("pacers")
            .iter()
            .find(|p| p["pacer"] == name)
            .unwrap_or_else(|| panic!("{name} in {report}"))
            .clone()
    };
    let (pinline, progressive) = (row("Pinline"), row("Progressive"));
    let occ = |p: &serde_json::Value| p["occupancy"]["mean"].as_f64().expect("occupancy");
    assert!(
        occ(&pinline) > occ(&progressive),
        "{pinline} vs {progressive}"
    );
    assert!(occ(&pinline) <= 1.0);
    assert_eq!(pinline["seeds_over_limit"], 0, "{pinline}");
    let abandoned = pinline["abandon_rate"]["max"].as_f64().expect("rate");
    assert!(abandoned <= 0.03, "{pinline}");
    // People answer 31 % of dials: 12 agents talk about 140 s a call.
    let contacts = pinline["contacts_per_hour"]["mean"]
        .as_f64()
        .expect("contacts");
    assert!((150.0..=330.0).contains(&contacts), "{pinline}");
}
