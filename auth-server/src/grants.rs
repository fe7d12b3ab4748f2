//! The token endpoint's flows: password, refresh_token and client_credentials grants. The
//! database work and the bcrypt checks run on blocking threads.

use std::sync::Arc;

use actix_web::web;
use diesel::Connection;
use shared::db::models::{Application, NewAccessToken, NewRefreshToken, User};
use shared::db::{tokens, users, DbConnection};
use shared::error::{OAuthError, OAuthErrorCode, StoreError};
use shared::scopes::ScopeSet;
use shared::secrets::{new_token, sha256_hex};
use shared::time::now;
use shared::wire::TokenResponse;

use crate::client_auth::PresentedClient;
use crate::form::Form;
use crate::startup::AppState;
use crate::throttle::account_key;

const BAD_CREDENTIALS: &str = "Invalid credentials given.";

pub async fn issue_tokens(
    state: Arc<AppState>,
    client: Option<PresentedClient>,
    form: Form,
) -> Result<TokenResponse, OAuthError> {
    if form.required("grant_type")? == "password" {
        return password_grant(state, client, form).await;
    }
    let db = state.db.clone();
    db.run(move |conn| {
        let app = state.clients.require(conn, client.as_ref())?;
        match form.required("grant_type")? {
            grant_type @ "refresh_token" => {
                ensure_grant_allowed(&app, grant_type)?;
                refresh_token_grant(&state, conn, &app, &form)
            }
            grant_type @ "client_credentials" => {
                if !app.is_confidential() {
                    return Err(OAuthError::unauthorized_client(
                        "A public client may not use the client_credentials grant.",
                    ));
                }
                ensure_grant_allowed(&app, grant_type)?;
                client_credentials_grant(&state, conn, &app, &form)
            }
            _ => Err(OAuthError::new(
                OAuthErrorCode::UnsupportedGrantType,
                "The grant type is not supported.",
            )),
        }
    })
    .await
}

fn ensure_grant_allowed(app: &Application, grant_type: &str) -> Result<(), OAuthError> {
    if app.allows_grant(grant_type) {
        Ok(())
    } else {
        Err(OAuthError::unauthorized_client(format!(
            "The client is not allowed to use the {grant_type} grant."
        )))
    }
}

/// The scopes to grant: those asked for, else the application's defaults; each must be
/// configured on the server and allowed for the application.
fn resolve_scope(
    state: &AppState,
    app: &Application,
    requested: Option<&str>,
) -> Result<ScopeSet, OAuthError> {
    let scopes = match requested {
        Some(raw) => ScopeSet::parse(raw).map_err(|e| OAuthError::invalid_scope(e.to_string()))?,
        None => app.default_scopes(),
    };
    if scopes.is_empty() {
        return Err(OAuthError::invalid_scope(
            "No scope was requested and the application has no default scope.",
        ));
    }
    let unknown = scopes.missing_from(&state.settings.scopes);
    if !unknown.is_empty() {
        return Err(OAuthError::invalid_scope(format!(
            "Unknown scope: {}.",
            unknown.join(" ")
        )));
    }
    let refused = scopes.missing_from(&app.allowed_scopes());
    if !refused.is_empty() {
        return Err(OAuthError::invalid_scope(format!(
            "Scope not allowed for this client: {}.",
            refused.join(" ")
        )));
    }
    Ok(scopes)
}

/// A client deleted while its authentication was still cached: its tokens cannot be stored.
fn client_vanished(e: StoreError) -> OAuthError {
    if e.is_foreign_key_violation() {
        OAuthError::invalid_client("Client authentication failed.")
    } else {
        e.into()
    }
}

/// A new access token: the token for the client, the row (its hash only) for the database.
fn new_access(
    state: &AppState,
    app: &Application,
    user_id: Option<i32>,
    scope: &ScopeSet,
    issued_at: i64,
) -> (String, NewAccessToken) {
    let token = new_token();
    let row = NewAccessToken {
        token_hash: sha256_hex(&token),
        application_id: app.id,
        user_id,
        scope: scope.to_string(),
        issued_at,
        expires_at: issued_at + state.settings.access_token_seconds,
    };
    (token, row)
}

/// A new refresh token in the grant `family`, which keeps the scope the grant had at first. The
/// row is linked to its access token when it is stored.
fn new_refresh(
    state: &AppState,
    app: &Application,
    user_id: i32,
    (family_id, grant_scope): (&str, &str),
    issued_at: i64,
) -> (String, NewRefreshToken) {
    let token = new_token();
    let row = NewRefreshToken {
        token_hash: sha256_hex(&token),
        access_token_id: None,
        application_id: app.id,
        user_id,
        family_id: family_id.to_string(),
        scope: grant_scope.to_string(),
        issued_at,
        expires_at: issued_at + state.settings.refresh_token_seconds,
    };
    (token, row)
}

fn answer(
    state: &AppState,
    scope: &ScopeSet,
    access_token: String,
    refresh_token: Option<String>,
) -> TokenResponse {
    TokenResponse {
        access_token,
        expires_in: state.settings.access_token_seconds,
        token_type: "Bearer".into(),
        scope: scope.to_string(),
        refresh_token,
    }
}

