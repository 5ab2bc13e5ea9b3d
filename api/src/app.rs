//! The application state: built once at start-up from a `Config`, cloned
//! (cheaply) into every handler and resolver.

use std::sync::Arc;

use crate::auth::ratelimit::LoginLimits;
use crate::auth::token::TokenKeys;
use crate::clock::Clock;
use crate::config::{Config, MediaKind};
use crate::dialer::engine::{Engine, EngineConfig, EngineParts};
use crate::events::{EventBus, LocalBus};
use crate::media::sim::SimProvider;
use crate::media::sip::SipProvider;
use crate::metrics::Metrics;
use crate::store::{Db, DbTarget, StoreError};

#[derive(Clone)]
pub struct App(Arc<AppInner>);

pub struct AppInner {
    pub config: Config,
    pub db: Db,
    pub keys: TokenKeys,
    /// Signs list cursors (derived from the token secret).
    pub cursor_key: [u8; 32],
    pub login_limiter: LoginLimits,
    pub events: Arc<dyn EventBus>,
    pub metrics: Metrics,
    pub engine: Engine,
    /// The media provider (also the engine's), for a clean stop.
    pub media: Arc<dyn crate::media::MediaProvider>,
    /// Set when the server stops: open websockets close (1001).
    pub stopping: tokio::sync::watch::Sender<bool>,
    /// Clustered: this instance's contact-center leases.
    pub leases: Option<Arc<tokio::sync::Mutex<crate::cluster::Keeper>>>,
    /// This process among the instances sharing the database.
    pub instance: String,
    /// Clustered: signs commands between instances (`http::internal`).
    pub internal_key: Option<[u8; 32]>,
    /// Where other instances reach this one (said in its heartbeat).
    advertised: Arc<std::sync::RwLock<crate::store::heartbeats::Said>>,
    _keeper: Option<AbortOnDrop>,
    /// The webhook delivery worker, stopped with the app.
    _webhooks: AbortOnDrop,
    _review: Option<AbortOnDrop>,
    /// Runs import jobs (and carries on those of servers that are gone).
    import_jobs: crate::import::Jobs,
    /// Where finished recordings are kept.
    recordings: Arc<dyn crate::recording::blobs::Blobs>,
    _carrier: AbortOnDrop,
    /// Stopped (and its row forgotten) when the leases are given back.
    heartbeat: std::sync::Mutex<Option<AbortOnDrop>>,
    /// SQLite: the lock that keeps a second server off the file.
    _sqlite_lock: Option<std::fs::File>,
}

/// A key for one purpose from the signing secret: HMAC-SHA256(secret, purpose).
fn derive_key(secret: &[u8], purpose: &[u8]) -> [u8; 32] {
    use hmac::{Hmac, Mac};
    let mut mac =
        <Hmac<sha2::Sha256> as Mac>::new_from_slice(secret).expect("HMAC takes any key length");
    mac.update(purpose);
    mac.finalize().into_bytes().into()
}

/// A task that ends with its owner.
pub(crate) struct AbortOnDrop(pub(crate) tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

impl std::ops::Deref for App {
    type Target = AppInner;
    fn deref(&self) -> &AppInner {
        &self.0
    }
}

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("cannot read or create the signing secret in {dir}: {source}")]
    Secret { dir: String, source: std::io::Error },
    #[error("the engine started without a media provider")]
    NoMedia,
    #[error("the SIP provider cannot start: {0}")]
    Sip(#[from] crate::media::sip::SipStartError),
    #[error(
        "another Pinline server is using {0}: one SQLite database serves one server. \
         Stop the other one first, or run several servers on PostgreSQL (docs/operations.md)"
    )]
    AlreadyRunning(String),
    #[error("cannot lock {path}: {source}")]
    Lock {
        path: String,
        source: std::io::Error,
    },
}

