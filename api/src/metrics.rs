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
    pub bus: BusMetrics,
    pub leases: LeaseMetrics,
}

/// The event bus between instances (`events/pg.rs`; zero on SQLite).
#[derive(Clone, Debug)]
pub struct BusMetrics {
    pub sent: Counter,
    pub received: Counter,
    /// Events too large for a notification, kept in a table.
    pub parked: Counter,
    /// Events not sent: the database did not take them in time.
    pub dropped: Counter,
    /// Times the listening connection was lost (what was sent meanwhile
    /// did not arrive).
    pub gaps: Counter,
    /// Seconds from an event's publication on another instance to its
    /// arrival here.
    pub lag: Histogram,
}

/// This instance's contact-center leases (`cluster.rs`; zero unless
/// clustered).
#[derive(Clone, Debug, Default)]
pub struct LeaseMetrics {
    /// Leases held now.
    pub held: Gauge,
    /// Leases taken from an instance that stopped renewing.
    pub takeovers: Counter,
    /// Leases lost to another instance (this one was paused or cut off).
    pub lost: Counter,
    /// Engine commands sent to the instance running their center.
    pub forwarded: Counter,
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
        let bus = BusMetrics {
            sent: Counter::default(),
            received: Counter::default(),
            parked: Counter::default(),
            dropped: Counter::default(),
            gaps: Counter::default(),
            lag: Histogram::new([0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.5, 1.0]),
        };
        for (name, help, counter) in [
            (
                "bus_events_sent",
                "Events sent to the other instances",
                &bus.sent,
            ),
            (
                "bus_events_received",
                "Events received from the other instances",
                &bus.received,
            ),
            (
                "bus_events_parked",
                "Events too large for a notification, sent through a table",
                &bus.parked,
            ),
            (
                "bus_events_dropped",
                "Events not sent: the database did not take them in time",
                &bus.dropped,
            ),
            (
                "bus_gaps",
                "Times the bus's listening connection was lost (events missed meanwhile)",
                &bus.gaps,
            ),
        ] {
            registry.register(name, help, counter.clone());
        }
        registry.register(
            "bus_lag_seconds",
            "Time from an event's publication on another instance to its arrival here",
            bus.lag.clone(),
        );
        let leases = LeaseMetrics::default();
        registry.register(
            "leases_held",
            "Contact-center leases this instance holds",
            leases.held.clone(),
        );
        registry.register(
            "lease_takeovers",
            "Leases taken from an instance that stopped renewing",
            leases.takeovers.clone(),
        );
        registry.register(
            "leases_lost",
            "Leases lost to another instance (this one paused or cut off)",
            leases.lost.clone(),
        );
        registry.register(
            "forwarded_commands",
            "Engine commands sent to the instance running their contact center",
            leases.forwarded.clone(),
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
            bus,
            leases,
        }
    }

    /// Say which instance this is (its id, and its name when it has one).
    pub fn name_instance(&mut self, id: &str, name: Option<&str>) {
        self.registry.register(
            "instance",
            "This server among the servers sharing the database",
            Info::new(vec![
                ("id".to_owned(), id.to_owned()),
                ("name".to_owned(), name.unwrap_or(id).to_owned()),
            ]),
        );
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
