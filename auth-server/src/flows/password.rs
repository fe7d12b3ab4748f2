//! The password grant (RFC 6749 §4.3): a user's name or e-mail and password, throttled per
//! account across every replica.

use std::net::IpAddr;
use std::sync::Arc;

use auth_store::tokens;
use diesel::Connection;
use oauth_core::wire::TokenResponse;
use store::StoreError;

use super::{authorize_client, client_vanished, resolve_scope, Params};
use crate::clients::PresentedClient;
use crate::error::OAuthError;
use crate::login;
use crate::services::Services;
use crate::token_strategy::Owner;

pub const GRANT_TYPE: &str = "password";

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

/// In three steps, so that neither a connection nor a database permit is held during the slow
/// hash (see [`crate::login`]).
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
    let (app, scope, attempt) = services
        .db
        .run(move |conn| -> Result<_, OAuthError> {
            let app = authorize_client(&s, conn, client.as_ref(), GRANT_TYPE)?;
            let scope = resolve_scope(&s, &app, scope.as_deref())?;
            let attempt = login::begin(&s, conn, &login)?;
            Ok((app, scope, attempt))
        })
        .await?;
    let origin = login::Origin {
        client_id: &app.client_id,
        peer,
    };
    let verified = login::verify(&services, attempt, password, origin).await?;

    let s = services.clone();
    services
        .db
        .run(move |conn| {
            login::complete(&s, conn, &verified)?;
            let user = &verified.user;
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
