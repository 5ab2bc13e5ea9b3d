//! The HTTP edge: `/graphql` (POST, and GraphiQL on GET), `/graphql/ws`
//! (subscriptions over graphql-transport-ws and the legacy graphql-ws),
//! `/healthz`, `/readyz`, `/metrics`, and the web app with SPA fallback.

mod exports;
mod graphql;
mod imports;

use std::net::SocketAddr;

use axum::Router;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use tower::ServiceExt;
use tower_http::services::{ServeDir, ServeFile};
use tower_http::trace::TraceLayer;

use crate::app::App;
use crate::graphql::{PinlineSchema, build_schema};
use crate::metrics::HttpLabels;

/// What every handler gets.
#[derive(Clone)]
pub struct HttpState {
    pub app: App,
    pub schema: PinlineSchema,
}

pub fn router(app: App) -> Router {
    let schema = build_schema(Some(app.clone()));
    let state = HttpState {
        app: app.clone(),
        schema,
    };
    let dist = app.config.web_dist.clone();
    let api = Router::new()
        .route(
            "/graphql",
            get(graphql::graphiql).post(graphql::graphql_post),
        )
        .route("/graphql/ws", get(graphql::graphql_ws))
        .route("/healthz", get(|| async { "ok\n" }))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .route(
            "/exports/compliance-trail.csv",
            get(exports::compliance_trail_csv),
        )
        .route("/exports/calls.csv", get(exports::calls_csv))
        .route("/exports/wrap-ups.csv", get(exports::wrap_ups_csv))
        .route("/exports/list.csv", get(exports::list_csv))
        .route(
            "/imports/leads",
            axum::routing::post(imports::upload_leads).layer(axum::extract::DefaultBodyLimit::max(
                app.config.max_upload_bytes,
            )),
        )
        .route(
            "/imports/list",
            axum::routing::post(imports::upload_list).layer(axum::extract::DefaultBodyLimit::max(
                app.config.max_upload_bytes,
            )),
        )
        .with_state(state.clone());
    let with_web = if dist.join("index.html").is_file() {
        let pages = WebPages {
            agent: dist.join("index.html"),
            supervisor: dist.join("supervisor").join("index.html"),
        };
        let spa = move |req: Request| {
            let page = pages.for_path(req.uri().path()).to_owned();
            async move { ServeFile::new(page).oneshot(req).await }
        };
        api.fallback_service(ServeDir::new(&dist).fallback(tower::service_fn(spa)))
    } else {
        tracing::warn!(dist = %dist.display(), "web app not built: serving the API only");
        api.fallback(web_not_built)
    };
    with_web
        .layer(middleware::from_fn_with_state(state, count_requests))
        .layer(TraceLayer::new_for_http())
}

/// The web app is two single-page apps (agents' and supervisors'); a path
/// that is not a file gets the page of the app that owns it.
#[derive(Clone)]
struct WebPages {
    agent: std::path::PathBuf,
    supervisor: std::path::PathBuf,
}

/// The supervisors' app's top-level paths (`frontend/src/lib.rs`).
const SUPERVISOR_PATHS: &[&str] = &["floor", "campaigns", "leads", "reports", "lists", "admin"];

impl WebPages {
    fn for_path(&self, path: &str) -> &std::path::Path {
        let first = path.trim_start_matches('/').split('/').next().unwrap_or("");
        if SUPERVISOR_PATHS.contains(&first) && self.supervisor.is_file() {
            &self.supervisor
        } else {
            &self.agent
        }
    }
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

async fn readyz(State(state): State<HttpState>) -> Response {
    match state.app.db.ping().await {
        Ok(()) => (StatusCode::OK, "ready\n").into_response(),
        Err(e) => {
            tracing::warn!(error = %e, "readiness check failed");
            (StatusCode::SERVICE_UNAVAILABLE, "database unavailable\n").into_response()
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
    let router = router(app);
    axum::serve(
        listener,
        router.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await
}
