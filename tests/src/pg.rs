//! Throwaway PostgreSQL databases for tests, from the cluster the test
//! command started (`PINLINE_TEST_PG_URL`, a server URL without a database).

use diesel_async::{AsyncConnection, AsyncPgConnection, SimpleAsyncConnection};
use tokio::sync::OnceCell;

static TEMPLATE: OnceCell<String> = OnceCell::const_new();

/// The cluster's URL, or a panic that says how to get one.
pub fn server_url() -> String {
    match std::env::var("PINLINE_TEST_PG_URL") {
        Ok(url) if !url.is_empty() => url.trim_end_matches('/').to_owned(),
        _ => panic!(
            "PINLINE_TEST_PG_URL is not set: PostgreSQL tests need the throwaway cluster \
             that `./dev test` starts (PostgreSQL server binaries initdb/pg_ctl must be installed; \
             `./dev test` installs them when missing)"
        ),
    }
}

fn url_for(db: &str) -> String {
    format!("{}/{db}", server_url())
}

async fn admin_exec(sql: &str) {
    let mut conn = AsyncPgConnection::establish(&url_for("postgres"))
        .await
        .unwrap_or_else(|e| panic!("cannot reach the test PostgreSQL at {}: {e}", server_url()));
    conn.batch_execute(sql)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
}

/// Migrate a template database once per test process.
async fn template() -> &'static str {
    TEMPLATE
        .get_or_init(|| async {
            let name = format!("pinline_tmpl_{}", uuid::Uuid::new_v4().simple());
            admin_exec(&format!("CREATE DATABASE {name}")).await;
            let target = pinline::store::DbTarget::Postgres(url_for(&name));
            pinline::store::run_migrations(&target)
                .await
                .expect("migrations apply to the template");
            name
        })
        .await
}

/// A new migrated database (a copy of the template); returns its URL.
pub async fn fresh_database() -> String {
    let template = template().await;
    let name = format!("pinline_t_{}", uuid::Uuid::new_v4().simple());
    admin_exec(&format!("CREATE DATABASE {name} TEMPLATE {template}")).await;
    url_for(&name)
}

/// A new empty database (no migrations); returns its URL.
pub async fn empty_database() -> String {
    let name = format!("pinline_e_{}", uuid::Uuid::new_v4().simple());
    admin_exec(&format!("CREATE DATABASE {name}")).await;
    url_for(&name)
}

/// Drop a test database (best effort: connections are closed first).
pub async fn drop_database(url: &str) {
    if let Some(name) = url.rsplit('/').next().filter(|n| n.starts_with("pinline_")) {
        admin_exec(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).await;
    }
}
