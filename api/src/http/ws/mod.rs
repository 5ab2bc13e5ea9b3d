//! `/graphql/ws`: subscriptions (and queries, mutations) over a websocket,
//! in `graphql-transport-ws` or the legacy `graphql-ws`.
//!
//! One task per socket owns it and its operations. It closes the socket
//! itself, with the protocol's code, when the client breaks the protocol
//! (4400 bad message, 4401 subscribe before the ack, 4409 a duplicate id,
//! 4429 a second `connection_init`), does not initialise in time (4408),
//! sends a token that does not hold (4403), when that token's access ends
//! anywhere — logout, a revoked API token, a deactivated user, a new
//! password or role — (4403, within a second), and when the server stops
//! (1001). Every new operation re-checks the token first.

mod protocol;

use std::net::SocketAddr;
use std::time::Duration;

use async_graphql::Data;
use axum::extract::ws::{CloseFrame, Message, WebSocket};
use axum::extract::{ConnectInfo, State, WebSocketUpgrade};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use futures::stream::BoxStream;
use futures::{FutureExt, StreamExt};
use serde_json::Value;
use tokio_stream::StreamMap;

use super::HttpState;
use super::graphql::{caller_for, token_from_init};
use crate::auth::{Actor, authenticate};
use crate::graphql::error::code_untyped_errors;
use crate::graphql::{Caller, RequestInfo};
use protocol::{ClientMessage, Operation, Proto, close};

/// Operations one socket may run at once.
pub const MAX_OPERATIONS: usize = 100;
/// How often the server checks a quiet socket is still there (a websocket
/// ping; the legacy protocol also gets its `ka`).
const KEEP_ALIVE: Duration = Duration::from_secs(25);
/// A socket that answers nothing (not even a ping) for this long is gone.
const DEAD_AFTER: Duration = Duration::from_secs(90);

pub async fn graphql_ws(
    State(state): State<HttpState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    upgrade: WebSocketUpgrade,
) -> Response {
    // The first protocol the client offers that we speak; none offered
    // means graphql-transport-ws.
    let offered: Vec<&str> = headers
        .get_all(header::SEC_WEBSOCKET_PROTOCOL)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .collect();
    let proto = if offered.is_empty() {
        Proto::TransportWs
    } else {
        match offered.iter().find_map(|p| Proto::from_name(p)) {
            Some(p) => p,
            None => {
                return (
                    StatusCode::BAD_REQUEST,
                    [(header::CONTENT_TYPE, "application/json; charset=utf-8")],
                    serde_json::json!({"errors": [{
                        "message": "unsupported websocket subprotocol: use graphql-transport-ws (or the legacy graphql-ws)",
                        "extensions": {"code": "VALIDATION"}
                    }]})
                    .to_string(),
                )
                    .into_response();
            }
        }
    };
    // Every socket starts without a token: it spends its address's
    // budget (given back at a valid `connection_init`).
    if let Some(refused) = super::graphql::spend(&state, peer, super::graphql::Media::Json).await {
        return refused;
    }
    let max = state.app.config.max_body_bytes;
    upgrade
        .protocols([Proto::TRANSPORT_WS, Proto::LEGACY])
        .max_message_size(max)
        .max_frame_size(max)
        .on_upgrade(move |socket| async move {
            let app = state.app.clone();
            app.metrics.ws_connections.inc();
            app.metrics.ws_connections_open.inc();
            let mut conn = Connection {
                state,
                proto,
                peer: peer.ip().to_string(),
                socket,
                session: None,
                operations: StreamMap::new(),
            };
            match conn.run().await {
                End::Closed(code) => tracing::debug!(%peer, code, "websocket closed by the server"),
                End::Gone => tracing::debug!(%peer, "websocket closed by the client"),
            }
            if let Some(session) = conn.session.take()
                && let Some(id) = session.actor.user_id()
            {
                app.engine.connection(id, false);
            }
            app.metrics.ws_connections_open.dec();
        })
}

/// The signed-in side of a socket, once `connection_init` was accepted.
struct Session {
    token: String,
    actor: Actor,
    data: std::sync::Arc<Data>,
}

type Results = BoxStream<'static, Option<async_graphql::Response>>;

struct Connection {
    state: HttpState,
    proto: Proto,
    peer: String,
    socket: WebSocket,
    session: Option<Session>,
    /// Each operation's results, then `None` when it ends.
    operations: StreamMap<String, Results>,
}

/// How a socket ended.
#[derive(Debug)]
enum End {
    /// We closed it with this code.
    Closed(u16),
    /// The client closed it or went away.
    Gone,
}

