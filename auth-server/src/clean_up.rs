//! Deleting what can no longer be used: dead tokens and authorization codes past their retention,
//! expired browser sessions, login failures past the throttling window, and signing keys whose ID
//! tokens have all expired. The periodic task and `clear-tokens` both do exactly this.

use std::sync::Arc;
use std::time::{Duration, Instant};

use auth_store::tokens;
use auth_store::{authorization_codes, browser_sessions, login_failures, signing_keys};
use store::{DbConnection, StoreError};

use crate::oidc::key_ring::KeyPolicy;
use crate::services::Services;

/// What one clean-up deleted, row counts by table.
#[derive(Debug, Clone, Copy, Default)]
pub struct Cleared {
    pub access_tokens: usize,
    pub refresh_tokens: usize,
    pub authorization_codes: usize,
    pub browser_sessions: usize,
    pub login_failures: usize,
    pub signing_keys: usize,
}

impl Cleared {
    /// By table name, for the metrics.
    pub fn by_table(&self) -> [(&'static str, usize); 6] {
        [
            ("access_tokens", self.access_tokens),
            ("refresh_tokens", self.refresh_tokens),
            ("authorization_codes", self.authorization_codes),
            ("browser_sessions", self.browser_sessions),
            ("login_failures", self.login_failures),
            ("signing_keys", self.signing_keys),
        ]
    }
}

pub fn clear_dead_rows(
    conn: &mut DbConnection,
    retention_seconds: i64,
    login_window_seconds: i64,
) -> Result<Cleared, StoreError> {
    let now = oauth_core::time::now();
    let tokens = tokens::delete_dead(conn, now - retention_seconds)?;
    Ok(Cleared {
        access_tokens: tokens.access_tokens,
        refresh_tokens: tokens.refresh_tokens,
        login_failures: login_failures::delete_older_than(conn, now - login_window_seconds)?,
        authorization_codes: authorization_codes::delete_expired(conn, now - retention_seconds)?,
        browser_sessions: browser_sessions::delete_expired(conn, now)?,
        signing_keys: 0,
    })
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
            let started = Instant::now();
            let cleared = services
                .db
                .run(move |conn| {
                    let cleared = clear_dead_rows(
                        conn,
                        schedule.retention_seconds,
                        schedule.login_window_seconds,
                    )?;
                    let signing_keys = delete_unpublished_keys(conn, schedule.keys)?;
                    Ok::<_, StoreError>(Cleared {
                        signing_keys,
                        ..cleared
                    })
                })
                .await;
            match cleared {
                Ok(n) => {
                    services
                        .metrics
                        .cleaned_up(&n.by_table(), started.elapsed());
                    log::info!(
                        "clean-up deleted {} access and {} refresh tokens",
                        n.access_tokens,
                        n.refresh_tokens
                    )
                }
                Err(e) => log::warn!("token clean-up failed: {e}"),
            }
        }
    });
}
