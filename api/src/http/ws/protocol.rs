//! The two GraphQL-over-websocket protocols as data, no IO: what a client
//! message means, what the server sends, and the close codes.
//!
//! `graphql-transport-ws` (the `graphql-ws` npm package's protocol,
//! <https://github.com/enisdenjo/graphql-ws/blob/master/PROTOCOL.md>) and
//! the legacy `graphql-ws` of Apollo's subscriptions-transport-ws.

use serde::Deserialize;
use serde_json::{Value, json};

/// Which protocol a socket speaks (its `Sec-WebSocket-Protocol`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Proto {
    TransportWs,
    Legacy,
}

impl Proto {
    pub const TRANSPORT_WS: &'static str = "graphql-transport-ws";
    pub const LEGACY: &'static str = "graphql-ws";

    pub fn from_name(name: &str) -> Option<Proto> {
        if name.eq_ignore_ascii_case(Self::TRANSPORT_WS) {
            Some(Proto::TransportWs)
        } else if name.eq_ignore_ascii_case(Self::LEGACY) {
            Some(Proto::Legacy)
        } else {
            None
        }
    }
}

/// Close codes (graphql-transport-ws's, also used for the legacy protocol,
/// which defines none).
pub mod close {
    /// The server is stopping.
    pub const GOING_AWAY: u16 = 1001;
    pub const BAD_REQUEST: u16 = 4400;
    pub const UNAUTHORIZED: u16 = 4401;
    pub const FORBIDDEN: u16 = 4403;
    pub const INIT_TIMEOUT: u16 = 4408;
    pub const DUPLICATE_ID: u16 = 4409;
    pub const TOO_MANY_INITS: u16 = 4429;
}

/// A GraphQL operation as sent in `subscribe` / `start`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Operation {
    pub query: String,
    #[serde(default)]
    pub operation_name: Option<String>,
    #[serde(default)]
    pub variables: Option<Value>,
    #[serde(default)]
    pub extensions: Option<serde_json::Map<String, Value>>,
}

/// What a client sent, in either protocol.
#[derive(Debug, Clone)]
pub enum ClientMessage {
    Init {
        payload: Value,
    },
    Subscribe {
        id: String,
        operation: Operation,
    },
    /// `complete` (transport-ws) or `stop` (legacy).
    Complete {
        id: String,
    },
    Ping {
        payload: Option<Value>,
    },
    Pong,
    /// Legacy only.
    Terminate,
}

/// Why a message could not be read: close 4400 with this reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadMessage(pub String);

#[derive(Deserialize)]
struct Raw {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    id: Option<Value>,
    #[serde(default)]
    payload: Option<Value>,
}

impl ClientMessage {
    pub fn parse(proto: Proto, text: &str) -> Result<ClientMessage, BadMessage> {
        let raw: Raw = serde_json::from_str(text)
            .map_err(|e| BadMessage(format!("Invalid message received: {e}")))?;
        let id = || match &raw.id {
            Some(Value::String(s)) if !s.is_empty() => Ok(s.clone()),
            _ => Err(BadMessage(format!(
                "Invalid message received: `{}` needs a non-empty string id",
                raw.kind
            ))),
        };
        let payload_object = |what: &str| match &raw.payload {
            None | Some(Value::Null) => Ok(Value::Object(Default::default())),
            Some(v @ Value::Object(_)) => Ok(v.clone()),
            Some(_) => Err(BadMessage(format!(
                "Invalid message received: the {what} payload must be an object"
            ))),
        };
        match (proto, raw.kind.as_str()) {
            (_, "connection_init") => Ok(ClientMessage::Init {
                payload: payload_object("connection_init")?,
            }),
            (Proto::TransportWs, "subscribe") | (Proto::Legacy, "start") => {
                let id = id()?;
                let payload = raw.payload.clone().unwrap_or(Value::Null);
                let operation: Operation = serde_json::from_value(payload).map_err(|e| {
                    BadMessage(format!("Invalid message received: subscribe payload: {e}"))
                })?;
                Ok(ClientMessage::Subscribe { id, operation })
            }
            (Proto::TransportWs, "complete") | (Proto::Legacy, "stop") => {
                Ok(ClientMessage::Complete { id: id()? })
            }
            (Proto::TransportWs, "ping") => Ok(ClientMessage::Ping {
                payload: raw.payload.clone().filter(|p| !p.is_null()),
            }),
            (Proto::TransportWs, "pong") => Ok(ClientMessage::Pong),
            (Proto::Legacy, "connection_terminate") => Ok(ClientMessage::Terminate),
            (_, other) => Err(BadMessage(format!(
                "Invalid message received: unknown type `{other}`"
            ))),
        }
    }
}

