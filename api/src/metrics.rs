//! Prometheus metrics, served as text on `/metrics`.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
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