/// A password grant up to the hash check: who the client and the user are, and whether the
/// account is locked.
struct PasswordAttempt {
    app: Arc<Application>,
    scope: ScopeSet,
    user: Option<User>,
    throttle_key: String,
    locked: bool,
}

/// In three steps, so that neither a connection nor a database permit is held during the slow
/// hash: the lookups, the bcrypt check on its own blocking thread, then the tokens.
async fn password_grant(
    state: Arc<AppState>,
    client: Option<PresentedClient>,
    form: Form,
) -> Result<TokenResponse, OAuthError> {
    let form = Arc::new(form);
    let (s, f) = (state.clone(), form.clone());
    let attempt = state
        .db
        .run(move |conn| -> Result<_, OAuthError> {
            let app = s.clients.require(conn, client.as_ref())?;
            ensure_grant_allowed(&app, "password")?;
            let login = f.required("username")?;
            f.required("password")?;
            let scope = resolve_scope(&s, &app, f.get("scope"))?;
            let user = users::find_by_login(conn, login)?;
            let throttle_key = account_key(user.as_ref(), login);
            // The attempt counts as a failure until it succeeds: recording it before the check
            // means parallel guesses cannot all slip in under the limit.
            let locked = s.throttle.register_attempt(conn, &throttle_key, now())?;
            Ok(PasswordAttempt {
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
    let s = state.clone();
    let stored_hash = attempt.user.as_ref().map(|u| u.password_hash.clone());
    let password_ok = web::block(move || {
        let password = form.get("password").unwrap_or_default();
        s.hasher.verify(password, stored_hash.as_deref())
    })
    .await?;
    let PasswordAttempt {
        app,
        scope,
        user,
        throttle_key,
        locked,
    } = attempt;
    let user = match user {
        Some(u) if password_ok && u.is_active && !locked => u,
        _ => return Err(OAuthError::invalid_grant(BAD_CREDENTIALS)),
    };

    let s = state.clone();
    state
        .db
        .run(move |conn| {
            s.throttle.record_success(conn, &throttle_key)?;
            let at = now();
            let (access_token, access) = new_access(&s, &app, Some(user.id), &scope, at);
            let family = uuid::Uuid::new_v4().to_string();
            let scope_text = scope.to_string();
            let refresh = app
                .allows_grant("refresh_token")
                .then(|| new_refresh(&s, &app, user.id, (&family, &scope_text), at));
            conn.transaction::<_, StoreError, _>(|conn| {
                Ok(tokens::insert_pair(
                    conn,
                    &access,
                    refresh.as_ref().map(|(_, row)| row),
                )?)
            })
            .map_err(client_vanished)?;
            Ok(answer(
                &s,
                &scope,
                access_token,
                refresh.map(|(token, _)| token),
            ))
        })
        .await
}

fn refresh_token_grant(
    state: &AppState,
    conn: &mut DbConnection,
    app: &Application,
    form: &Form,
) -> Result<TokenResponse, OAuthError> {
    let presented = form.required("refresh_token")?;
    let invalid = || OAuthError::invalid_grant("The refresh token is invalid, expired or revoked.");
    let at = now();
    let Some((old, owner_active)) = tokens::find_refresh_with_owner(conn, &sha256_hex(presented))?
    else {
        return Err(invalid());
    };
    if old.application_id != app.id {
        return Err(invalid());
    }
    if old.revoked_at.is_some() {
        // A used or revoked refresh token came back: it may have been stolen, so the whole
        // grant ends (RFC 9700 §4.14.2).
        log::warn!(
            "refresh token reuse detected; revoking grant family {}",
            old.family_id
        );
        tokens::revoke_family(conn, &old.family_id, at)?;
        return Err(invalid());
    }
    if old.expires_at <= at {
        return Err(invalid());
    }
    let granted = ScopeSet::parse_lenient(&old.scope);
    let scope = match form.get("scope") {
        None => granted.clone(),
        Some(raw) => {
            let asked =
                ScopeSet::parse(raw).map_err(|e| OAuthError::invalid_scope(e.to_string()))?;
            if asked.is_empty() || !asked.is_subset(&granted) {
                return Err(OAuthError::invalid_scope(
                    "The requested scope exceeds the scope originally granted.",
                ));
            }
            asked
        }
    };
    if !owner_active {
        return Err(invalid());
    }
    let (access_token, access) = new_access(state, app, Some(old.user_id), &scope, at);
    let (refresh_token, refresh) =
        new_refresh(state, app, old.user_id, (&old.family_id, &old.scope), at);
    let rotated = tokens::rotate_refresh(conn, old.id, at, &access, &refresh)
        .map_err(|e| client_vanished(e.into()))?;
    if !rotated {
        return Err(invalid());
    }
    Ok(answer(state, &scope, access_token, Some(refresh_token)))
}

fn client_credentials_grant(
    state: &AppState,
    conn: &mut DbConnection,
    app: &Application,
    form: &Form,
) -> Result<TokenResponse, OAuthError> {
    let scope = resolve_scope(state, app, form.get("scope"))?;
    let (access_token, access) = new_access(state, app, None, &scope, now());
    tokens::insert_pair(conn, &access, None).map_err(|e| client_vanished(e.into()))?;
    Ok(answer(state, &scope, access_token, None))
}
