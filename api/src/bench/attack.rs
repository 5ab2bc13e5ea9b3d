//! Hostile clients for `pinline bench engine --attack N`: N tasks, without
//! a token, sending the worst documents and bodies one can build at the
//! API as fast as the server answers — a fragment fan-out (2^40
//! selections), 2,100 aliases, 5,000 nested brackets, nested lists of
//! 200 × 200, a body over the limit — and each keeping slow connections
//! open (headers or a body dribbled a byte a second). Meanwhile a probe
//! times `GET /healthz` every 100 ms. The engine bench around it measures
//! answer → CONNECTED as usual, so both compare with a run without attack.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::io::AsyncWriteExt;

/// What the attack did, and what `/healthz` looked like meanwhile.
#[derive(Debug, Default)]
pub struct AttackReport {
    pub requests: usize,
    /// Answers by status class: refused as asked (4xx), anything else.
    pub refused: usize,
    pub other: usize,
    pub healthz: Vec<Duration>,
    pub healthz_failed: usize,
}

pub struct Attack {
    stop: tokio::sync::watch::Sender<bool>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
    counts: Arc<(AtomicUsize, AtomicUsize, AtomicUsize)>,
    healthz: Arc<Mutex<(Vec<Duration>, usize)>>,
}

/// The documents and bodies, round robin.
fn payloads() -> Vec<Vec<u8>> {
    let mut aliases = String::from("query { ");
    for i in 0..2_100 {
        aliases.push_str(&format!("a{i}: __typename "));
    }
    aliases.push('}');
    let deep = format!("{{{}{}", "a {".repeat(5_000), "}".repeat(5_001));
    let lists = "query { campaigns(first: 200) { edges { node { id leads(first: 200) { edges { node { id phone customProperties { key value } } } } } } } }";
    let json = |q: &str| serde_json::json!({ "query": q }).to_string().into_bytes();
    vec![
        json(&crate::graphql::limits::fragment_bomb(40)),
        json(&aliases),
        json(&deep),
        json(lists),
        // Over the 4 MB limit.
        {
            let mut big = br#"{"query":"{ __typename }","variables":{"x":""#.to_vec();
            big.extend(std::iter::repeat_n(b'x', 5 * 1024 * 1024));
            big.extend_from_slice(br#""}}"#);
            big
        },
    ]
}

impl Attack {
    /// Start `clients` attackers and the `/healthz` probe against `base`
    /// (`http://host:port`).
    /// `benign`: the same clients sending `{ __typename }` and no slow
    /// connections — what the same request rate costs the two cores
    /// without any hostility, the baseline for the worst documents.
    pub fn start(base: &str, clients: usize, benign: bool) -> Attack {
        let (stop, stopped) = tokio::sync::watch::channel(false);
        let counts = Arc::new((
            AtomicUsize::new(0),
            AtomicUsize::new(0),
            AtomicUsize::new(0),
        ));
        let healthz = Arc::new(Mutex::new((Vec::new(), 0usize)));
        let payloads = Arc::new(if benign {
            vec![
                serde_json::json!({"query": "{ __typename }"})
                    .to_string()
                    .into_bytes(),
            ]
        } else {
            payloads()
        });
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(60))
            .build()
            .unwrap_or_default();
        let addr = base.trim_start_matches("http://").to_owned();
        let mut tasks = Vec::new();
        for c in 0..clients {
            let (client, payloads, counts, base) = (
                client.clone(),
                payloads.clone(),
                counts.clone(),
                base.to_owned(),
            );
            let mut stop_rx = stopped.clone();
            tasks.push(tokio::spawn(async move {
                let mut i = c;
                while !*stop_rx.borrow() {
                    let body = payloads[i % payloads.len()].clone();
                    i += 1;
                    let sent = client
                        .post(format!("{base}/graphql"))
                        .header("content-type", "application/json")
                        .body(body)
                        .send();
                    let status = tokio::select! {
                        r = sent => r.map(|r| r.status().as_u16()).unwrap_or(0),
                        _ = stop_rx.changed() => break,
                    };
                    counts.0.fetch_add(1, Ordering::Relaxed);
                    // 200 with VALIDATION errors or 4xx: refused as it should be.
                    if (200..500).contains(&status) {
                        counts.1.fetch_add(1, Ordering::Relaxed);
                    } else {
                        counts.2.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }));
            // Slow connections: ten at a time per client, a byte a second.
            for s in 0..if benign { 0 } else { 10 } {
                let (addr, mut stopped) = (addr.clone(), stopped.clone());
                tasks.push(tokio::spawn(async move {
                    while !*stopped.borrow() {
                        let Ok(mut sock) = tokio::net::TcpStream::connect(&addr).await else {
                            tokio::time::sleep(Duration::from_secs(1)).await;
                            continue;
                        };
                        let head: &[u8] = if s % 2 == 0 {
                            b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: "
                        } else {
                            b"POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{"
                        };
                        if sock.write_all(head).await.is_err() {
                            continue;
                        }
                        loop {
                            tokio::select! {
                                _ = tokio::time::sleep(Duration::from_secs(1)) => {}
                                _ = stopped.changed() => return,
                            }
                            if sock.write_all(b"x").await.is_err() {
                                break;
                            }
                        }
                    }
                }));
            }
        }
        let (probe, mut stopped_probe, h) = (client, stopped.clone(), healthz.clone());
        let base = base.to_owned();
        tasks.push(tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_millis(100));
            loop {
                tokio::select! {
                    _ = tick.tick() => {}
                    _ = stopped_probe.changed() => return,
                }
                let at = Instant::now();
                let ok = probe
                    .get(format!("{base}/healthz"))
                    .timeout(Duration::from_secs(5))
                    .send()
                    .await
                    .is_ok_and(|r| r.status().is_success());
                let mut h = h.lock().unwrap_or_else(|p| p.into_inner());
                if ok {
                    h.0.push(at.elapsed());
                } else {
                    h.1 += 1;
                }
            }
        }));
        Attack {
            stop,
            tasks,
            counts,
            healthz,
        }
    }

    pub async fn finish(self) -> AttackReport {
        let _ = self.stop.send(true);
        for t in self.tasks {
            t.abort();
            let _ = t.await;
        }
        let (healthz, failed) =
            std::mem::take(&mut *self.healthz.lock().unwrap_or_else(|p| p.into_inner()));
        AttackReport {
            requests: self.counts.0.load(Ordering::Relaxed),
            refused: self.counts.1.load(Ordering::Relaxed),
            other: self.counts.2.load(Ordering::Relaxed),
            healthz,
            healthz_failed: failed,
        }
    }
}
