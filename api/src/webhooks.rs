//! Webhook delivery from the transactional outbox.
//!
//! A wrap-up whose follow-up rules name an endpoint writes an outbox row in
//! its own transaction; this worker sends each row until the receiver
//! answers 2xx — at least once, so receivers drop duplicates by the
//! `Webhook-Id` header (the row's id, the same on every attempt). Every
//! request carries `Webhook-Signature: sha256=<hex HMAC-SHA256 of the body
//! with the endpoint's secret>`, `Webhook-Timestamp` (Unix seconds) and
//! `Webhook-Attempt`. A failed attempt is retried after `base · 2^(n-1)`,
//! capped; rows live in the database, so a restart (or a crash) loses
//! none — the worker picks up whatever is due when it starts.

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;
use futures::StreamExt;
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::events::{EventBus, EventKind};
use crate::store::outbox::{Delivery, OutboxRow};
use crate::store::{self, Db, models};

/// How the worker retries.
#[derive(Debug, Clone)]
pub struct WebhookConfig {
    /// The first retry's delay; each next one doubles it.
    pub retry_base: Duration,
    /// The longest delay between attempts.
    pub retry_cap: Duration,
    /// How long a receiver has to answer.
    pub timeout: Duration,
    /// How often the outbox is looked at when nothing wakes the worker.
    pub poll: Duration,
}

impl Default for WebhookConfig {
    fn default() -> Self {
        WebhookConfig {
            retry_base: Duration::from_secs(5),
            retry_cap: Duration::from_secs(3600),
            timeout: Duration::from_secs(10),
            poll: Duration::from_secs(1),
        }
    }
}

/// The delay before attempt `attempts + 1`, after `attempts` failures.
pub fn backoff(cfg: &WebhookConfig, attempts: u32) -> Duration {
    let factor = 2u32.saturating_pow(attempts.saturating_sub(1).min(30));
    cfg.retry_base.saturating_mul(factor).min(cfg.retry_cap)
}

/// `sha256=<hex>` of HMAC-SHA256(secret, body).
pub fn signature(secret: &str, body: &[u8]) -> String {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret.as_bytes())
        .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
    mac.update(body);
    let bytes = mac.finalize().into_bytes();
    let mut hex = String::with_capacity(7 + bytes.len() * 2);
    hex.push_str("sha256=");
    for b in bytes {
        hex.push_str(&format!("{b:02x}"));
    }
    hex
}

/// A new endpoint secret: 32 random bytes, base64url, prefixed.
pub fn new_secret() -> String {
    use base64::Engine as _;
    let bytes: [u8; 32] = rand::random();
    format!(
        "whsec_{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    )
}

/// What a webhook says about a wrap-up: the wrap-up with its marks, the
/// call, the lead as it is after the wrap-up, and the campaign.
pub fn wrap_up_payload(
    id: &str,
    event: &str,
    wrap: &models::WrapUp,
    call: &models::Call,
    lead: Option<&models::Lead>,
    lead_status: Option<&str>,
    campaign: Option<&models::Campaign>,
) -> String {
    let t = |v: Option<chrono::NaiveDateTime>| v.map(|t| t.and_utc().to_rfc3339());
    serde_json::json!({
        "id": id,
        "event": event,
        "occurredAt": wrap.updated_at.unwrap_or(wrap.created_at).and_utc().to_rfc3339(),
        "organizationId": wrap.organization_id,
        "campaign": campaign.map(|c| serde_json::json!({"id": c.id, "name": c.name})),
        "call": {
            "id": call.id,
            "origin": call.origin,
            "phone": call.phone,
            "outcome": call.outcome,
            "answeredBy": call.answered_by,
            "connectedAt": t(call.connected_at),
            "endedAt": t(call.ended_at),
        },
        "lead": lead.map(|l| serde_json::json!({
            "id": l.id,
            "phone": l.phone,
            "firstName": l.first_name,
            "lastName": l.last_name,
            "status": lead_status.unwrap_or(&l.status),
        })),
        "wrapUp": {
            "id": wrap.id,
            "agentId": wrap.agent_id,
            "dispositionCode": wrap.disposition_code,
            "category": wrap.category,
            "conversion": wrap.conversion,
            "notes": wrap.notes,
            "doNotCall": wrap.do_not_call,
            "doNotText": wrap.do_not_text,
            "revokeConsent": wrap.revoke_consent,
            "invalidNumber": wrap.invalid_number,
            "callbackAt": t(wrap.callback_at),
            "callbackAgentId": wrap.callback_agent_id,
            "automatic": wrap.automatic,
            "corrections": wrap.corrections,
            "createdAt": wrap.created_at.and_utc().to_rfc3339(),
        },
    })
    .to_string()
}

/// Start the delivery worker. It wakes on every wrap-up event, when the
/// next retry falls due, and every `poll` otherwise.
pub fn spawn(db: Db, events: Arc<dyn EventBus>, cfg: WebhookConfig) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let client = match reqwest::Client::builder()
            .timeout(cfg.timeout)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("Pinline-Webhooks/", env!("CARGO_PKG_VERSION")))
            .build()
        {
            Ok(c) => c,
            Err(e) => {
                tracing::error!("webhooks: cannot build the HTTP client: {e}");
                return;
            }
        };
        let mut wake = events
            .subscribe()
            .filter(|e| std::future::ready(matches!(e.kind, EventKind::WrapUp { .. })));
        loop {
            match run_due(&db, &client, &cfg).await {
                Ok(true) => continue,
                Ok(false) => {}
                Err(e) => tracing::warn!("webhooks: {e}"),
            }
            let mut sleep = cfg.poll;
            if let Ok(Some(next)) = store::outbox::next_due(&db).await {
                let until = (next - Utc::now().naive_utc()).to_std().unwrap_or_default();
                sleep = sleep.min(until);
            }
            tokio::select! {
                _ = tokio::time::sleep(sleep) => {}
                e = wake.next() => if e.is_none() { break },
            }
        }
    })
}

