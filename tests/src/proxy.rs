//! A TCP proxy between a client and the server that the test can cut: every
//! open connection is dropped at once and new ones are refused for a while,
//! as when a laptop's Wi-Fi goes away. The browser tests load the web app
//! through it to drop its websocket mid-call.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio::io::copy_bidirectional;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

pub struct Proxy {
    /// `http://127.0.0.1:PORT`: the server, through the proxy.
    pub url: String,
    /// Bumped on each cut; connections from before a bump end.
    generation: watch::Sender<u64>,
    /// Until when (ms since the proxy started) new connections are refused.
    down_until: Arc<AtomicU64>,
    started: tokio::time::Instant,
    task: tokio::task::JoinHandle<()>,
}

impl Proxy {
    /// Proxy to `target` (`http://host:port` or `host:port`).
    pub async fn start(target: &str) -> Proxy {
        let target = target
            .trim_start_matches("http://")
            .trim_end_matches('/')
            .to_owned();
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let (generation, watcher) = watch::channel(0u64);
        let down_until = Arc::new(AtomicU64::new(0));
        let started = tokio::time::Instant::now();
        let down = down_until.clone();
        let task = tokio::spawn(async move {
            loop {
                let Ok((mut client, _)) = listener.accept().await else {
                    return;
                };
                let now = started.elapsed().as_millis() as u64;
                if now < down.load(Ordering::SeqCst) {
                    drop(client);
                    continue;
                }
                let target = target.clone();
                let mut cut = watcher.clone();
                let born = *cut.borrow_and_update();
                tokio::spawn(async move {
                    let Ok(mut server) = TcpStream::connect(&target).await else {
                        return;
                    };
                    tokio::select! {
                        _ = copy_bidirectional(&mut client, &mut server) => {}
                        _ = async {
                            while cut.changed().await.is_ok() {
                                if *cut.borrow() != born { break; }
                            }
                        } => {}
                    }
                });
            }
        });
        Proxy {
            url: format!("http://{addr}"),
            generation,
            down_until,
            started,
            task,
        }
    }

    /// Drop every open connection and refuse new ones for `outage`.
    pub fn cut(&self, outage: Duration) {
        let until = self.started.elapsed() + outage;
        self.down_until
            .store(until.as_millis() as u64, Ordering::SeqCst);
        self.generation.send_modify(|g| *g += 1);
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}
