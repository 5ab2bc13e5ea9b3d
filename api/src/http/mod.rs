//! The HTTP edge: `/graphql` (GraphQL over HTTP; GraphiQL for browsers),
//! `/graphql/ws` (graphql-transport-ws and the legacy graphql-ws),
//! `/imports`, `/exports`, `/healthz`, `/readyz`, `/metrics`, and the web
//! app (`web`). Connections are served with timeouts (`serve`), bodies
//! with limits, cross-origin calls only from `--cors-origin`s.

pub mod budget;
pub mod cors;
mod exports;
mod graphql;
mod imports;
pub mod internal;
pub mod lane;
mod persisted;
mod recordings;
mod serve;
mod web;
mod ws;

use axum::Router;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use tower_http::trace::TraceLayer;

use crate::app::App;
use crate::graphql::{PinlineSchema, build_schema};
use crate::metrics::HttpLabels;

/// What every handler gets.
#[derive(Clone)]
pub struct HttpState {
    pub app: App,
    pub schema: PinlineSchema,
    /// Automatic persisted queries registered on this instance.
    pub persisted: std::sync::Arc<persisted::PersistedQueries>,
    /// What callers without a valid token may spend.
    pub budget: std::sync::Arc<budget::AnonymousBudget>,
}

pub fn router(app: App) -> Router {
    let schema = build_schema(Some(app.clone()));
    let state = HttpState {
        app: app.clone(),
        schema,
        persisted: Default::default(),
        budget: std::sync::Arc::new(budget::AnonymousBudget::new(app.config.anonymous)),
    };
    let dist = app.config.web_dist.clone();
    let api = Router::new()
        .route(
            "/graphql",
            get(graphql::graphql_get).post(graphql::graphql_post),
        )
        .route("/graphql/graphiql.js", get(graphiql_js))
        .route("/graphql/ws", get(ws::graphql_ws))
        .route(
            "/exports/compliance-trail.csv",
            get(exports::compliance_trail_csv),
        )
        .route("/exports/calls.csv", get(exports::calls_csv))
        .route("/exports/wrap-ups.csv", get(exports::wrap_ups_csv))
        .route("/exports/list.csv", get(exports::list_csv))
        .route("/imports/leads", axum::routing::post(imports::upload_leads))
        .route("/imports/list", axum::routing::post(imports::upload_list))
        .route("/recordings/{call_id}", get(recordings::recording))
        .route("/internal/engine", axum::routing::post(internal::engine))
        .route("/internal/instance", get(internal::instance))
        .with_state(state.clone());
    let api = match cors::layer(&app.config.cors_origins) {
        Some(cors) => api.layer(cors),
        None => api,
    };
    let ops = Router::new()
        .route("/healthz", get(|| async { "ok\n" }))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .with_state(state.clone());
    let api = api.merge(ops);
    let with_web = if dist.join("index.html").is_file() {
        let web = web::Web::new(&dist);
        api.fallback(move |req: Request| web.clone().serve(req))
    } else {
        tracing::warn!(dist = %dist.display(), "web app not built: serving the API only");
        api.fallback(web_not_built)
    };
    with_web
        .layer(middleware::from_fn_with_state(
            web::PageHeaders::for_dist(&dist),
            web::cache_and_security,
        ))
        .layer(middleware::from_fn_with_state(state, count_requests))
        .layer(TraceLayer::new_for_http())
}

async fn graphiql_js() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        include_str!("graphiql.js"),
    )
        .into_response()
}

async fn web_not_built() -> Response {
    (
        StatusCode::SERVICE_UNAVAILABLE,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        "The web app is not built. Start Pinline with `./dev run`, which builds it,\n\
         or build it with `scripts/web-build.sh` and pass --web-dist.\n\
         The API is at /graphql.\n",
    )
        .into_response()
}

/// How long `/readyz` waits for the database: a load balancer's probe
/// gets an answer within a second, database or not.
const READY_WITHIN: std::time::Duration = std::time::Duration::from_millis(800);

async fn readyz(State(state): State<HttpState>) -> Response {
    // The last write failed (the heartbeat writes every second): reads may
    // work, but the floor cannot go on.
    if let Some((cause, _)) = state.app.db.writes().failing() {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            format!("database writes failing: {cause}\n"),
        )
            .into_response();
    }
    match tokio::time::timeout(READY_WITHIN, state.app.db.ping()).await {
        Ok(Ok(())) => match &state.app.leases {
            // Ready either way (it serves the API); what it runs, said.
            Some(_) => (
                StatusCode::OK,
                format!(
                    "ready (instance {}: {} contact centers leased here)\n",
                    state
                        .app
                        .config
                        .instance_name
                        .as_deref()
                        .unwrap_or(&state.app.instance),
                    state.app.metrics.leases.held.get()
                ),
            )
                .into_response(),
            None => (StatusCode::OK, "ready\n").into_response(),
        },
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "readiness check failed");
            (StatusCode::SERVICE_UNAVAILABLE, "database unavailable\n").into_response()
        }
        Err(_) => {
            tracing::warn!("readiness check: the database did not answer in time");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                "database not answering (waited 0.8 s)\n",
            )
                .into_response()
        }
    }
}

async fn metrics(State(state): State<HttpState>) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        state.app.metrics.render(),
    )
        .into_response()
}

async fn count_requests(State(state): State<HttpState>, req: Request, next: Next) -> Response {
    let route = match req
        .extensions()
        .get::<MatchedPath>()
        .map(MatchedPath::as_str)
    {
        Some("/graphql") => "/graphql",
        Some("/graphql/ws") => "/graphql/ws",
        Some("/healthz") => "/healthz",
        Some("/readyz") => "/readyz",
        Some("/metrics") => "/metrics",
        Some(p) if p.starts_with("/exports/") => "/exports",
        Some(p) if p.starts_with("/imports/") => "/imports",
        Some(p) if p.starts_with("/recordings/") => "/recordings",
        _ => "web",
    };
    let response = next.run(req).await;
    state
        .app
        .metrics
        .http_requests
        .get_or_create(&HttpLabels {
            route,
            status: response.status().as_u16(),
        })
        .inc();
    response
}

/// Serve on `listener` until `shutdown` resolves, then finish in-flight
/// requests.
pub async fn serve(
    app: App,
    listener: tokio::net::TcpListener,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let timeouts = app.config.timeouts;
    let stopping = app.stopping.clone();
    serve::serve(router(app), listener, timeouts, stopping, shutdown).await
}

/// An API error as a plain-HTTP answer (exports, imports, recordings):
/// the status its code stands for, and `{code, message}`.
pub(crate) fn api_error(e: crate::graphql::error::ApiError) -> axum::response::Response {
    use axum::http::StatusCode;
    use axum::response::IntoResponse;
    let status = match e.code() {
        "UNAUTHENTICATED" => StatusCode::UNAUTHORIZED,
        "FORBIDDEN" => StatusCode::FORBIDDEN,
        "NOT_FOUND" => StatusCode::NOT_FOUND,
        "VALIDATION" => StatusCode::BAD_REQUEST,
        "CONFLICT" => StatusCode::CONFLICT,
        "UNAVAILABLE" => StatusCode::SERVICE_UNAVAILABLE,
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    };
    (
        status,
        axum::Json(serde_json::json!({"code": e.code(), "message": e.message()})),
    )
        .into_response()
}