/// Send what is due; `true` when there may be more right away.
async fn run_due(
    db: &Db,
    client: &reqwest::Client,
    cfg: &WebhookConfig,
) -> Result<bool, store::StoreError> {
    const BATCH: i64 = 16;
    const PARALLEL: usize = 8;
    // Held for the longest the batch may take (sent `PARALLEL` at a time,
    // each within the timeout), and a margin: a sender that dies
    // mid-delivery leaves its rows to another instance after that.
    let now = Utc::now().naive_utc();
    let rounds = (BATCH as u32).div_ceil(PARALLEL as u32) + 1;
    let hold = chrono::Duration::from_std(cfg.timeout.saturating_mul(rounds))
        .unwrap_or(chrono::Duration::seconds(60))
        + chrono::Duration::seconds(5);
    let due = store::outbox::claim_due(db, now, BATCH, now + hold).await?;
    let full = due.len() as i64 == BATCH;
    let results: Vec<Result<(), store::StoreError>> = futures::stream::iter(due)
        .map(|row| deliver(db, client, cfg, row))
        .buffer_unordered(PARALLEL)
        .collect()
        .await;
    for r in results {
        r?;
    }
    Ok(full)
}

async fn deliver(
    db: &Db,
    client: &reqwest::Client,
    cfg: &WebhookConfig,
    row: OutboxRow,
) -> Result<(), store::StoreError> {
    let attempt = row.attempts.saturating_add(1);
    let started = Instant::now();
    let endpoint = store::follow_ups::endpoint(db, &row.endpoint_id).await?;
    let (status_code, error) = match endpoint {
        Some(e) if e.active => {
            let sent = client
                .post(&e.url)
                .header("content-type", "application/json")
                .header("webhook-id", &row.id)
                .header("webhook-timestamp", Utc::now().timestamp().to_string())
                .header("webhook-attempt", attempt.to_string())
                .header(
                    "webhook-signature",
                    signature(&e.secret, row.payload.as_bytes()),
                )
                .body(row.payload.clone())
                .send()
                .await;
            match sent {
                Ok(r) if r.status().is_success() => (Some(i32::from(r.status().as_u16())), None),
                Ok(r) => (
                    Some(i32::from(r.status().as_u16())),
                    Some(format!("the receiver answered HTTP {}", r.status())),
                ),
                Err(e) => (None, Some(describe(&e))),
            }
        }
        Some(_) => (None, Some("the endpoint is disabled".to_owned())),
        None => (None, Some("the endpoint was deleted".to_owned())),
    };
    let now = Utc::now().naive_utc();
    let retry_at = error.as_ref().map(|_| {
        now + chrono::Duration::from_std(backoff(cfg, u32::try_from(attempt).unwrap_or(u32::MAX)))
            .unwrap_or(chrono::Duration::hours(1))
    });
    if let Some(err) = &error {
        tracing::info!(webhook_id = %row.id, attempt, "webhook not delivered: {err}");
    }
    store::outbox::record(
        db,
        &Delivery {
            id: store::new_id(),
            outbox_id: row.id.clone(),
            attempt,
            at: now,
            status_code,
            error,
            duration_ms: i32::try_from(started.elapsed().as_millis()).unwrap_or(i32::MAX),
        },
        retry_at,
    )
    .await
}

fn describe(e: &reqwest::Error) -> String {
    if e.is_timeout() {
        "the receiver did not answer in time".into()
    } else if e.is_connect() {
        "cannot connect to the receiver".into()
    } else {
        format!("request failed: {e}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signature_is_hmac_sha256_of_the_body() {
        // RFC 4231 test case 2.
        assert_eq!(
            signature("Jefe", b"what do ya want for nothing?"),
            "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        let cfg = WebhookConfig {
            retry_base: Duration::from_secs(5),
            retry_cap: Duration::from_secs(60),
            ..WebhookConfig::default()
        };
        let d: Vec<u64> = (1..=6).map(|n| backoff(&cfg, n).as_secs()).collect();
        assert_eq!(d, vec![5, 10, 20, 40, 60, 60]);
        assert_eq!(backoff(&cfg, u32::MAX).as_secs(), 60);
    }

    #[test]
    fn secrets_are_new_each_time() {
        let (a, b) = (new_secret(), new_secret());
        assert!(a.starts_with("whsec_") && a.len() > 40);
        assert_ne!(a, b);
    }
}
