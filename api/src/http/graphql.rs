//! GraphQL over HTTP, as the GraphQL-over-HTTP specification says: `POST`
//! with a JSON body, `GET` with the parameters in the URL (queries only),
//! answers in `application/graphql-response+json` or `application/json` by
//! the `Accept` header, request errors as JSON with `extensions.code` and
//! the status the specification asks for. GraphiQL for browsers asking for
//! HTML. Automatic persisted queries (Apollo's APQ) on both methods.

use std::net::SocketAddr;
use std::time::Duration;

use async_graphql::parser::types::{DocumentOperations, OperationType};
use axum::body::Body;
use axum::extract::{ConnectInfo, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use chrono::Utc;
use futures::StreamExt;
use serde_json::{Map, Value, json};

use super::HttpState;
use super::budget::OverBudget;
use super::persisted::{Persisted, PersistedQueries};
use crate::app::App;
use crate::auth::{AuthError, authenticate};
use crate::graphql::error::code_untyped_errors;
use crate::graphql::{Caller, RequestInfo};

/// GraphiQL's page (see `graphiql.html` for where its scripts come from).
pub async fn graphiql() -> Response {
    (
        [
            (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
            (
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_static(super::web::GRAPHIQL_CSP),
            ),
        ],
        Html(include_str!("graphiql.html")),
    )
        .into_response()
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

pub(super) async fn caller_for(app: &App, token: Option<&str>) -> Caller {
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

/// The token from a `connection_init` payload: `token`, `authToken`,
/// `Authorization` / `authorization` (with or without `Bearer `), or the
/// same inside `headers`, as different clients send it.
pub(super) fn token_from_init(payload: &serde_json::Value) -> Option<String> {
    let pick = |v: &serde_json::Value| -> Option<String> {
        ["token", "authToken", "Authorization", "authorization"]
            .iter()
            .find_map(|k| v.get(*k).and_then(|t| t.as_str()))
            .and_then(bearer)
            .map(str::to_owned)
    };
    pick(payload).or_else(|| payload.get("headers").and_then(pick))
}

/// What the client accepts back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Media {
    /// `application/graphql-response+json`: request errors are 4xx.
    GraphQLResponse,
    /// `application/json`: every well-formed request is 200.
    Json,
    /// A browser's page load: GraphiQL.
    Html,
}

impl Media {
    fn content_type(self) -> &'static str {
        match self {
            Media::GraphQLResponse => "application/graphql-response+json; charset=utf-8",
            _ => "application/json; charset=utf-8",
        }
    }
}

/// The first type in `Accept` we can answer with (q=0 excluded); none
/// sent means JSON. `None`: nothing acceptable.
pub fn negotiate(accept: Option<&str>) -> Option<Media> {
    let Some(accept) = accept.filter(|a| !a.trim().is_empty()) else {
        return Some(Media::Json);
    };
    let mut ranges: Vec<(f32, usize, &str)> = Vec::new();
    for (i, part) in accept.split(',').enumerate() {
        let mut bits = part.split(';');
        let range = bits.next().unwrap_or("").trim();
        let q = bits
            .filter_map(|p| p.trim().strip_prefix("q="))
            .find_map(|q| q.trim().parse::<f32>().ok())
            .unwrap_or(1.0);
        if q > 0.0 {
            ranges.push((q, i, range));
        }
    }
    // Highest quality first, then the client's order.
    ranges.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
    ranges.iter().find_map(|(_, _, r)| {
        let r = r.to_ascii_lowercase();
        match r.as_str() {
            "application/graphql-response+json" => Some(Media::GraphQLResponse),
            "application/json" | "application/*" | "*/*" => Some(Media::Json),
            "text/html" => Some(Media::Html),
            _ => None,
        }
    })
}

/// A request refused before GraphQL ran: a JSON error body with a code.
pub fn request_error(status: StatusCode, media: Media, code: &str, message: &str) -> Response {
    let body = json!({"errors": [{"message": message, "extensions": {"code": code}}]});
    (
        status,
        [
            (header::CONTENT_TYPE, media.content_type()),
            (header::CACHE_CONTROL, "no-store"),
        ],
        body.to_string(),
    )
        .into_response()
}

fn bad_request(media: Media, message: &str) -> Response {
    request_error(StatusCode::BAD_REQUEST, media, "VALIDATION", message)
}

/// The GraphQL parameters of one request, as sent.
struct Params {
    query: Option<String>,
    operation_name: Option<String>,
    variables: Option<Map<String, Value>>,
    extensions: Option<Map<String, Value>>,
}

impl Params {
    /// From a JSON body's object (`POST`).
    fn from_json(body: Map<String, Value>) -> Result<Params, String> {
        let mut p = Params {
            query: None,
            operation_name: None,
            variables: None,
            extensions: None,
        };
        for (k, v) in body {
            match (k.as_str(), v) {
                (_, Value::Null) => {}
                ("query", Value::String(s)) => p.query = Some(s),
                ("query", _) => return Err("`query` must be a string".into()),
                ("operationName", Value::String(s)) => p.operation_name = Some(s),
                ("operationName", _) => return Err("`operationName` must be a string".into()),
                ("variables", Value::Object(m)) => p.variables = Some(m),
                ("variables", _) => return Err("`variables` must be a map".into()),
                ("extensions", Value::Object(m)) => p.extensions = Some(m),
                ("extensions", _) => return Err("`extensions` must be a map".into()),
                // Unknown keys are ignored, as the specification allows.
                _ => {}
            }
        }
        Ok(p)
    }

    /// From the URL's query string (`GET`): `variables` and `extensions`
    /// are JSON text.
    fn from_url(raw: &str) -> Result<Params, String> {
        let mut p = Params {
            query: None,
            operation_name: None,
            variables: None,
            extensions: None,
        };
        let map = |name: &str, text: &str| -> Result<Option<Map<String, Value>>, String> {
            match serde_json::from_str::<Value>(text) {
                Ok(Value::Object(m)) => Ok(Some(m)),
                Ok(Value::Null) => Ok(None),
                _ => Err(format!("`{name}` must be a JSON map")),
            }
        };
        for (k, v) in form_urlencoded(raw) {
            match k.as_str() {
                "query" => p.query = Some(v),
                "operationName" if !v.is_empty() => p.operation_name = Some(v),
                "variables" if !v.is_empty() => p.variables = map("variables", &v)?,
                "extensions" if !v.is_empty() => p.extensions = map("extensions", &v)?,
                _ => {}
            }
        }
        Ok(p)
    }
}

/// `application/x-www-form-urlencoded` pairs (a URL's query string).
fn form_urlencoded(raw: &str) -> Vec<(String, String)> {
    fn hex(b: u8) -> Option<u8> {
        (b as char).to_digit(16).map(|d| d as u8)
    }
    fn decode(s: &str) -> String {
        let bytes = s.as_bytes();
        let mut out = Vec::with_capacity(bytes.len());
        let mut i = 0;
        while i < bytes.len() {
            match bytes[i] {
                b'+' => out.push(b' '),
                b'%' => match (
                    bytes.get(i + 1).and_then(|b| hex(*b)),
                    bytes.get(i + 2).and_then(|b| hex(*b)),
                ) {
                    (Some(h), Some(l)) => {
                        out.push(h * 16 + l);
                        i += 2;
                    }
                    _ => out.push(b'%'),
                },
                b => out.push(b),
            }
            i += 1;
        }
        String::from_utf8_lossy(&out).into_owned()
    }
    raw.split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (decode(k), decode(v))
        })
        .collect()
}

