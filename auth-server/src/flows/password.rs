//! The password grant (RFC 6749 §4.3): a user's name or e-mail and password, throttled per
//! account across every replica.

use std::net::IpAddr;
use std::sync::Arc;

use auth_store::models::Application;
use auth_store::tokens;
use diesel::Connection;
use oauth_core::accounts::LOGIN_MAX_CHARS;
use oauth_core::audit::{self, Event};
use oauth_core::scopes::ScopeSet;
use oauth_core::wire::TokenResponse;
use store::models::User;
use store::{users, StoreError};

use super::{authorize_client, client_vanished, resolve_scope, Params};
use crate::clients::PresentedClient;
use crate::error::OAuthError;
use crate::services::Services;
use crate::throttle::account_key;
use crate::token_strategy::Owner;

pub const GRANT_TYPE: &str = "password";

const BAD_CREDENTIALS: &str = "Invalid credentials given.";

pub struct PasswordRequest {
    /// A username, or an e-mail address (case-insensitive).
    pub login: String,
    pub password: String,
    pub scope: Option<String>,
}

/// Never the password.
impl std::fmt::Debug for PasswordRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PasswordRequest")
            .field("login", &self.login)
            .field("scope", &self.scope)
            .finish_non_exhaustive()
    }
}

impl PasswordRequest {
    pub fn parse(params: &impl Params) -> Result<Self, OAuthError> {
        Ok(Self {
            login: params.required("username")?.to_string(),
            password: params.required("password")?.to_string(),
            scope: params.get("scope").map(str::to_string),
        })
    }
}

/// A password grant up to the hash check: who the client and the user are, and whether the
/// account is locked.
struct Attempt {
    app: Arc<Application>,
    scope: ScopeSet,
    user: Option<User>,
    throttle_key: String,
    locked: bool,
}

/// What the hash check found: whether the password matched and, when it did with a hash at an
/// outdated cost, the new hash to store.
struct Checked {
    ok: bool,
    upgraded_hash: Option<String>,
}

/// In three steps, so that neither a connection nor a database permit is held during the slow
/// hash: the lookups, the bcrypt check on its own blocking thread, then the tokens.
pub async fn issue(
    services: Arc<Services>,
    client: Option<PresentedClient>,
    request: PasswordRequest,
    peer: Option<IpAddr>,
) -> Result<TokenResponse, OAuthError> {
    let PasswordRequest {
        login,
        password,
        scope,
    } = request;
    let s = services.clone();
    let attempt = services
        .db
        .run(move |conn| -> Result<_, OAuthError> {
            let app = authorize_client(&s, conn, client.as_ref(), GRANT_TYPE)?;
            let scope = resolve_scope(&s, &app, scope.as_deref())?;
            // No username or e-mail is that long, so such a login is just a wrong one.
            let user = if login.chars().count() > LOGIN_MAX_CHARS {
                None
            } else {
                users::find_by_login(conn, &login)?
            };
            let throttle_key = account_key(user.as_ref(), &login);
            // The attempt counts as a failure until it succeeds: recording it before the check
            // means parallel guesses cannot all slip in under the limit.
            let locked = s
                .throttle
                .register_attempt(conn, &throttle_key, s.clock.now())?;
            Ok(Attempt {
                app,
                scope,
                user,
                throttle_key,
                locked,
            })
        })
        .await?;

    // The hash is checked even when the account is locked or missing, so that neither shows in
    // the answer or its timing.
    let s = services.clone();
    let stored_hash = attempt.user.as_ref().map(|u| u.password_hash.clone());
    let checked = tokio::task::spawn_blocking(move || {
        let ok = s.hasher.verify(&password, stored_hash.as_deref());
        let upgraded_hash = match stored_hash {
            Some(hash) if ok && s.hasher.needs_rehash(&hash) => s.hasher.hash(&password).ok(),
            _ => None,
        };
        Checked { ok, upgraded_hash }
    })
    .await
    .map_err(|_| OAuthError::server_error("the password check was cancelled"))?;
    let Attempt {
        app,
        scope,
        user,
        throttle_key,
        locked,
    } = attempt;
    let audit = |event| {
        audit::record(event)
            .optional("user_id", user.as_ref().map(|u| u.id))
            .field("client_id", &app.client_id)
            .optional("peer", peer)
    };
    let user = match &user {
        Some(u) if checked.ok && u.is_active && !locked => u.clone(),
        _ => {
            audit(if locked {
                Event::LoginLocked
            } else {
                Event::LoginFailed
            })
            .emit();
            return Err(OAuthError::invalid_grant(BAD_CREDENTIALS));
        }
    };
    audit(Event::LoginSucceeded).emit();

    let s = services.clone();
    services
        .db
        .run(move |conn| {
            s.throttle.record_success(conn, &throttle_key)?;
            if let Some(new_hash) = &checked.upgraded_hash {
                users::upgrade_password_hash(conn, user.id, &user.password_hash, new_hash)?;
            }
            let at = s.clock.now();
            let owner = Owner {
                id: user.id,
                credentials_version: user.credentials_version,
            };
            let access = s.tokens.access(&app, Some(owner), &scope, at);
            let refresh = app.allows_grant(super::refresh_token::GRANT_TYPE).then(|| {
                let family = s.tokens.new_family(&app, owner, at);
                let token = s.tokens.refresh(&family, &scope.to_string(), at);
                (family, token)
            });
            conn.transaction::<_, StoreError, _>(|conn| {
                tokens::insert_grant(
                    conn,
                    &access.row,
                    refresh.as_ref().map(|(family, r)| (family, &r.row)),
                )
            })
            .map_err(client_vanished)?;
            Ok(s.tokens
                .response(&scope, access.token, refresh.map(|(_, r)| r.token)))
        })
        .await
}