/// The server's messages, as text frames.
pub fn ack() -> String {
    json!({"type": "connection_ack"}).to_string()
}

pub fn pong(payload: Option<Value>) -> String {
    match payload {
        Some(p) => json!({"type": "pong", "payload": p}),
        None => json!({"type": "pong"}),
    }
    .to_string()
}

/// The legacy protocol's keep-alive.
pub fn keep_alive() -> String {
    json!({"type": "ka"}).to_string()
}

/// A result of an operation.
pub fn next(proto: Proto, id: &str, payload: &Value) -> String {
    let kind = match proto {
        Proto::TransportWs => "next",
        Proto::Legacy => "data",
    };
    json!({"type": kind, "id": id, "payload": payload}).to_string()
}

/// Errors that end an operation before it ran (validation and the like):
/// an `error` message whose payload is the errors list (transport-ws). The
/// legacy protocol gets them as a result with errors (then `complete`),
/// which its clients handle.
pub fn operation_errors(proto: Proto, id: &str, errors: &Value) -> Vec<String> {
    match proto {
        Proto::TransportWs => {
            vec![json!({"type": "error", "id": id, "payload": errors}).to_string()]
        }
        Proto::Legacy => vec![
            next(proto, id, &json!({"data": null, "errors": errors})),
            complete(id),
        ],
    }
}

pub fn complete(id: &str) -> String {
    json!({"type": "complete", "id": id}).to_string()
}

/// The legacy protocol's refusal of `connection_init`, sent before closing.
pub fn connection_error(message: &str) -> String {
    json!({"type": "connection_error", "payload": {"message": message}}).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_of_each_protocol_are_read() {
        let t = Proto::TransportWs;
        assert!(matches!(
            ClientMessage::parse(t, r#"{"type":"connection_init"}"#),
            Ok(ClientMessage::Init { .. })
        ));
        match ClientMessage::parse(
            t,
            r#"{"type":"subscribe","id":"1","payload":{"query":"{ me { id } }","variables":null}}"#,
        ) {
            Ok(ClientMessage::Subscribe { id, operation }) => {
                assert_eq!(
                    (id.as_str(), operation.query.as_str()),
                    ("1", "{ me { id } }")
                );
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            ClientMessage::parse(
                Proto::Legacy,
                r#"{"type":"start","id":"a","payload":{"query":"{a}"}}"#
            ),
            Ok(ClientMessage::Subscribe { .. })
        ));
        assert!(matches!(
            ClientMessage::parse(Proto::Legacy, r#"{"type":"stop","id":"a"}"#),
            Ok(ClientMessage::Complete { .. })
        ));
        // The other protocol's words are not this one's.
        assert!(
            ClientMessage::parse(t, r#"{"type":"start","id":"a","payload":{"query":"{a}"}}"#)
                .is_err()
        );
        assert!(
            ClientMessage::parse(
                Proto::Legacy,
                r#"{"type":"subscribe","id":"a","payload":{"query":"{a}"}}"#
            )
            .is_err()
        );
    }

    #[test]
    fn bad_messages_are_named() {
        let t = Proto::TransportWs;
        for bad in [
            "not json",
            r#"{"id":"1"}"#,
            r#"{"type":"subscribe","payload":{"query":"{a}"}}"#,
            r#"{"type":"subscribe","id":"","payload":{"query":"{a}"}}"#,
            r#"{"type":"subscribe","id":7,"payload":{"query":"{a}"}}"#,
            r#"{"type":"subscribe","id":"1","payload":{"variables":{}}}"#,
            r#"{"type":"connection_init","payload":"token"}"#,
            r#"{"type":"what"}"#,
        ] {
            let err = ClientMessage::parse(t, bad).expect_err(bad);
            assert!(
                err.0.starts_with("Invalid message received"),
                "{bad}: {}",
                err.0
            );
        }
    }
}
