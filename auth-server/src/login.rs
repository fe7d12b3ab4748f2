//! Checking a person's password: the password grant and the login page share it, so that both
//! count failures towards the same throttle and give the same answer whatever was wrong.
//!
//! In three steps, so that neither a connection nor a database permit is held during the slow
//! hash: [`begin`] inside the caller's database call, [`verify`] on a blocking thread, then
//! [`complete`] inside the caller's next database call.

use std::net::IpAddr;

use oauth_core::accounts::LOGIN_MAX_CHARS;
use oauth_core::audit::{self, Event};
use store::models::User;
use store::{users, DbConnection, StoreError};

use crate::error::OAuthError;
use crate::services::Services;
use crate::throttle::account_key;

/// The one answer to every failed login.
pub const BAD_CREDENTIALS: &str = "Invalid credentials given.";

/// A login up to the hash check: who the user is, and whether the account is locked.
pub struct Attempt {
    user: Option<User>,
    throttle_key: String,
    locked: bool,
}

/// A login that passed, and what [`complete`] still has to write.
pub struct Verified {
    pub user: User,
    throttle_key: String,
    /// The password matched a hash of an outdated cost: its new hash.
    upgraded_hash: Option<String>,
}

/// Where the attempt came from, for the audit log only.
#[derive(Debug, Clone, Copy)]
pub struct Origin<'a> {
    pub client_id: &'a str,
    pub peer: Option<IpAddr>,
}

/// Looks the account up by username or e-mail and records the attempt.
pub fn begin(
    services: &Services,
    conn: &mut DbConnection,
    login: &str,
) -> Result<Attempt, StoreError> {
    // No username or e-mail is that long, so such a login is just a wrong one.
    let user = if login.chars().count() > LOGIN_MAX_CHARS {
        None
    } else {
        users::find_by_login(conn, login)?
    };
    let throttle_key = account_key(user.as_ref(), login);
    // The attempt counts as a failure until it succeeds: recording it before the check means
    // parallel guesses cannot all slip in under the limit.
    let locked = services
        .throttle
        .register_attempt(conn, &throttle_key, services.clock.now())?;
    Ok(Attempt {
        user,
        throttle_key,
        locked,
    })
}

/// The bcrypt check, on a blocking thread. The hash is checked even when the account is locked
/// or missing, so that neither shows in the answer or its timing.
pub async fn verify(
    services: &std::sync::Arc<Services>,
    attempt: Attempt,
    password: String,
    origin: Origin<'_>,
) -> Result<Verified, OAuthError> {
    let s = services.clone();
    let stored_hash = attempt.user.as_ref().map(|u| u.password_hash.clone());
    let (ok, upgraded_hash) = tokio::task::spawn_blocking(move || {
        let ok = s.hasher.verify(&password, stored_hash.as_deref());
        let upgraded = match stored_hash {
            Some(hash) if ok && s.hasher.needs_rehash(&hash) => s.hasher.hash(&password).ok(),
            _ => None,
        };
        (ok, upgraded)
    })
    .await
    .map_err(|_| OAuthError::server_error("the password check was cancelled"))?;
    let Attempt {
        user,
        throttle_key,
        locked,
    } = attempt;
    let user_id = user.as_ref().map(|u| u.id);
    let audit = |event| {
        audit::record(event)
            .optional("user_id", user_id)
            .field("client_id", origin.client_id)
            .optional("peer", origin.peer)
    };
    match user {
        Some(user) if ok && user.is_active && !locked => {
            audit(Event::LoginSucceeded).emit();
            Ok(Verified {
                user,
                throttle_key,
                upgraded_hash,
            })
        }
        _ => {
            services.metrics.login_failed(locked);
            audit(if locked {
                Event::LoginLocked
            } else {
                Event::LoginFailed
            })
            .emit();
            Err(OAuthError::invalid_grant(BAD_CREDENTIALS))
        }
    }
}

/// Forgives the account's failures and stores an upgraded hash.
pub fn complete(
    services: &Services,
    conn: &mut DbConnection,
    verified: &Verified,
) -> Result<(), StoreError> {
    services
        .throttle
        .record_success(conn, &verified.throttle_key)?;
    if let Some(new_hash) = &verified.upgraded_hash {
        let user = &verified.user;
        users::upgrade_password_hash(conn, user.id, &user.password_hash, new_hash)?;
    }
    Ok(())
}