/// One server per SQLite file: an exclusive lock on `<file>.lock`, held
/// while the server runs (the system lets it go when the process ends,
/// however it ends).
fn lock_sqlite(path: &std::path::Path) -> Result<std::fs::File, StartError> {
    let mut name = path.as_os_str().to_owned();
    name.push(".lock");
    let lock_path = std::path::PathBuf::from(name);
    if let Some(dir) = lock_path.parent().filter(|d| !d.as_os_str().is_empty()) {
        let _ = std::fs::create_dir_all(dir);
    }
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_path)
        .map_err(|source| StartError::Lock {
            path: lock_path.display().to_string(),
            source,
        })?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(std::fs::TryLockError::WouldBlock) => {
            Err(StartError::AlreadyRunning(path.display().to_string()))
        }
        Err(std::fs::TryLockError::Error(source)) => Err(StartError::Lock {
            path: lock_path.display().to_string(),
            source,
        }),
    }
}

impl App {
    /// Where import jobs are run.
    pub fn import_jobs(&self) -> &crate::import::Jobs {
        &self.import_jobs
    }

    /// Where finished recordings are kept.
    pub fn recordings(&self) -> Arc<dyn crate::recording::blobs::Blobs> {
        self.recordings.clone()
    }

    /// Where other instances reach this one (`http://host:port`), once
    /// it listens: said in its heartbeat, where they look it up.
    pub fn advertise(&self, url: &str) {
        self.advertised
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .url = Some(url.trim_end_matches('/').to_owned());
    }

    /// A clean stop, after the engine drained: give this instance's
    /// leases back, so the others take its centers at once rather than
    /// after the lease time.
    pub async fn release_leases(&self) {
        let Some(keeper) = &self.leases else { return };
        let mut keeper = keeper.lock().await;
        let n = keeper.held().len();
        // Not counted among the live instances any more: the others'
        // shares grow to take every center at once.
        drop(
            self.heartbeat
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .take(),
        );
        if let Err(e) = crate::store::heartbeats::forget(&self.db, &self.instance).await {
            tracing::warn!("forgetting this instance's heartbeat: {e}");
        }
        // The centers stop here first (drained already: nothing live).
        let _ = self
            .engine
            .apply_leases(&Default::default(), None, Vec::new())
            .await;
        match keeper.release_all().await {
            Ok(()) => tracing::info!(leases = n, "leases given back"),
            Err(e) => tracing::error!("giving the leases back: {e} (they expire on their own)"),
        }
    }