pub async fn graphql_get(
    State(state): State<HttpState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Response {
    let accept = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok());
    let Some(media) = negotiate(accept) else {
        return not_acceptable();
    };
    let raw = raw.unwrap_or_default();
    if media == Media::Html {
        return graphiql().await;
    }
    let caller = caller_from_headers(&state.app, &headers).await;
    let _slot = match admit(&state, &caller, peer, media).await {
        Ok(slot) => slot,
        Err(refused) => return refused,
    };
    let params = match Params::from_url(&raw) {
        Ok(p) => p,
        Err(m) => return bad_request(media, &m),
    };
    answer(&state, caller, peer, media, params, Method::GET).await
}

pub async fn graphql_post(
    State(state): State<HttpState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let accept = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok());
    let media = match negotiate(accept) {
        Some(Media::Html) | None => {
            // The specification: answer JSON rather than refuse.
            Media::Json
        }
        Some(m) => m,
    };
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if let Err(why) = json_content_type(content_type) {
        return request_error(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            media,
            "VALIDATION",
            &why,
        );
    }
    let config = &state.app.config;
    let caller = caller_from_headers(&state.app, &headers).await;
    // Without a valid token: the address's budget first, then a body
    // small enough for logging in, then a place among the anonymous
    // requests being worked on (taken once the body is in, so a slow body
    // holds no place).
    let anonymous = !matches!(caller, Caller::Actor(_));
    if anonymous && let Some(mut refused) = spend(&state, peer, media).await {
        // A body small enough is read and dropped, so the connection
        // can carry the client's next request; a larger one is not read
        // and the connection closes.
        let small = state.budget.limits().max_body_bytes;
        let drained = read_body(body, small, config.timeouts.body_read).await;
        if drained.is_err() {
            refused
                .headers_mut()
                .insert(header::CONNECTION, HeaderValue::from_static("close"));
        }
        return refused;
    }
    let max_body = if anonymous {
        config
            .max_body_bytes
            .min(state.budget.limits().max_body_bytes)
    } else {
        config.max_body_bytes
    };
    let bytes = match read_body(body, max_body, config.timeouts.body_read).await {
        Ok(b) => b,
        Err(e) => return e.response(media),
    };
    let _slot = if anonymous {
        match state.budget.slot().await {
            Some(slot) => Some(slot),
            None => return busy(media),
        }
    } else {
        None
    };
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return bad_request(media, "the request body is empty: send {\"query\": \"…\"}");
    }
    let params = match serde_json::from_slice::<Value>(&bytes) {
        Ok(Value::Object(m)) => match Params::from_json(m) {
            Ok(p) => p,
            Err(m) => return bad_request(media, &m),
        },
        Ok(Value::Array(_)) => {
            return bad_request(
                media,
                "batched requests are not supported: send one operation per request",
            );
        }
        Ok(_) => return bad_request(media, "the body must be a JSON object"),
        Err(e) => return bad_request(media, &format!("the body is not valid JSON: {e}")),
    };
    answer(&state, caller, peer, media, params, Method::POST).await
}

