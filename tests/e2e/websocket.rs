//! Subscriptions over websocket: the token goes in `connection_init`; a
//! connection without a valid one is refused. Both protocols are served.

use std::time::Duration;

use pinline_tests::ws::{InitOutcome, LEGACY_WS, TRANSPORT_WS, WsClient};
use pinline_tests::{TestServer, on_both_backends};
use serde_json::json;

on_both_backends!(
    refuses_connections_without_a_valid_token,
    directory_events_over_both_protocols
);

async fn refuses_connections_without_a_valid_token(srv: TestServer) {
    srv.seed_demo().await;
    let agent = srv.login_demo("agent1").await;
    for protocol in [TRANSPORT_WS, LEGACY_WS] {
        for payload in [
            json!({}),
            json!({"token": "forged.token.here"}),
            json!({"token": ""}),
        ] {
            let mut ws = WsClient::connect(&srv.ws_url(), protocol).await;
            match ws.init(payload.clone()).await {
                InitOutcome::Refused(_) => {}
                InitOutcome::Ack => panic!("{protocol}: accepted {payload}"),
            }
        }
        // A logged-out session's token is refused too.
        let token = srv.login_demo("agent2").await;
        srv.ok(Some(&token), "mutation { logout }", json!({})).await;
        let mut ws = WsClient::connect(&srv.ws_url(), protocol).await;
        assert!(matches!(
            ws.init(json!({"token": token})).await,
            InitOutcome::Refused(_)
        ));
        // Subscribing before init is refused as well.
        let mut ws = WsClient::connect(&srv.ws_url(), protocol).await;
        ws.subscribe("1", "subscription { directoryEvents { change } }")
            .await;
        assert!(ws.next_data("1", Duration::from_secs(5)).await.is_err());
    }
    // An agent is signed in fine but may not watch the directory.
    let mut ws = WsClient::connect(&srv.ws_url(), TRANSPORT_WS).await;
    assert!(matches!(
        ws.init(json!({"token": agent})).await,
        InitOutcome::Ack
    ));
    ws.subscribe("1", "subscription { directoryEvents { change } }")
        .await;
    let refused = ws
        .next_data("1", Duration::from_secs(5))
        .await
        .expect("an answer");
    assert_eq!(
        refused["errors"][0]["extensions"]["code"], "FORBIDDEN",
        "{refused}"
    );
    srv.finish().await;
}

async fn directory_events_over_both_protocols(srv: TestServer) {
    srv.seed_demo().await;
    let admin = srv.login_demo("admin").await;
    for (i, (protocol, payload)) in [
        (TRANSPORT_WS, json!({"token": admin})),
        (
            LEGACY_WS,
            json!({"Authorization": format!("Bearer {admin}")}),
        ),
    ]
    .into_iter()
    .enumerate()
    {
        let mut ws = WsClient::connect(&srv.ws_url(), protocol).await;
        assert!(
            matches!(ws.init(payload).await, InitOutcome::Ack),
            "{protocol}"
        );
        ws.subscribe(
            "s1",
            "subscription { directoryEvents { change userId contactCenterId at } }",
        )
        .await;
        // Give the server a moment to register the subscription.
        tokio::time::sleep(Duration::from_millis(200)).await;
        let created = srv
            .ok(
                Some(&admin),
                "mutation($e:String!){createUser(input:{email:$e,name:\"Live\",role:AGENT,password:\"a-good-password\"}){user{id}}}",
                json!({"e": format!("live{i}@demo.pinline.test")}),
            )
            .await;
        let id = created["createUser"]["user"]["id"].clone();
        let event = ws
            .next_data("s1", Duration::from_secs(10))
            .await
            .expect("event");
        assert_eq!(
            event["data"]["directoryEvents"]["change"], "USER_CHANGED",
            "{protocol}"
        );
        assert_eq!(event["data"]["directoryEvents"]["userId"], id);
    }
    let metrics = srv.metrics().await;
    assert!(
        metrics.contains("pinline_websocket_connections_total 2"),
        "{metrics}"
    );
    srv.finish().await;
}