    /// Connect to the database, apply pending migrations, load the signing
    /// secret, and build the state.
    pub async fn start(config: Config) -> Result<App, StartError> {
        let target = DbTarget::resolve(config.database_url.as_deref(), &config.data_dir);
        let sqlite_lock = match &target {
            DbTarget::Sqlite(path) => Some(lock_sqlite(path)?),
            DbTarget::Postgres(_) => None,
        };
        let applied = crate::store::run_migrations(&target).await?;
        if !applied.is_empty() {
            tracing::info!(migrations = ?applied, "applied migrations");
        }
        let db = Db::connect(&target, config.max_db_connections).await?;
        let secret =
            crate::auth::load_or_create_secret(config.jwt_secret.as_deref(), &config.data_dir)
                .map_err(|source| StartError::Secret {
                    dir: config.data_dir.display().to_string(),
                    source,
                })?;
        tracing::info!(database = %target.describe(), "database ready");
        let leased = matches!(db, Db::Pg(_));
        let lease_cfg = leased.then_some(config.leases);
        // Uploads spooled by a server that stopped mid-import (their jobs
        // are carried on from the copy in the database).
        if let Ok(dir) = std::fs::read_dir(config.data_dir.join("uploads")) {
            for entry in dir.flatten() {
                let _ = std::fs::remove_file(entry.path());
            }
        }
        // This process among the instances sharing the database.
        let instance = crate::store::new_id();
        let mut metrics = Metrics::new(db.backend());
        metrics.name_instance(&instance, config.instance_name.as_deref());
        if leased {
            tracing::info!(
                instance = %instance,
                name = config.instance_name.as_deref().unwrap_or(&instance),
                "this server shares contact centers with any others on the database, by lease"
            );
        }
        let events: Arc<dyn EventBus> = match &db {
            // Other instances may share a PostgreSQL database: events go
            // to them too.
            Db::Pg(_) => {
                crate::events::pg::PgBus::start(&db, instance.clone(), 4096, metrics.bus.clone())
            }
            Db::Sqlite(_) => Arc::new(LocalBus::new(4096)),
        };
        let clock = match config.manual_clock_start {
            Some(start) => Clock::manual(start),
            None => Clock::Real,
        };
        let engine_config = EngineConfig {
            session_grace: chrono::Duration::from_std(config.session_grace)
                .unwrap_or(chrono::Duration::seconds(30)),
            latency_probe: config.latency_probe.clone(),
            leased,
            ..EngineConfig::default()
        };
        let seed = config.sim_seed;
        let sim_model = config.sim_model.clone();
        let media = match &config.media {
            MediaKind::Sim => None,
            MediaKind::Sip(sip) => Some(SipProvider::bind((**sip).clone()).await?),
        };
        let mut provider: Option<Arc<dyn crate::media::MediaProvider>> = None;
        let engine = Engine::start(
            EngineParts {
                db: db.clone(),
                events: events.clone(),
                metrics: metrics.engine.clone(),
                clock,
                config: engine_config,
            },
            |sink| {
                let made: Arc<dyn crate::media::MediaProvider> = match media {
                    None => Arc::new(SimProvider::new(sim_model, seed, sink)),
                    Some(sip) => Arc::new(sip.start(sink)),
                };
                provider = Some(made.clone());
                made
            },
        )
        .await?;
        let webhooks = AbortOnDrop(crate::webhooks::spawn(
            db.clone(),
            events.clone(),
            config.webhooks.clone(),
        ));
        let review = config.review.map(|cfg| {
            AbortOnDrop(crate::dialer::review::spawn(
                db.clone(),
                engine.clock().clone(),
                cfg,
            ))
        });
        let clock = engine.clock().clone();
        let advertised = Arc::new(std::sync::RwLock::new(crate::store::heartbeats::Said {
            url: None,
            name: config.instance_name.clone(),
        }));
        let heartbeat = AbortOnDrop(crate::store::heartbeats::spawn(
            db.clone(),
            instance.clone(),
            move || clock.now(),
            advertised.clone(),
        ));
        let internal_key = lease_cfg.map(|_| derive_key(&secret, b"pinline between instances v1"));
        if let Some(key) = internal_key {
            engine.forward_with(
                crate::http::internal::forwarder(
                    db.clone(),
                    instance.clone(),
                    key,
                    metrics.leases.clone(),
                ),
                &instance,
            );
        }
        let leases = lease_cfg.map(|cfg| {
            Arc::new(tokio::sync::Mutex::new(
                crate::cluster::Keeper::new(db.clone(), instance.clone(), cfg)
                    .with_metrics(metrics.leases.clone()),
            ))
        });
        // The first share taken before the server answers anything.
        if let Some(k) = &leases {
            crate::cluster::step(k, &engine).await;
        }
        let keeper = leases
            .clone()
            .map(|k| AbortOnDrop(crate::cluster::spawn(k, engine.clone())));
        let media = provider.ok_or(StartError::NoMedia)?;
        let import_jobs = crate::import::Jobs {
            db: db.clone(),
            events: events.clone(),
            instance: instance.clone(),
            fictional_ok: media.simulated(),
            data_dir: config.data_dir.clone(),
        };
        // Imports a stop interrupted (alone), or whose server died.
        let carrier = AbortOnDrop(
            import_jobs
                .clone()
                .spawn_carrier(lease_cfg.map(|c| (c.ttl, c.ttl))),
        );
        Ok(App(Arc::new(AppInner {
            leases,
            instance,
            internal_key,
            advertised,
            _keeper: keeper,
            heartbeat: std::sync::Mutex::new(Some(heartbeat)),
            _sqlite_lock: sqlite_lock,
            _webhooks: webhooks,
            _review: review,
            stopping: tokio::sync::watch::channel(false).0,
            keys: TokenKeys::new(&secret),
            cursor_key: derive_key(&secret, b"pinline list cursors v1"),
            login_limiter: LoginLimits::new(config.login_account_limit, config.login_ip_limit, &db),
            events,
            metrics,
            engine,
            media,
            import_jobs,
            _carrier: carrier,
            recordings: Arc::new(crate::recording::blobs::DiskBlobs::new(
                config.data_dir.join("recordings"),
            )),
            db,
            config,
        })))
    }
}
