//! Hostile clients for `pinline bench engine --attack N`: N clients
//! (each from its own loopback address, in a child process on the idle
//! scheduling policy), without a token, sending the worst documents and bodies one can build at the
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

/// The hostile clients themselves (`pinline bench attack`, run as a
/// child process by the engine bench).
pub struct Hostile {
    stop: tokio::sync::watch::Sender<bool>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
    counts: Arc<(AtomicUsize, AtomicUsize, AtomicUsize)>,
}

impl Hostile {
    /// Start `clients` attackers against `base` (`http://host:port`).
    /// `benign`: the same clients sending `{ __typename }` and no slow
    /// connections — what the same request rate costs the two cores
    /// without any hostility, the baseline for the worst documents.
    pub fn start(base: &str, clients: usize, benign: bool) -> Hostile {
        let (stop, stopped) = tokio::sync::watch::channel(false);
        let counts = Arc::new((
            AtomicUsize::new(0),
            AtomicUsize::new(0),
            AtomicUsize::new(0),
        ));
        // Shared bytes: sending one costs the attacker no copy.
        let payloads: Arc<Vec<axum::body::Bytes>> = Arc::new(
            if benign {
                vec![
                    serde_json::json!({"query": "{ __typename }"})
                        .to_string()
                        .into_bytes(),
                ]
            } else {
                payloads()
            }
            .into_iter()
            .map(axum::body::Bytes::from)
            .collect(),
        );
        let client_at = |ip: Option<std::net::IpAddr>| {
            reqwest::Client::builder()
                .timeout(Duration::from_secs(60))
                .local_address(ip)
                .build()
                .unwrap_or_default()
        };
        let addr = base.trim_start_matches("http://").to_owned();
        let mut tasks = Vec::new();
        for c in 0..clients {
            // Each attacker from an address of its own (all of 127/8 is
            // this machine's), so per-address budgets hold each one, not
            // all of them together.
            let from = std::net::IpAddr::V4(std::net::Ipv4Addr::new(127, 0, 1, 1 + c as u8));
            let (client, payloads, counts, base) = (
                client_at(Some(from)),
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
                    let connect = || async {
                        let to = tokio::net::lookup_host(&addr)
                            .await?
                            .next()
                            .ok_or_else(|| std::io::Error::other("no address"))?;
                        let sock = tokio::net::TcpSocket::new_v4()?;
                        sock.bind(std::net::SocketAddr::new(from, 0))?;
                        sock.connect(to).await
                    };
                    while !*stopped.borrow() {
                        let Ok(mut sock) = connect().await else {
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
        Hostile {
            stop,
            tasks,
            counts,
        }
    }

    /// Stop; the requests sent, refused as asked, and anything else.
    pub async fn finish(self) -> (usize, usize, usize) {
        let _ = self.stop.send(true);
        for t in self.tasks {
            t.abort();
            let _ = t.await;
        }
        (
            self.counts.0.load(Ordering::Relaxed),
            self.counts.1.load(Ordering::Relaxed),
            self.counts.2.load(Ordering::Relaxed),
        )
    }
}

/// The attack as the engine bench runs it: the hostile clients in a child
/// process on the idle scheduling policy (attackers' machines are not
/// ours: their CPU must not be taken from the server's threads, whose
/// wakeups preempt it; the server's kernel still carries their traffic), and a
/// probe timing `/healthz` every 100 ms in this one.
pub struct Attack {
    child: Option<tokio::process::Child>,
    stop: tokio::sync::watch::Sender<bool>,
    probe: tokio::task::JoinHandle<()>,
    healthz: Arc<Mutex<(Vec<Duration>, usize)>>,
}

impl Attack {
    pub fn start(
        base: &str,
        clients: usize,
        benign: bool,
        seconds: u64,
    ) -> std::io::Result<Attack> {
        let child = if clients > 0 {
            let exe = std::env::current_exe()?;
            let mut cmd = tokio::process::Command::new(exe);
            // SAFETY: the hook makes one system call, no allocation.
            unsafe {
                cmd.pre_exec(crate::http::lane::idle_policy);
            }
            cmd.args(["bench", "attack", "--url", base])
                .args(["--clients", &clients.to_string()])
                .args(["--seconds", &seconds.to_string()])
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::inherit())
                .kill_on_drop(true);
            if benign {
                cmd.arg("--benign");
            }
            Some(cmd.spawn()?)
        } else {
            None
        };
        let (stop, mut stopped) = tokio::sync::watch::channel(false);
        let healthz = Arc::new(Mutex::new((Vec::new(), 0usize)));
        let h = healthz.clone();
        let client = reqwest::Client::new();
        let base = base.to_owned();
        let probe = tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_millis(100));
            loop {
                tokio::select! {
                    _ = tick.tick() => {}
                    _ = stopped.changed() => return,
                }
                let at = Instant::now();
                let ok = client
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
        });
        Ok(Attack {
            child,
            stop,
            probe,
            healthz,
        })
    }

    /// Stop the probe and collect the child's counts (it stops by itself
    /// after the bench's seconds).
    pub async fn finish(self) -> AttackReport {
        let _ = self.stop.send(true);
        let _ = self.probe.await;
        let (healthz, failed) =
            std::mem::take(&mut *self.healthz.lock().unwrap_or_else(|p| p.into_inner()));
        let mut report = AttackReport {
            healthz,
            healthz_failed: failed,
            ..Default::default()
        };
        if let Some(child) = self.child
            && let Ok(out) = child.wait_with_output().await
        {
            // "requests refused other" on its last line.
            let text = String::from_utf8_lossy(&out.stdout);
            let n: Vec<usize> = text
                .lines()
                .last()
                .unwrap_or("")
                .split_whitespace()
                .filter_map(|w| w.parse().ok())
                .collect();
            if let [requests, refused, other] = n[..] {
                report.requests = requests;
                report.refused = refused;
                report.other = other;
            }
        }
        report
    }
}
