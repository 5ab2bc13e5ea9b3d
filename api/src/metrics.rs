//! Prometheus metrics, served as text on `/metrics`.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::metrics::info::Info;
use prometheus_client::registry::Registry;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct HttpLabels {
    pub route: &'static str,
    pub status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct LoginLabels {
    pub outcome: &'static str,
}

pub struct Metrics {
    registry: Registry,
    pub http_requests: Family<HttpLabels, Counter>,
    pub logins: Family<LoginLabels, Counter>,
    pub ws_connections_open: Gauge,
    pub ws_connections: Counter,
    pub engine: EngineMetrics,
}

/// What the dialer engine records (cheap to clone: shared counters).
#[derive(Clone)]
pub struct EngineMetrics {
    /// Seconds from a lead's answer event to the bridge ordered and the
    /// connected event published (database write included).
    pub answer_to_connect: Histogram,
    pub calls_ended: Family<OutcomeLabels, Counter>,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct OutcomeLabels {
    pub outcome: &'static str,
}

impl Metrics {
    pub fn new(database_backend: &'static str) -> Self {
        let mut registry = Registry::with_prefix("pinline");
        let http_requests = Family::<HttpLabels, Counter>::default();
        registry.register(
            "http_requests",
            "HTTP requests served, by route and status",
            http_requests.clone(),
        );
        let logins = Family::<LoginLabels, Counter>::default();
        registry.register(
            "login_attempts",
            "Log-in attempts, by outcome (ok, bad_credentials, rate_limited, deactivated)",
            logins.clone(),
        );
        let ws_connections_open = Gauge::default();
        registry.register(
            "websocket_connections_open",
            "GraphQL websocket connections open now",
            ws_connections_open.clone(),
        );
        let ws_connections = Counter::default();
        registry.register(
            "websocket_connections",
            "GraphQL websocket connections accepted",
            ws_connections.clone(),
        );
        let engine = EngineMetrics {
            answer_to_connect: Histogram::new([
                0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.5,
            ]),
            calls_ended: Family::default(),
        };
        registry.register(
            "answer_to_connect_seconds",
            "Time from a lead's answer to the bridge ordered and the connected event published",
            engine.answer_to_connect.clone(),
        );
        registry.register(
            "calls_ended",
            "Calls ended, by outcome",
            engine.calls_ended.clone(),
        );
        registry.register(
            "build",
            "Version and database backend of this server",
            Info::new(vec![
                ("version", env!("CARGO_PKG_VERSION")),
                ("database", database_backend),
            ]),
        );
        Metrics {
            registry,
            http_requests,
            logins,
            ws_connections_open,
            ws_connections,
            engine,
        }
    }

    pub fn login(&self, outcome: &'static str) {
        self.logins.get_or_create(&LoginLabels { outcome }).inc();
    }

    /// The OpenMetrics text exposition.
    pub fn render(&self) -> String {
        let mut out = String::new();
        if prometheus_client::encoding::text::encode(&mut out, &self.registry).is_err() {
            out.clear();
        }
        out
    }
}
