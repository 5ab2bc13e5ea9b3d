//! The application state: built once at start-up from a `Config`, cloned
//! (cheaply) into every handler and resolver.

use std::sync::Arc;

use crate::auth::ratelimit::LoginLimiter;
use crate::auth::token::TokenKeys;
use crate::config::Config;
use crate::events::{EventBus, LocalBus};
use crate::metrics::Metrics;
use crate::store::{Db, DbTarget, StoreError};

#[derive(Clone)]
pub struct App(Arc<AppInner>);

pub struct AppInner {
    pub config: Config,
    pub db: Db,
    pub keys: TokenKeys,
    pub login_limiter: LoginLimiter,
    pub events: Arc<dyn EventBus>,
    pub metrics: Metrics,
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
}

impl App {
    /// Connect to the database, apply pending migrations, load the signing
    /// secret, and build the state.
    pub async fn start(config: Config) -> Result<App, StartError> {
        let target = DbTarget::resolve(config.database_url.as_deref(), &config.data_dir);
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
        let interrupted = crate::store::imports::fail_interrupted(&db).await?;
        if interrupted > 0 {
            tracing::warn!(
                interrupted,
                "imports interrupted by the last stop were marked FAILED"
            );
        }
        Ok(App(Arc::new(AppInner {
            keys: TokenKeys::new(&secret),
            login_limiter: LoginLimiter::new(config.login_account_limit, config.login_ip_limit),
            events: Arc::new(LocalBus::new(1024)),
            metrics: Metrics::new(db.backend()),
            db,
            config,
        })))
    }
}