/// Let a request without a valid token in, or answer why not: its
/// address's budget ([`spend`]), then a place among the anonymous
/// requests being worked on. A signed-in caller passes.
async fn admit(
    state: &HttpState,
    caller: &Caller,
    peer: SocketAddr,
    media: Media,
) -> Result<Option<tokio::sync::OwnedSemaphorePermit>, Response> {
    if matches!(caller, Caller::Actor(_)) {
        return Ok(None);
    }
    if let Some(refused) = spend(state, peer, media).await {
        return Err(refused);
    }
    state
        .budget
        .slot()
        .await
        .map(Some)
        .ok_or_else(|| busy(media))
}

/// How long a 429 is held back before it is sent: a client over its
/// budget that waits for each answer, as HTTP/1.1 clients do on a
/// connection, then costs about one request a second, not as many as it
/// can send.
const TARPIT: Duration = Duration::from_secs(1);

/// One request off the address's budget (`None`), or the `429
/// RATE_LIMITED` with `Retry-After` to send, once [`TARPIT`] has passed.
pub async fn spend(state: &HttpState, peer: SocketAddr, media: Media) -> Option<Response> {
    let OverBudget(wait) = state
        .budget
        .take(peer.ip(), std::time::Instant::now())
        .err()?;
    tokio::time::sleep(TARPIT).await;
    let secs = wait.as_secs_f64().ceil().max(1.0) as u64;
    let body = json!({"errors": [{
        "message": "too many requests without a token from this address: try again later, or sign in",
        "extensions": {"code": "RATE_LIMITED", "retryAfterSeconds": secs}
    }]});
    let mut r = (
        StatusCode::TOO_MANY_REQUESTS,
        [
            (header::CONTENT_TYPE, media.content_type()),
            (header::CACHE_CONTROL, "no-store"),
        ],
        body.to_string(),
    )
        .into_response();
    if let Ok(v) = HeaderValue::from_str(&secs.to_string()) {
        r.headers_mut().insert(header::RETRY_AFTER, v);
    }
    Some(r)
}

/// `503 UNAVAILABLE`: every place for anonymous work stayed taken.
fn busy(media: Media) -> Response {
    let body = json!({"errors": [{
        "message": "the server is busy with requests without a token: try again shortly",
        "extensions": {"code": "UNAVAILABLE", "retryAfterSeconds": 1}
    }]});
    let mut r = (
        StatusCode::SERVICE_UNAVAILABLE,
        [
            (header::CONTENT_TYPE, media.content_type()),
            (header::CACHE_CONTROL, "no-store"),
        ],
        body.to_string(),
    )
        .into_response();
    r.headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
    r
}

/// `application/json` (any case, `charset=utf-8` or none); the reason
/// otherwise.
fn json_content_type(value: &str) -> Result<(), String> {
    let mut parts = value.split(';');
    let essence = parts.next().unwrap_or("").trim().to_ascii_lowercase();
    if essence.is_empty() {
        return Err("send the body as Content-Type: application/json".into());
    }
    if essence != "application/json" {
        return Err(format!(
            "{essence} is not accepted: send the body as application/json"
        ));
    }
    for p in parts {
        if let Some((k, v)) = p.split_once('=')
            && k.trim().eq_ignore_ascii_case("charset")
            && !v.trim().trim_matches('"').eq_ignore_ascii_case("utf-8")
        {
            return Err("the body must be UTF-8".into());
        }
    }
    Ok(())
}

