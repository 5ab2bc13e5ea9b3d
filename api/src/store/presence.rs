//! Agents' presence as last written: the engine keeps the live copy in
//! memory and writes every change here, so a restart knows who owed a
//! wrap-up.

use diesel::prelude::*;
use diesel_async::RunQueryDsl;

use super::models::Presence;
use super::schema::agent_presence;
use super::{Db, StoreResult, with_conn};

pub async fn save(db: &Db, p: &Presence) -> StoreResult<()> {
    with_conn!(db, |conn| {
        diesel::insert_into(agent_presence::table)
            .values(p)
            .on_conflict(agent_presence::user_id)
            .do_update()
            .set(p)
            .execute(conn)
            .await?;
        Ok(())
    })
}

pub async fn get(db: &Db, user_id: &str) -> StoreResult<Option<Presence>> {
    with_conn!(db, |conn| {
        Ok(agent_presence::table
            .find(user_id)
            .select(Presence::as_select())
            .first(conn)
            .await
            .optional()?)
    })
}

pub async fn all(db: &Db) -> StoreResult<Vec<Presence>> {
    with_conn!(db, |conn| {
        Ok(agent_presence::table
            .select(Presence::as_select())
            .load(conn)
            .await?)
    })
}
