//! Which servers share the database, and which one runs a contact
//! center's live state (`ContactCenter.runBy`): on PostgreSQL any number
//! of servers share the centers out by lease (`cluster.rs`); on SQLite
//! there is one.

use async_graphql::{Context, ID, Object};
use chrono::{DateTime, Utc};

use crate::app::App;
use crate::domain::identity::Role as DomainRole;
use crate::store::heartbeats;

use super::access::require_role;
use super::error::ApiResult;
use super::types::utc;
use super::{actor, app};

pub struct ServerInstance {
    row: heartbeats::Server,
    here: bool,
}

impl ServerInstance {
    fn new(app: &App, row: heartbeats::Server) -> ServerInstance {
        let here = row.instance_id == app.instance;
        ServerInstance { row, here }
    }
}

/// A Pinline server on this database, as its last heartbeat says.
#[Object]
impl ServerInstance {
    async fn id(&self) -> ID {
        ID(self.row.instance_id.clone())
    }
    /// Its `--instance-name`, or its id.
    async fn name(&self) -> &str {
        self.row.label()
    }
    async fn started_at(&self) -> DateTime<Utc> {
        utc(self.row.started_at)
    }
    /// Its last heartbeat (every second while it runs).
    async fn last_seen_at(&self) -> DateTime<Utc> {
        utc(self.row.beat_at)
    }
    /// The server that answered this request.
    async fn this_server(&self) -> bool {
        self.here
    }
}

/// The server running `contact_center_id` now: the holder of its lease
/// (PostgreSQL; none while it changes hands), or this one (SQLite).
pub async fn run_by(app: &App, contact_center_id: &str) -> ApiResult<Option<ServerInstance>> {
    let owner = if app.leases.is_some() {
        match crate::store::leases::holder(&app.db, contact_center_id).await? {
            Some(owner) => owner,
            None => return Ok(None),
        }
    } else {
        app.instance.clone()
    };
    Ok(heartbeats::get(&app.db, &owner)
        .await?
        .map(|row| ServerInstance::new(app, row)))
}

#[derive(Default)]
pub struct ServersQuery;

#[Object]
impl ServersQuery {
    /// Every server on this database, the latest seen first (admins).
    async fn servers(&self, ctx: &Context<'_>) -> ApiResult<Vec<ServerInstance>> {
        let (app, caller) = (app(ctx), actor(ctx)?);
        require_role(caller, DomainRole::Admin)?;
        Ok(heartbeats::all(&app.db)
            .await?
            .into_iter()
            .map(|row| ServerInstance::new(app, row))
            .collect())
    }
}
