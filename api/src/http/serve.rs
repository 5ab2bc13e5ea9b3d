//! The accept loop: each connection served by hyper with the edge's
//! clocks — headers must arrive within `header_read`, a kept-alive
//! connection that starts no request within `idle` is closed — and a stop
//! that finishes requests in flight, tells every websocket (close 1001),
//! and waits for neither longer than [`DRAIN`].

use std::pin::pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto::Builder;
use hyper_util::service::TowerToHyperService;
use tokio::sync::watch;
use tower::ServiceExt;

use crate::config::HttpTimeouts;

/// How long a stop waits for requests and websockets to finish.
pub const DRAIN: Duration = Duration::from_secs(5);

/// Serve `router` on `listener` until `shutdown` resolves; then stop
/// accepting, signal `stopping` (websockets close with 1001), let requests
/// in flight finish, and return.
pub async fn serve(
    router: Router,
    listener: tokio::net::TcpListener,
    timeouts: HttpTimeouts,
    stopping: watch::Sender<bool>,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let mut shutdown = pin!(shutdown);
    let open = Arc::new(AtomicUsize::new(0));
    let (drain_tx, drain_rx) = watch::channel(false);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(pair) => pair,
                Err(e) => {
                    // Out of descriptors and the like: wait, do not spin.
                    tracing::warn!(error = %e, "accepting a connection");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        let router = router.clone();
        let open = open.clone();
        let mut drain = drain_rx.clone();
        open.fetch_add(1, Ordering::SeqCst);
        tokio::spawn(async move {
            let io = IdleIo::new(stream, timeouts.idle);
            let idle = io.idle.clone();
            let busy = io.idle.clone();
            let service = tower::service_fn(move |mut req: hyper::Request<Incoming>| {
                req.extensions_mut().insert(ConnectInfo(peer));
                let working = Working::start(busy.clone());
                let response = router.clone().oneshot(req.map(Body::new));
                async move {
                    let r = response.await;
                    drop(working);
                    r
                }
            });
            let mut builder = Builder::new(TokioExecutor::new());
            builder
                .http1()
                .timer(TokioTimer::new())
                .header_read_timeout(timeouts.header_read)
                .max_buf_size(64 * 1024);
            builder
                .http2()
                .timer(TokioTimer::new())
                .keep_alive_interval(timeouts.idle / 2)
                .max_concurrent_streams(100);
            let mut conn = pin!(builder.serve_connection_with_upgrades(
                TokioIo::new(io),
                TowerToHyperService::new(service)
            ));
            let mut draining = false;
            loop {
                tokio::select! {
                    result = conn.as_mut() => {
                        if let Err(e) = result {
                            tracing::debug!(%peer, "connection ended: {e}");
                        }
                        break;
                    }
                    changed = drain.changed(), if !draining => {
                        let _ = changed;
                        draining = true;
                        conn.as_mut().graceful_shutdown();
                    }
                    () = idle.expired() => {
                        // Nothing read or written for the idle time: a
                        // kept-alive connection nobody uses, or a body
                        // that stopped arriving.
                        tracing::debug!(%peer, "closing an idle connection");
                        break;
                    }
                }
            }
            open.fetch_sub(1, Ordering::SeqCst);
        });
    }
    drop(listener);
    let _ = stopping.send(true);
    let _ = drain_tx.send(true);
    let deadline = tokio::time::Instant::now() + DRAIN;
    while open.load(Ordering::SeqCst) > 0 && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    Ok(())
}

/// A socket that remembers when it last moved a byte, so its connection
/// can be closed after `idle` of silence in both directions while no
/// request is being handled. An upgraded websocket leaves this loop (hyper
/// hands its IO over), so long-lived sockets are the websocket layer's to
/// time.
struct IdleIo {
    inner: tokio::net::TcpStream,
    idle: Arc<Idle>,
}

struct Idle {
    limit: Duration,
    last: std::sync::Mutex<tokio::time::Instant>,
    /// Requests being handled: a slow handler is not an idle connection.
    busy: AtomicUsize,
}

/// One request in a handler; counted in [`Idle::busy`] until dropped.
struct Working(Arc<Idle>);

impl Working {
    fn start(idle: Arc<Idle>) -> Self {
        idle.busy.fetch_add(1, Ordering::SeqCst);
        Working(idle)
    }
}

impl Drop for Working {
    fn drop(&mut self) {
        self.0.busy.fetch_sub(1, Ordering::SeqCst);
        self.0.touch();
    }
}

impl Idle {
    fn touch(&self) {
        *self.last.lock().unwrap_or_else(|p| p.into_inner()) = tokio::time::Instant::now();
    }

    /// Resolves once nothing moved for the limit.
    async fn expired(&self) {
        loop {
            let last = *self.last.lock().unwrap_or_else(|p| p.into_inner());
            let at = last + self.limit;
            if tokio::time::Instant::now() >= at && self.busy.load(Ordering::SeqCst) == 0 {
                return;
            }
            tokio::time::sleep_until(
                at.max(tokio::time::Instant::now() + Duration::from_millis(100)),
            )
            .await;
        }
    }
}

impl IdleIo {
    fn new(inner: tokio::net::TcpStream, limit: Duration) -> Self {
        IdleIo {
            inner,
            idle: Arc::new(Idle {
                limit,
                last: std::sync::Mutex::new(tokio::time::Instant::now()),
                busy: AtomicUsize::new(0),
            }),
        }
    }
}

impl tokio::io::AsyncRead for IdleIo {
    fn poll_read(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let polled = std::pin::Pin::new(&mut self.inner).poll_read(cx, buf);
        if buf.filled().len() > before {
            self.idle.touch();
        }
        polled
    }
}

impl tokio::io::AsyncWrite for IdleIo {
    fn poll_write(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        data: &[u8],
    ) -> std::task::Poll<std::io::Result<usize>> {
        let polled = std::pin::Pin::new(&mut self.inner).poll_write(cx, data);
        if matches!(polled, std::task::Poll::Ready(Ok(n)) if n > 0) {
            self.idle.touch();
        }
        polled
    }

    fn poll_flush(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}
