//! Signed-in browsers. The cookie holds a random session id; only its SHA-256 is stored, so the
//! table alone signs nobody in, and every replica resolves the same cookie.

use diesel::prelude::*;

use crate::models::BrowserSession;
use crate::schema::{browser_sessions, users};
use store::{DbConnection, StoreResult};

pub fn insert(conn: &mut DbConnection, session: &BrowserSession) -> StoreResult<()> {
    diesel::insert_into(browser_sessions::table)
        .values(session)
        .execute(conn)?;
    Ok(())
}

/// The session, while it has not expired at `now`, its user is active and their credentials have
/// not changed since it began.
pub fn find_live(
    conn: &mut DbConnection,
    id_hash: &str,
    now: i64,
) -> StoreResult<Option<BrowserSession>> {
    Ok(browser_sessions::table
        .inner_join(users::table)
        .filter(browser_sessions::id_hash.eq(id_hash))
        .filter(browser_sessions::expires_at.gt(now))
        .filter(users::is_active.eq(true))
        .filter(users::credentials_version.eq(browser_sessions::credentials_version))
        .select(BrowserSession::as_select())
        .first(conn)
        .optional()?)
}

/// The session by its hash, live or not.
pub fn find(conn: &mut DbConnection, id_hash: &str) -> StoreResult<Option<BrowserSession>> {
    Ok(browser_sessions::table
        .find(id_hash)
        .select(BrowserSession::as_select())
        .first(conn)
        .optional()?)
}

/// Ends a session; true when there was one.
pub fn delete(conn: &mut DbConnection, id_hash: &str) -> StoreResult<bool> {
    let deleted =
        diesel::delete(browser_sessions::table.filter(browser_sessions::id_hash.eq(id_hash)))
            .execute(conn)?;
    Ok(deleted > 0)
}

/// Deletes the sessions that expired at or before `cutoff`; how many.
pub fn delete_expired(conn: &mut DbConnection, cutoff: i64) -> StoreResult<usize> {
    Ok(
        diesel::delete(browser_sessions::table.filter(browser_sessions::expires_at.le(cutoff)))
            .execute(conn)?,
    )
}
