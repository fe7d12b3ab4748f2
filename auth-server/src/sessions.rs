//! Browser sessions at the auth server: who is signed in to the login page. The cookie carries a
//! random id of 256 bits; the database keeps its SHA-256 only, so any replica resolves it and a
//! copy of the table signs nobody in.

use auth_store::browser_sessions;
use auth_store::models::BrowserSession;
use oauth_core::secrets::{new_token, sha256_hex};
use store::models::User;
use store::{DbConnection, StoreError};

use crate::services::Services;

/// A new session for `user`, who has just entered their password; the id for the cookie.
/// `replacing`: the browser's previous session, which ends.
pub fn start(
    services: &Services,
    conn: &mut DbConnection,
    user: &User,
    replacing: Option<&str>,
) -> Result<(String, BrowserSession), StoreError> {
    if let Some(old) = replacing {
        browser_sessions::delete(conn, &sha256_hex(old))?;
    }
    let id = new_token();
    let now = services.clock.now();
    let session = BrowserSession {
        id_hash: sha256_hex(&id),
        user_id: user.id,
        credentials_version: user.credentials_version,
        auth_time: now,
        created_at: now,
        expires_at: now + services.session_seconds,
    };
    browser_sessions::insert(conn, &session)?;
    Ok((id, session))
}

/// The live session the cookie names, if any: not expired, and its user still active with the
/// same credentials.
pub fn find(
    services: &Services,
    conn: &mut DbConnection,
    id: &str,
) -> Result<Option<BrowserSession>, StoreError> {
    browser_sessions::find_live(conn, &sha256_hex(id), services.clock.now())
}

/// The user of the session the cookie names, whether or not it is still live.
pub fn find_user(conn: &mut DbConnection, id: &str) -> Result<Option<i32>, StoreError> {
    Ok(browser_sessions::find(conn, &sha256_hex(id))?.map(|s| s.user_id))
}

/// Ends the session the cookie names; true when there was one.
pub fn end(conn: &mut DbConnection, id: &str) -> Result<bool, StoreError> {
    browser_sessions::delete(conn, &sha256_hex(id))
}