impl Connection {
    async fn run(&mut self) -> End {
        let app = self.state.app.clone();
        let timeouts = app.config.timeouts;
        let mut stopping = app.stopping.subscribe();
        if *stopping.borrow() {
            return self
                .close(close::GOING_AWAY, "the server is stopping")
                .await;
        }
        let mut revocations = app.events.subscribe_revocations();
        let init_deadline = tokio::time::sleep(timeouts.ws_init);
        tokio::pin!(init_deadline);
        let mut keep_alive = tokio::time::interval(KEEP_ALIVE);
        keep_alive.reset();
        let mut heard = tokio::time::Instant::now();
        loop {
            tokio::select! {
                incoming = self.socket.recv() => {
                    heard = tokio::time::Instant::now();
                    let text = match incoming {
                        None | Some(Err(_)) => return End::Gone,
                        Some(Ok(Message::Close(_))) => {
                            // Flush the close reply the socket queued.
                            let _ = futures::SinkExt::close(&mut self.socket).await;
                            return End::Gone;
                        }
                        Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
                        Some(Ok(Message::Text(t))) => t.to_string(),
                        Some(Ok(Message::Binary(b))) => match String::from_utf8(b.to_vec()) {
                            Ok(t) => t,
                            Err(_) => return self.close(close::BAD_REQUEST, "Invalid message received: not UTF-8").await,
                        },
                    };
                    if let Some(end) = self.on_message(&text).await {
                        return end;
                    }
                }
                Some((id, result)) = self.operations.next(), if !self.operations.is_empty() => {
                    if !self.forward(id, result).await {
                        return End::Gone;
                    }
                }
                () = &mut init_deadline, if self.session.is_none() => {
                    return self.close(close::INIT_TIMEOUT, "Connection initialisation timeout").await;
                }
                Some(revoked) = revocations.next() => {
                    if self.session.as_ref().is_some_and(|s| revoked.covers(&s.actor.principal)) {
                        return self.close(close::FORBIDDEN, "Forbidden: this session has ended").await;
                    }
                }
                _ = stopping.changed() => {
                    // What was published before the stop (the calls'
                    // ENDED) still goes out, then the close.
                    self.flush_operations().await;
                    return self.close(close::GOING_AWAY, "the server is stopping").await;
                }
                _ = keep_alive.tick() => {
                    if heard.elapsed() > DEAD_AFTER {
                        return End::Gone;
                    }
                    let ok = self.socket.send(Message::Ping(Default::default())).await.is_ok()
                        && (self.proto != Proto::Legacy || self.session.is_none()
                            || self.send(protocol::keep_alive()).await);
                    if !ok {
                        return End::Gone;
                    }
                }
            }
        }
    }

    /// Send what the subscriptions have ready: until 100 ms pass without
    /// anything, 500 ms at most.
    async fn flush_operations(&mut self) {
        let until = tokio::time::Instant::now() + std::time::Duration::from_millis(500);
        while !self.operations.is_empty() {
            let quiet =
                (tokio::time::Instant::now() + std::time::Duration::from_millis(100)).min(until);
            let Ok(Some((id, result))) =
                tokio::time::timeout_at(quiet, self.operations.next()).await
            else {
                return;
            };
            if !self.forward(id, result).await {
                return;
            }
        }
    }

    /// Send an operation's next result (or its completion); false when the
    /// socket is gone.
    async fn forward(&mut self, id: String, result: Option<async_graphql::Response>) -> bool {
        match result {
            Some(response) => {
                let payload =
                    serde_json::to_value(code_untyped_errors(response)).unwrap_or(Value::Null);
                self.send(protocol::next(self.proto, &id, &payload)).await
            }
            None => {
                self.operations.remove(&id);
                self.send(protocol::complete(&id)).await
            }
        }
    }

    /// Handle one client message; `Some` when the socket ends with it.
    async fn on_message(&mut self, text: &str) -> Option<End> {
        let message = match ClientMessage::parse(self.proto, text) {
            Ok(m) => m,
            Err(bad) => return Some(self.close(close::BAD_REQUEST, &bad.0).await),
        };
        match message {
            ClientMessage::Init { payload } => {
                if self.session.is_some() {
                    return Some(
                        self.close(close::TOO_MANY_INITS, "Too many initialisation requests")
                            .await,
                    );
                }
                self.init(payload).await
            }
            ClientMessage::Subscribe { id, operation } => {
                let Some(token) = self.session.as_ref().map(|s| s.token.clone()) else {
                    return Some(self.close(close::UNAUTHORIZED, "Unauthorized").await);
                };
                if self.operations.contains_key(&id) {
                    if self.proto == Proto::Legacy {
                        // The legacy protocol restarts an id.
                        self.operations.remove(&id);
                    } else {
                        return Some(
                            self.close(
                                close::DUPLICATE_ID,
                                &format!("Subscriber for {id} already exists"),
                            )
                            .await,
                        );
                    }
                }
                // The token must still hold for every new operation.
                let app = &self.state.app;
                if let Err(e) = authenticate(&app.db, &app.keys, &token, Utc::now()).await {
                    return Some(
                        self.close(close::FORBIDDEN, &format!("Forbidden: {e}"))
                            .await,
                    );
                }
                self.start(id, operation).await
            }
            ClientMessage::Complete { id } => {
                if self.operations.remove(&id).is_some() && self.proto == Proto::Legacy {
                    return (!self.send(protocol::complete(&id)).await).then_some(End::Gone);
                }
                None
            }
            ClientMessage::Ping { payload } => {
                (!self.send(protocol::pong(payload)).await).then_some(End::Gone)
            }
            ClientMessage::Pong => None,
            ClientMessage::Terminate => Some(self.close(1000, "terminated").await),
        }
    }

