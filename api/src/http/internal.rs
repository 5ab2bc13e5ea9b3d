//! Between clustered instances: an engine command for a contact center
//! that runs on another instance is sent to it (`POST /internal/engine`)
//! and answered with its result. The body is signed with a key derived
//! from the signing secret every instance shares (HMAC-SHA256 in
//! `x-pinline-signature`): nobody without the secret can drive an engine
//! through it, and a forwarded command carries out only what the API
//! already authorized on the instance that received it.

use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use hmac::{Hmac, Mac};
use sha2::Sha256;

use super::HttpState;
use crate::dialer::engine::remote::{BoxFuture, Forwarder, Remote, RemoteError, RemoteReply};
use crate::dialer::engine::{EngineError, EngineResult};
use crate::metrics::LeaseMetrics;
use crate::store::{self, Db};

const SIGNATURE: &str = "x-pinline-signature";
/// How long the owner has to answer (a command's own work is bounded by
/// the engine's; past this the caller is told to retry).
const WITHIN: Duration = Duration::from_secs(5);

#[derive(serde::Serialize, serde::Deserialize)]
struct Envelope {
    center: String,
    command: Remote,
}

type Answer = Result<RemoteReply, RemoteError>;

fn sign(key: &[u8; 32], body: &[u8]) -> String {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key).expect("HMAC takes any key length");
    mac.update(body);
    hex(&mac.finalize().into_bytes())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn verified(key: &[u8; 32], body: &[u8], signature: &str) -> bool {
    let Some(given) = (0..signature.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(signature.get(i..i + 2)?, 16).ok())
        .collect::<Option<Vec<u8>>>()
    else {
        return false;
    };
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key).expect("HMAC takes any key length");
    mac.update(body);
    mac.verify_slice(&given).is_ok()
}

/// Sends commands to the instance holding their center's lease.
pub struct HttpForwarder {
    db: Db,
    instance: String,
    key: [u8; 32],
    client: reqwest::Client,
    metrics: LeaseMetrics,
}

impl HttpForwarder {
    pub fn new(db: Db, instance: String, key: [u8; 32], metrics: LeaseMetrics) -> HttpForwarder {
        HttpForwarder {
            db,
            instance,
            key,
            client: reqwest::Client::builder()
                .timeout(WITHIN)
                .build()
                .unwrap_or_default(),
            metrics,
        }
    }

    async fn send(&self, center: &str, command: Remote) -> EngineResult<RemoteReply> {
        // Carried out nowhere: the caller may try again.
        let moving = || EngineError::NotHere {
            center: center.to_owned(),
        };
        // Perhaps carried out there, the answer lost: not to be repeated.
        let unanswered = || EngineError::Unavailable {
            cause: store::Outage::Moved,
            message: "the server running this contact center did not answer; check before retrying"
                .into(),
        };
        // The holder, if its lease is current and it is not this instance
        // (then the center is being started here: retry shortly).
        let owner = store::leases::holder(&self.db, center)
            .await?
            .filter(|o| *o != self.instance)
            .ok_or_else(moving)?;
        let url = store::heartbeats::url_of(&self.db, &owner)
            .await?
            .ok_or_else(moving)?;
        let body = serde_json::to_vec(&Envelope {
            center: center.to_owned(),
            command,
        })
        .map_err(|e| EngineError::Store(store::StoreError::System(e.to_string())))?;
        let signature = sign(&self.key, &body);
        self.metrics.forwarded.inc();
        let sent = self
            .client
            .post(format!("{url}/internal/engine"))
            .header(SIGNATURE, signature)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(body)
            .send()
            .await;
        let answer: Answer = match sent {
            Ok(r) if r.status().is_success() => {
                let bytes = r.bytes().await.map_err(|e| {
                    tracing::warn!(%owner, "a forwarded command's answer: {e}");
                    unanswered()
                })?;
                serde_json::from_slice(&bytes).map_err(|e| {
                    tracing::warn!(%owner, "a forwarded command's answer: {e}");
                    unanswered()
                })?
            }
            Ok(r) if r.status().is_server_error() => {
                tracing::warn!(%owner, status = %r.status(), "a forwarded command failed there");
                return Err(unanswered());
            }
            Ok(r) => {
                tracing::warn!(%owner, status = %r.status(), "a forwarded command was refused");
                return Err(moving());
            }
            // Not connected: the command never left.
            Err(e) if e.is_connect() => {
                tracing::warn!(%owner, "forwarding a command: {e}");
                return Err(moving());
            }
            // It may have been carried out there: not sent again.
            Err(e) => {
                tracing::warn!(%owner, "forwarding a command: {e}");
                return Err(unanswered());
            }
        };
        answer.map_err(EngineError::from)
    }
}

impl Forwarder for HttpForwarder {
    fn forward<'a>(
        &'a self,
        center: &'a str,
        command: Remote,
    ) -> BoxFuture<'a, EngineResult<RemoteReply>> {
        Box::pin(self.send(center, command))
    }
}

/// `GET /internal/instance`: which instance answers at this address (the
/// others' keepers ask it of a holder that missed its heartbeats: an
/// address that refuses, or where another instance answers, is a holder
/// that is gone).
pub async fn instance(State(state): State<HttpState>) -> Response {
    if state.app.leases.is_none() {
        return StatusCode::NOT_FOUND.into_response();
    }
    state.app.instance.clone().into_response()
}

/// `POST /internal/engine`: a command from another instance.
pub async fn engine(State(state): State<HttpState>, headers: HeaderMap, body: Bytes) -> Response {
    let Some(key) = state
        .app
        .internal_key
        .filter(|_| state.app.leases.is_some())
    else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let signed = headers
        .get(SIGNATURE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|s| verified(&key, &body, s));
    if !signed {
        return StatusCode::FORBIDDEN.into_response();
    }
    let Ok(envelope) = serde_json::from_slice::<Envelope>(&body) else {
        return StatusCode::BAD_REQUEST.into_response();
    };
    let answer: Answer = state
        .app
        .engine
        .execute(envelope.command)
        .await
        .map_err(RemoteError::from);
    axum::Json(answer).into_response()
}

/// The forwarder for `app`'s engine (clustered).
pub fn forwarder(db: Db, instance: String, key: [u8; 32], m: LeaseMetrics) -> Arc<dyn Forwarder> {
    Arc::new(HttpForwarder::new(db, instance, key, m))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_shared_key_signs() {
        let key = [7u8; 32];
        let body = br#"{"center":"c"}"#;
        let s = sign(&key, body);
        assert!(verified(&key, body, &s));
        assert!(!verified(&[8u8; 32], body, &s), "another key");
        assert!(!verified(&key, br#"{"center":"d"}"#, &s), "another body");
        assert!(!verified(&key, body, "zz"), "not hex");
        assert!(!verified(&key, body, &s[..10]), "cut short");
    }
}
