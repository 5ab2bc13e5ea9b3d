//! Login sessions: one row per `login`, ended by `logout`, by deactivation,
//! or by a password change. Every request checks its session here, so an
//! ended session's token stops working at once.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel_async::RunQueryDsl;

use super::models::{Session, User};
use super::schema::{sessions, users};
use super::{Db, StoreResult, with_conn, with_write};

pub async fn insert(db: &Db, session: &Session) -> StoreResult<()> {
    with_write!(db, |conn| {
        diesel::insert_into(sessions::table)
            .values(session)
            .execute(conn)
            .await?;
        Ok(())
    })
}

/// The session and its user, if the session exists (whatever its state).
pub async fn get_with_user(db: &Db, id: &str) -> StoreResult<Option<(Session, User)>> {
    with_conn!(db, |conn| {
        Ok(sessions::table
            .inner_join(users::table)
            .filter(sessions::id.eq(id))
            .select((Session::as_select(), User::as_select()))
            .first(conn)
            .await
            .optional()?)
    })
}

/// End a session; returns false when it was already ended.
pub async fn end(db: &Db, id: &str, at: NaiveDateTime) -> StoreResult<bool> {
    with_write!(db, |conn| {
        let n = diesel::update(
            sessions::table
                .filter(sessions::id.eq(id))
                .filter(sessions::ended_at.is_null()),
        )
        .set(sessions::ended_at.eq(Some(at)))
        .execute(conn)
        .await?;
        Ok(n > 0)
    })
}