    async fn init(&mut self, payload: Value) -> Option<End> {
        let app = self.state.app.clone();
        let token = token_from_init(&payload);
        let refused = match caller_for(&app, token.as_deref()).await {
            Caller::Actor(actor) => {
                if let Some(id) = actor.user_id() {
                    app.engine.connection(id, true);
                }
                if let Ok(ip) = self.peer.parse() {
                    self.state.budget.refund(ip);
                }
                let mut data = Data::default();
                data.insert(RequestInfo {
                    caller: Caller::Actor(actor.clone()),
                    client_ip: self.peer.clone(),
                });
                self.session = Some(Session {
                    token: token.unwrap_or_default(),
                    actor,
                    data: std::sync::Arc::new(data),
                });
                let sent = self.send(protocol::ack()).await
                    && (self.proto != Proto::Legacy || self.send(protocol::keep_alive()).await);
                return (!sent).then_some(End::Gone);
            }
            Caller::Anonymous => {
                "Forbidden: send the token in connection_init: {\"token\": \"…\"}".to_owned()
            }
            Caller::Refused(reason) => format!("Forbidden: {reason}"),
        };
        if self.proto == Proto::Legacy {
            let _ = self.send(protocol::connection_error(&refused)).await;
        }
        Some(self.close(close::FORBIDDEN, &refused).await)
    }

    async fn start(&mut self, id: String, operation: Operation) -> Option<End> {
        if self.operations.len() >= MAX_OPERATIONS {
            let errors = serde_json::json!([{
                "message": format!("at most {MAX_OPERATIONS} operations may run on one connection"),
                "extensions": {"code": "RATE_LIMITED"}
            }]);
            return self
                .send_all(protocol::operation_errors(self.proto, &id, &errors))
                .await;
        }
        let Some(session) = &self.session else {
            return None;
        };
        let mut request = async_graphql::Request::new(operation.query);
        if let Some(name) = operation.operation_name {
            request = request.operation_name(name);
        }
        if let Some(vars) = operation.variables {
            request = request.variables(async_graphql::Variables::from_json(vars));
        }
        if let Some(ext) = operation.extensions {
            for (k, v) in ext {
                if let Ok(v) = async_graphql::Value::from_json(v) {
                    request.extensions.insert(k, v);
                }
            }
        }
        let mut results = self
            .state
            .schema
            .execute_stream_with_session_data(request, session.data.clone());
        // An operation refused before it ran (parse, limits, validation)
        // has its one result, errors and no data, at the first poll: the
        // protocol's `error`. Anything else runs on (a subscription may not
        // have a first result for hours: never wait for it here).
        let first = match results.next().now_or_never() {
            Some(None) => {
                return (!self.send(protocol::complete(&id)).await).then_some(End::Gone);
            }
            Some(Some(first)) => {
                let first = code_untyped_errors(first);
                if first.data == async_graphql::Value::Null
                    && !first.errors.is_empty()
                    && first.errors.iter().all(|e| e.path.is_empty())
                {
                    let errors = serde_json::to_value(&first.errors).unwrap_or(Value::Null);
                    return self
                        .send_all(protocol::operation_errors(self.proto, &id, &errors))
                        .await;
                }
                Some(first)
            }
            None => None,
        };
        let rest = futures::stream::iter(first.map(Some))
            .chain(results.map(Some))
            .chain(futures::stream::once(async { None }))
            .boxed();
        self.operations.insert(id, rest);
        None
    }

    async fn send(&mut self, text: String) -> bool {
        self.socket.send(Message::Text(text.into())).await.is_ok()
    }

    async fn send_all(&mut self, texts: Vec<String>) -> Option<End> {
        for t in texts {
            if !self.send(t).await {
                return Some(End::Gone);
            }
        }
        None
    }

    /// Close with `code`, then give the client a moment to answer the
    /// close before the socket is dropped.
    async fn close(&mut self, code: u16, reason: &str) -> End {
        // A close reason is at most 123 bytes.
        let mut reason = reason.to_owned();
        while reason.len() > 123 {
            reason.pop();
        }
        self.operations.clear();
        let frame = CloseFrame {
            code,
            reason: reason.into(),
        };
        if self.socket.send(Message::Close(Some(frame))).await.is_ok() {
            let _ = tokio::time::timeout(Duration::from_secs(1), async {
                while let Some(Ok(m)) = self.socket.recv().await {
                    if matches!(m, Message::Close(_)) {
                        break;
                    }
                }
            })
            .await;
        }
        End::Closed(code)
    }
}
