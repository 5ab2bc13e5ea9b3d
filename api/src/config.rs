//! Server configuration. Built from CLI flags and environment in `main`;
//! `Config::default()` works out of the box (SQLite in ./pinline-data).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use crate::auth::ratelimit::Limit;

#[derive(Debug, Clone)]
pub struct Config {
    pub listen: SocketAddr,
    pub data_dir: PathBuf,
    /// `postgres://…` selects PostgreSQL; none selects SQLite in `data_dir`.
    pub database_url: Option<String>,
    /// Signing secret; none means generated once and kept in `data_dir`.
    pub jwt_secret: Option<String>,
    /// The built web app (Trunk's `dist/`).
    pub web_dist: PathBuf,
    /// How long a login session lasts.
    pub session_ttl: Duration,
    /// Failed log-ins allowed per account per window.
    pub login_account_limit: Limit,
    /// Log-in attempts allowed per client IP per window.
    pub login_ip_limit: Limit,
    pub max_db_connections: u32,
    /// Largest CSV upload accepted, in bytes.
    pub max_upload_bytes: usize,
    /// GraphQL query limits: nesting depth, then size, selections, cost
    /// and string lengths (`graphql::limits`).
    pub max_query_depth: usize,
    pub query_limits: crate::graphql::limits::QueryLimits,
    /// Largest request body on any route but the CSV uploads, in bytes.
    pub max_body_bytes: usize,
    /// What a caller without a valid token may send: per address, in
    /// body size and at once (`http::budget`).
    pub anonymous: crate::http::budget::AnonymousLimits,
    /// Web origins whose pages may call the API (CORS); none by default.
    pub cors_origins: Vec<axum::http::HeaderValue>,
    /// How long a client may take to send a request's headers, to send
    /// its body (between two chunks), or to start its next request on a
    /// kept-alive connection; and a websocket to send `connection_init`.
    pub timeouts: HttpTimeouts,
    /// The media provider: the simulated carrier or real SIP.
    pub media: MediaKind,
    /// Seed of the sim carrier's outcomes.
    pub sim_seed: u64,
    /// The sim carrier's distribution (`SimConfig::demo()` for the demo).
    pub sim_model: crate::media::sim_model::SimConfig,
    /// How long an agent's pinned leg outlives their last websocket.
    pub session_grace: Duration,
    /// Tests and the simulator: run the engine on a manual clock starting
    /// here (time moves only through `Engine::advance`).
    pub manual_clock_start: Option<chrono::DateTime<chrono::Utc>>,
    /// Benchmarks: where the engine reports each answer→connected time.
    pub latency_probe: Option<std::sync::Arc<crate::dialer::engine::LatencyProbe>>,
    /// How webhooks are retried.
    pub webhooks: crate::webhooks::WebhookConfig,
    /// The review of leads the claim passes over (`dialer::review`); none:
    /// not run (tests that count trail rows).
    pub review: Option<crate::dialer::review::ReviewConfig>,
    /// On PostgreSQL, which any number of instances may share: how the
    /// contact centers are shared out by lease (`cluster.rs`). SQLite
    /// (one server per file): unused.
    pub leases: crate::cluster::LeaseConfig,
    /// What this instance is called in logs, metrics and the live floor
    /// (default: its random id).
    pub instance_name: Option<String>,
}

/// The edge's clocks (see [`Config::timeouts`]).
#[derive(Debug, Clone, Copy)]
pub struct HttpTimeouts {
    pub header_read: Duration,
    pub body_read: Duration,
    pub idle: Duration,
    pub ws_init: Duration,
}

impl Default for HttpTimeouts {
    fn default() -> Self {
        HttpTimeouts {
            header_read: Duration::from_secs(10),
            body_read: Duration::from_secs(30),
            idle: Duration::from_secs(75),
            ws_init: Duration::from_secs(10),
        }
    }
}

#[derive(Debug, Clone)]
pub enum MediaKind {
    Sim,
    /// Real calls: a SIP trunk for leads, SIP phones for agents.
    Sip(Box<crate::media::sip::SipConfig>),
}

impl Default for Config {
    fn default() -> Self {
        Config {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            data_dir: PathBuf::from("pinline-data"),
            database_url: None,
            jwt_secret: None,
            web_dist: PathBuf::from("dist"),
            session_ttl: Duration::from_secs(12 * 3600),
            login_account_limit: Limit {
                max: 5,
                window: Duration::from_secs(15 * 60),
            },
            login_ip_limit: Limit {
                max: 30,
                window: Duration::from_secs(60),
            },
            max_db_connections: 10,
            max_upload_bytes: 100 * 1024 * 1024,
            max_query_depth: 16,
            query_limits: Default::default(),
            max_body_bytes: 4 * 1024 * 1024,
            anonymous: Default::default(),
            cors_origins: Vec::new(),
            timeouts: HttpTimeouts::default(),
            media: MediaKind::Sim,
            sim_seed: 1,
            sim_model: Default::default(),
            session_grace: Duration::from_secs(30),
            manual_clock_start: None,
            latency_probe: None,
            webhooks: crate::webhooks::WebhookConfig::default(),
            review: Some(Default::default()),
            leases: Default::default(),
            instance_name: None,
        }
    }
}