fn not_acceptable() -> Response {
    request_error(
        StatusCode::NOT_ACCEPTABLE,
        Media::Json,
        "VALIDATION",
        "accept application/graphql-response+json or application/json",
    )
}

/// Why a body could not be read.
#[derive(Debug)]
pub enum BodyError {
    TooLarge(usize),
    TooSlow(Duration),
    Broken,
}

impl BodyError {
    /// The answer; the connection closes after it (the rest of the body
    /// is never read, so the connection cannot carry another request).
    pub fn response(&self, media: Media) -> Response {
        let mut r = self.answer(media);
        r.headers_mut()
            .insert(header::CONNECTION, HeaderValue::from_static("close"));
        r
    }

    fn answer(&self, media: Media) -> Response {
        match self {
            BodyError::TooLarge(max) => request_error(
                StatusCode::PAYLOAD_TOO_LARGE,
                media,
                "VALIDATION",
                &format!("the request body is over {max} bytes"),
            ),
            BodyError::TooSlow(t) => request_error(
                StatusCode::REQUEST_TIMEOUT,
                media,
                "VALIDATION",
                &format!("the request body did not arrive within {} s", t.as_secs()),
            ),
            BodyError::Broken => request_error(
                StatusCode::BAD_REQUEST,
                media,
                "VALIDATION",
                "the request body could not be read",
            ),
        }
    }
}

/// The whole body, at most `max` bytes, within `within`: a declared
/// length over `max` is refused before a byte is read.
pub async fn read_body(body: Body, max: usize, within: Duration) -> Result<Vec<u8>, BodyError> {
    use http_body::Body as _;
    if body.size_hint().lower() > max as u64 {
        return Err(BodyError::TooLarge(max));
    }
    let read = async {
        let mut out = Vec::new();
        let mut chunks = body.into_data_stream();
        while let Some(chunk) = chunks.next().await {
            let chunk = chunk.map_err(|_| BodyError::Broken)?;
            if out.len() + chunk.len() > max {
                return Err(BodyError::TooLarge(max));
            }
            out.extend_from_slice(&chunk);
        }
        Ok(out)
    };
    tokio::time::timeout(within, read)
        .await
        .unwrap_or(Err(BodyError::TooSlow(within)))
}

/// [`execute`], on the anonymous lane for a caller without a valid token
/// (`lane`): a lower CPU priority than the engine and the signed-in.
async fn answer(
    state: &HttpState,
    caller: Caller,
    peer: SocketAddr,
    media: Media,
    params: Params,
    method: Method,
) -> Response {
    if matches!(caller, Caller::Actor(_)) {
        return execute(state, caller, peer, media, params, method).await;
    }
    let state = state.clone();
    super::lane::run(async move { execute(&state, caller, peer, media, params, method).await })
        .await
        .unwrap_or_else(|| {
            request_error(
                StatusCode::INTERNAL_SERVER_ERROR,
                media,
                "INTERNAL",
                "the request could not be completed",
            )
        })
}

