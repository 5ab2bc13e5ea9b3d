//! GraphQL over HTTP and websocket: authenticate the caller from the bearer
//! token (HTTP header, or the `connection_init` payload on websockets) and
//! hand the request to the schema.

use std::net::SocketAddr;

use async_graphql::Data;
use async_graphql::http::{ALL_WEBSOCKET_PROTOCOLS, GraphiQLSource};
use async_graphql_axum::{GraphQLProtocol, GraphQLRequest, GraphQLResponse, GraphQLWebSocket};
use axum::extract::{ConnectInfo, State, WebSocketUpgrade};
use axum::http::HeaderMap;
use axum::response::{Html, IntoResponse, Response};
use chrono::Utc;

use super::HttpState;
use crate::app::App;
use crate::auth::{AuthError, authenticate};
use crate::graphql::error::{ApiError, code_untyped_errors};
use crate::graphql::{Caller, RequestInfo};

pub async fn graphiql() -> Html<String> {
    Html(
        GraphiQLSource::build()
            .endpoint("/graphql")
            .subscription_endpoint("/graphql/ws")
            .title("Pinline GraphQL")
            .finish(),
    )
}

/// Strip an optional `Bearer ` prefix.
fn bearer(value: &str) -> Option<&str> {
    let v = value.trim();
    let token = match v.split_once(' ') {
        Some((scheme, rest)) if scheme.eq_ignore_ascii_case("bearer") => rest.trim(),
        Some(_) => return None,
        None => v,
    };
    (!token.is_empty()).then_some(token)
}

async fn caller_for(app: &App, token: Option<&str>) -> Caller {
    let Some(token) = token else {
        return Caller::Anonymous;
    };
    match authenticate(&app.db, &app.keys, token, Utc::now()).await {
        Ok(actor) => Caller::Actor(actor),
        Err(AuthError::Unauthenticated(reason)) => Caller::Refused(reason.to_owned()),
        Err(AuthError::Store(e)) => {
            tracing::error!(error = %e, "checking a token");
            Caller::Refused("the token could not be checked: try again".to_owned())
        }
    }
}

/// The caller named by an `Authorization: Bearer` header.
pub async fn caller_from_headers(app: &App, headers: &HeaderMap) -> Caller {
    match headers.get(axum::http::header::AUTHORIZATION) {
        None => Caller::Anonymous,
        Some(value) => match value.to_str().ok().and_then(bearer) {
            Some(token) => caller_for(app, Some(token)).await,
            None => Caller::Refused("the Authorization header must be `Bearer <token>`".to_owned()),
        },
    }
}

pub async fn graphql_post(
    State(state): State<HttpState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    request: GraphQLRequest,
) -> GraphQLResponse {
    let caller = caller_from_headers(&state.app, &headers).await;
    let info = RequestInfo {
        caller,
        client_ip: peer.ip().to_string(),
    };
    let response = state.schema.execute(request.into_inner().data(info)).await;
    code_untyped_errors(response).into()
}

/// The token from a `connection_init` payload: `token`, `authToken`,
/// `Authorization` / `authorization` (with or without `Bearer `), or the
/// same inside `headers`, as different clients send it.
fn token_from_init(payload: &serde_json::Value) -> Option<String> {
    let pick = |v: &serde_json::Value| -> Option<String> {
        ["token", "authToken", "Authorization", "authorization"]
            .iter()
            .find_map(|k| v.get(*k).and_then(|t| t.as_str()))
            .and_then(bearer)
            .map(str::to_owned)
    };
    pick(payload).or_else(|| payload.get("headers").and_then(pick))
}

pub async fn graphql_ws(
    State(state): State<HttpState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    protocol: GraphQLProtocol,
    upgrade: WebSocketUpgrade,
) -> Response {
    upgrade
        .protocols(ALL_WEBSOCKET_PROTOCOLS)
        .on_upgrade(move |socket| async move {
            let metrics_app = state.app.clone();
            metrics_app.metrics.ws_connections.inc();
            metrics_app.metrics.ws_connections_open.inc();
            let app = state.app.clone();
            // The signed-in user of this connection, for the engine's
            // session grace period.
            let user: std::sync::Arc<std::sync::Mutex<Option<String>>> = Default::default();
            let user_seen = user.clone();
            GraphQLWebSocket::new(socket, state.schema.clone(), protocol)
                .on_connection_init(move |payload| async move {
                    let token = token_from_init(&payload);
                    match caller_for(&app, token.as_deref()).await {
                        Caller::Actor(actor) => {
                            if let Some(id) = actor.user_id() {
                                app.engine.connection(id, true);
                                *user_seen.lock().unwrap_or_else(|p| p.into_inner()) =
                                    Some(id.to_owned());
                            }
                            let mut data = Data::default();
                            data.insert(RequestInfo {
                                caller: Caller::Actor(actor),
                                client_ip: peer.ip().to_string(),
                            });
                            Ok(data)
                        }
                        Caller::Anonymous => Err(ApiError::Unauthenticated(
                            "send the token in connection_init: {\"token\": \"…\"}".into(),
                        )
                        .into()),
                        Caller::Refused(reason) => Err(ApiError::Unauthenticated(reason).into()),
                    }
                })
                .serve()
                .await;
            let user = user.lock().unwrap_or_else(|p| p.into_inner()).take();
            if let Some(id) = user {
                metrics_app.engine.connection(&id, false);
            }
            metrics_app.metrics.ws_connections_open.dec();
        })
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_found_where_clients_put_them() {
        use serde_json::json;
        assert_eq!(
            token_from_init(&json!({"token": "a"})).as_deref(),
            Some("a")
        );
        assert_eq!(
            token_from_init(&json!({"Authorization": "Bearer b"})).as_deref(),
            Some("b")
        );
        assert_eq!(
            token_from_init(&json!({"headers": {"authorization": "bearer c"}})).as_deref(),
            Some("c")
        );
        assert_eq!(token_from_init(&json!({})), None);
        assert_eq!(token_from_init(&json!({"token": "Basic x"})), None);
    }
}
