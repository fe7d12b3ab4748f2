//! Deleting what can no longer be used: dead tokens and authorization codes past their retention,
//! expired browser sessions, login failures past the throttling window, and signing keys whose ID
//! tokens have all expired. The periodic task and `clear-tokens` both do exactly this.

use std::sync::Arc;
use std::time::Duration;

use auth_store::tokens::{self, Cleared};
use auth_store::{authorization_codes, browser_sessions, login_failures, signing_keys};
use store::{DbConnection, StoreError};

use crate::oidc::key_ring::KeyPolicy;
use crate::services::Services;

pub fn clear_dead_rows(
    conn: &mut DbConnection,
    retention_seconds: i64,
    login_window_seconds: i64,
) -> Result<Cleared, StoreError> {
    let now = oauth_core::time::now();
    let cleared = tokens::delete_dead(conn, now - retention_seconds)?;
    login_failures::delete_older_than(conn, now - login_window_seconds)?;
    authorization_codes::delete_expired(conn, now - retention_seconds)?;
    browser_sessions::delete_expired(conn, now)?;
    Ok(cleared)
}

/// What the periodic task keeps.
#[derive(Debug, Clone, Copy)]
pub struct Schedule {
    /// 0 turns the task off.
    pub every_seconds: u64,
    pub retention_seconds: i64,
    pub login_window_seconds: i64,
    /// When retired signing keys have nothing left to verify.
    pub keys: KeyPolicy,
}

/// Deletes the signing keys whose every ID token has expired: their private keys serve nothing.
pub fn delete_unpublished_keys(
    conn: &mut DbConnection,
    keys: KeyPolicy,
) -> Result<usize, StoreError> {
    signing_keys::delete_retired_by(
        conn,
        keys.unpublished_if_retired_by(oauth_core::time::now()),
    )
}

/// Runs [`clear_dead_rows`] every interval on the current runtime.
pub fn spawn(services: Arc<Services>, schedule: Schedule) {
    if schedule.every_seconds == 0 {
        return;
    }
    actix_web::rt::spawn(async move {
        let mut ticker = tokio::time::interval(Duration::from_secs(schedule.every_seconds));
        loop {
            ticker.tick().await;
            let cleared = services
                .db
                .run(move |conn| {
                    let cleared = clear_dead_rows(
                        conn,
                        schedule.retention_seconds,
                        schedule.login_window_seconds,
                    )?;
                    delete_unpublished_keys(conn, schedule.keys)?;
                    Ok::<_, StoreError>(cleared)
                })
                .await;
            match cleared {
                Ok(n) => log::info!(
                    "clean-up deleted {} access and {} refresh tokens",
                    n.access_tokens,
                    n.refresh_tokens
                ),
                Err(e) => log::warn!("token clean-up failed: {e}"),
            }
        }
    });
}