async fn execute(
    state: &HttpState,
    caller: Caller,
    peer: SocketAddr,
    media: Media,
    params: Params,
    method: Method,
) -> Response {
    let app = &state.app;
    let query = match state
        .persisted
        .resolve(params.query, params.extensions.as_ref())
    {
        Persisted::Query(q) => q,
        Persisted::NotFound => {
            // Apollo's clients look for this message and code, then send
            // the query with its hash.
            return request_error(
                if media == Media::GraphQLResponse {
                    StatusCode::BAD_REQUEST
                } else {
                    StatusCode::OK
                },
                media,
                "PERSISTED_QUERY_NOT_FOUND",
                "PersistedQueryNotFound",
            );
        }
        Persisted::Refused(why) => return bad_request(media, &why),
        Persisted::Missing => {
            return bad_request(media, "the `query` parameter is missing");
        }
    };
    let mut request = async_graphql::Request::new(query);
    if let Some(name) = params.operation_name {
        request = request.operation_name(name);
    }
    if let Some(vars) = params.variables {
        request = request.variables(async_graphql::Variables::from_json(Value::Object(vars)));
    }
    if let Some(ext) = params.extensions {
        for (k, v) in ext {
            if k != PersistedQueries::EXTENSION
                && let Ok(v) = async_graphql::Value::from_json(v)
            {
                request.extensions.insert(k, v);
            }
        }
    }
    if method == Method::GET {
        // GET never changes anything: parse here to see which operation
        // would run (the limits come first, as for every request).
        match crate::graphql::limits::parse_within(&request.query, &app.config.query_limits) {
            Ok(doc) => {
                // Parsed again, with the limits, when it runs.
                let op = match (&doc.operations, &request.operation_name) {
                    (DocumentOperations::Single(op), _) => Some(op.node.ty),
                    (DocumentOperations::Multiple(ops), Some(name)) => {
                        ops.get(name.as_str()).map(|op| op.node.ty)
                    }
                    (DocumentOperations::Multiple(ops), None) if ops.len() == 1 => {
                        ops.values().next().map(|op| op.node.ty)
                    }
                    _ => None,
                };
                if matches!(
                    op,
                    Some(OperationType::Mutation | OperationType::Subscription)
                ) {
                    let mut r = request_error(
                        StatusCode::METHOD_NOT_ALLOWED,
                        media,
                        "VALIDATION",
                        "only queries can be sent with GET: send mutations with POST",
                    );
                    r.headers_mut()
                        .insert(header::ALLOW, HeaderValue::from_static("POST"));
                    return r;
                }
            }
            Err(e) => {
                let response = async_graphql::Response::from_errors(vec![e]);
                return respond(media, code_untyped_errors(response));
            }
        }
    }
    let info = RequestInfo {
        caller,
        client_ip: peer.ip().to_string(),
    };
    let response = state.schema.execute(request.data(info)).await;
    respond(media, code_untyped_errors(response))
}

/// A GraphQL response with the status the specification asks for: with
/// `application/graphql-response+json`, a request error (no data, errors
/// outside any field) is 400 and has no `data` entry; otherwise 200.
fn respond(media: Media, response: async_graphql::Response) -> Response {
    let request_error = response.data == async_graphql::Value::Null
        && !response.errors.is_empty()
        && response.errors.iter().all(|e| e.path.is_empty());
    let mut body = serde_json::to_value(&response).unwrap_or(Value::Null);
    let status = if media == Media::GraphQLResponse && request_error {
        if let Value::Object(m) = &mut body {
            m.remove("data");
        }
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    (
        status,
        [
            (header::CONTENT_TYPE, media.content_type()),
            (header::CACHE_CONTROL, "no-store"),
        ],
        body.to_string(),
    )
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

    #[test]
    fn accept_headers_pick_the_answer() {
        assert_eq!(negotiate(None), Some(Media::Json));
        assert_eq!(negotiate(Some("*/*")), Some(Media::Json));
        assert_eq!(
            negotiate(Some(
                "application/graphql-response+json, application/json;q=0.9"
            )),
            Some(Media::GraphQLResponse)
        );
        assert_eq!(
            negotiate(Some(
                "application/json;q=0.9, application/graphql-response+json"
            )),
            Some(Media::GraphQLResponse)
        );
        // What browsers send for a page load.
        assert_eq!(
            negotiate(Some(
                "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
            )),
            Some(Media::Html)
        );
        assert_eq!(
            negotiate(Some("application/json, text/html")),
            Some(Media::Json)
        );
        assert_eq!(negotiate(Some("image/png")), None);
        assert_eq!(negotiate(Some("application/json;q=0")), None);
    }

    #[test]
    fn url_parameters_are_decoded() {
        let p = Params::from_url(
            "query=query%20Q(%24n%3A%20Int)%20%7B%20a%20%7D&operationName=Q&variables=%7B%22n%22%3A1%7D",
        )
        .expect("parses");
        assert_eq!(p.query.as_deref(), Some("query Q($n: Int) { a }"));
        assert_eq!(p.operation_name.as_deref(), Some("Q"));
        assert_eq!(p.variables.expect("vars")["n"], 1);
        assert!(Params::from_url("query=%7Ba%7D&variables=%5B1%5D").is_err());
        // A stray % is kept, not a panic.
        assert_eq!(
            Params::from_url("query=a%")
                .expect("parses")
                .query
                .as_deref(),
            Some("a%")
        );
        assert_eq!(
            Params::from_url("query=a%z")
                .expect("parses")
                .query
                .as_deref(),
            Some("a%z")
        );
    }

    #[test]
    fn content_types_are_checked() {
        assert!(json_content_type("application/json").is_ok());
        assert!(json_content_type("Application/JSON; charset=UTF-8").is_ok());
        assert!(json_content_type("").is_err());
        assert!(json_content_type("text/plain").is_err());
        assert!(json_content_type("application/json; charset=latin1").is_err());
    }
}
