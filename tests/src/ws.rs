//! A small GraphQL-over-websocket client for tests: graphql-transport-ws
//! and the legacy graphql-ws (subscriptions-transport-ws).

use std::time::Duration;

use futures::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;

pub const TRANSPORT_WS: &str = "graphql-transport-ws";
pub const LEGACY_WS: &str = "graphql-ws";

type Stream =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

pub struct WsClient {
    stream: Stream,
    protocol: &'static str,
}

/// What the server did with `connection_init`.
#[derive(Debug)]
pub enum InitOutcome {
    Ack,
    /// Closed (with code and reason) or sent an error.
    Refused(String),
}

impl WsClient {
    pub async fn connect(url: &str, protocol: &'static str) -> WsClient {
        let mut req = url.into_client_request().expect("ws request");
        req.headers_mut()
            .insert("Sec-WebSocket-Protocol", HeaderValue::from_static(protocol));
        let (stream, resp) = tokio_tungstenite::connect_async(req)
            .await
            .expect("websocket connects");
        assert_eq!(
            resp.headers()
                .get("sec-websocket-protocol")
                .and_then(|v| v.to_str().ok()),
            Some(protocol),
            "server agreed on the subprotocol"
        );
        WsClient { stream, protocol }
    }

    /// A `graphql-transport-ws` connection signed in with `token`.
    pub async fn signed_in(url: &str, token: &str) -> WsClient {
        let mut ws = WsClient::connect(url, TRANSPORT_WS).await;
        assert!(matches!(
            ws.init(serde_json::json!({ "token": token })).await,
            InitOutcome::Ack
        ));
        ws
    }

    pub async fn send(&mut self, msg: Value) {
        self.stream
            .send(Message::text(msg.to_string()))
            .await
            .expect("send");
    }

    /// The next JSON message (skipping pings and keep-alives), or `Err` with
    /// the close frame / end of stream.
    pub async fn next(&mut self, within: Duration) -> Result<Value, String> {
        loop {
            let msg = tokio::time::timeout(within, self.stream.next())
                .await
                .map_err(|_| "timeout".to_owned())?;
            match msg {
                None => return Err("stream ended".into()),
                Some(Err(e)) => return Err(format!("error: {e}")),
                Some(Ok(Message::Text(t))) => {
                    let v: Value = serde_json::from_str(&t).expect("JSON message");
                    match v["type"].as_str() {
                        Some("ping") => {
                            self.send(json!({"type": "pong"})).await;
                        }
                        Some("ka") | Some("pong") => {}
                        _ => return Ok(v),
                    }
                }
                Some(Ok(Message::Close(frame))) => {
                    return Err(match frame {
                        Some(f) => format!("closed {}: {}", u16::from(f.code), f.reason),
                        None => "closed".into(),
                    });
                }
                Some(Ok(_)) => {}
            }
        }
    }

    /// How the socket ends (results already on their way are skipped):
    /// `Err("closed 4403: …")`, or `Ok` with another message.
    pub async fn until_closed(&mut self, within: Duration) -> Result<Value, String> {
        loop {
            match self.next(within).await {
                Ok(v) if v["type"] == "next" || v["type"] == "data" => continue,
                other => return other,
            }
        }
    }

    pub async fn init(&mut self, payload: Value) -> InitOutcome {
        self.send(json!({"type": "connection_init", "payload": payload}))
            .await;
        match self.next(Duration::from_secs(10)).await {
            Ok(v) if v["type"] == "connection_ack" => InitOutcome::Ack,
            Ok(v) => InitOutcome::Refused(v.to_string()),
            Err(e) => InitOutcome::Refused(e),
        }
    }

    pub async fn subscribe(&mut self, id: &str, query: &str) {
        let kind = if self.protocol == TRANSPORT_WS {
            "subscribe"
        } else {
            "start"
        };
        self.send(json!({"type": kind, "id": id, "payload": {"query": query}}))
            .await;
    }

    /// The next `next`/`data` payload for subscription `id`.
    pub async fn next_data(&mut self, id: &str, within: Duration) -> Result<Value, String> {
        loop {
            let v = self.next(within).await?;
            if v["id"] == id {
                match v["type"].as_str() {
                    Some("next") | Some("data") => return Ok(v["payload"].clone()),
                    Some("error") => return Err(v["payload"].to_string()),
                    Some("complete") => return Err("complete".into()),
                    _ => {}
                }
            }
        }
    }
}
