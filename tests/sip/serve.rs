//! `pinline serve --media sip` as an operator starts it: what is missing or
//! wrong stops it with the reason; a good configuration serves, an
//! agent's phone rings for the pinned leg, and stopping the server ends it.

use pinline_tests::pinline_bin;
use pinline_tests::serve::Served;
use serde_json::json;

use crate::baresip::Baresip;
use crate::peers::free_udp_port;

/// `serve` with `args` must fail, saying `reason` on stderr.
fn refused(args: &[&str], reason: &str) {
    let dir = tempfile::tempdir().expect("dir");
    let out = std::process::Command::new(pinline_bin())
        .args(["serve", "--listen", "127.0.0.1:0", "--media", "sip"])
        .args(args)
        .arg("--data-dir")
        .arg(dir.path())
        .env_remove("PINLINE_SIP_TRUNK")
        .output()
        .expect("pinline runs (`cargo build -p pinline` first)");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{args:?} started");
    assert!(err.contains(reason), "{args:?}: {err}");
}

#[test]
fn a_bad_sip_configuration_stops_the_start_with_its_reason() {
    refused(&[], "--media sip needs --sip-trunk HOST[:PORT]");
    refused(
        &["--sip-trunk", "127.0.0.1:5999", "--rtp-ports", "30000-abc"],
        "--rtp-ports \"30000-abc\": expected LOW-HIGH",
    );
    refused(
        &[
            "--sip-trunk",
            "127.0.0.1:5999",
            "--sip-agent-phone",
            "ana@x.test",
        ],
        "expected KEY=sip:URI",
    );
    refused(
        &["--sip-trunk", "127.0.0.1:5999", "--sip-bind", "0.0.0.0:0"],
        "which no far end can reach: set the public IP",
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_with_sip_rings_the_agent_s_phone_for_the_pinned_leg() {
    let phone = Baresip::start("agent1", 1200).await;
    let dir = tempfile::tempdir().expect("dir");
    let lo = crate::provider::port_block().to_string();
    let hi = (crate::provider::port_block() + 99).to_string();
    let trunk = format!("127.0.0.1:{}", free_udp_port());
    let agent_phone = format!("agent1@demo.pinline.test={}", phone.uri());
    let served = Served::start(
        dir.path(),
        None,
        &[
            "--seed-demo",
            "--demo-agents",
            "0",
            "--demo-days",
            "0",
            "--media",
            "sip",
            "--sip-trunk",
            &trunk,
            "--sip-bind",
            "127.0.0.1:0",
            "--rtp-ports",
            &format!("{lo}-{hi}"),
            "--sip-agent-phone",
            &agent_phone,
        ],
    )
    .await;
    let password = served.password.clone().expect("demo logins");
    let token = served.login("agent1@demo.pinline.test", &password).await;
    let cc = served
        .ok(Some(&token), "{ me { contactCenters { id } } }", json!({}))
        .await["me"]["contactCenters"][0]["id"]
        .as_str()
        .expect("cc")
        .to_owned();
    let set = "mutation($cc:ID!){setAgentStatus(input:{contactCenterId:$cc,status:AVAILABLE}){presence{pinnedLeg{state}}}}";
    served.ok(Some(&token), set, json!({"cc": cc})).await;
    // baresip answers: the pinned leg goes IDLE.
    let mut state = String::new();
    for _ in 0..50 {
        let p = served
            .ok(
                Some(&token),
                "{ myPresence { pinnedLeg { state } } }",
                json!({}),
            )
            .await;
        state = p["myPresence"]["pinnedLeg"]["state"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        if state == "IDLE" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(state, "IDLE");
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    assert!(served.stop().await, "a clean exit on SIGTERM");
    // The server ended the phone's call as it stopped.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(3);
    while !phone.log().contains("terminated") && std::time::Instant::now() < deadline {
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(phone.log().contains("terminated"), "{}", phone.log());
    // What the phone heard while idle: silence.
    let heard = phone.stop_and_heard().await;
    assert!(heard.len() > 1600, "{} samples", heard.len());
    assert!(crate::audio::level_dbfs(&heard) < -45.0);
}
