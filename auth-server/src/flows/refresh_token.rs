//! The refresh_token grant (RFC 6749 §6) with rotation: the presented token dies as the new pair
//! is stored, in one step that only one of several concurrent refreshes can win, and a rotated
//! token that comes back ends its whole grant (RFC 9700 §4.14.2).

use std::sync::Arc;

use auth_store::tokens;
use oauth_core::scopes::ScopeSet;
use oauth_core::wire::TokenResponse;

use super::{authorize_client, client_vanished, Params};
use crate::clients::PresentedClient;
use crate::error::OAuthError;
use crate::services::Services;
use crate::token_strategy::{Family, TokenStrategy};

pub const GRANT_TYPE: &str = "refresh_token";

pub struct RefreshRequest {
    pub refresh_token: String,
    pub scope: Option<String>,
}

/// Never the token.
impl std::fmt::Debug for RefreshRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RefreshRequest")
            .field("scope", &self.scope)
            .finish_non_exhaustive()
    }
}

impl RefreshRequest {
    pub fn parse(params: &impl Params) -> Result<Self, OAuthError> {
        Ok(Self {
            refresh_token: params.required("refresh_token")?.to_string(),
            scope: params.get("scope").map(str::to_string),
        })
    }
}

fn invalid() -> OAuthError {
    OAuthError::invalid_grant("The refresh token is invalid, expired or revoked.")
}

pub async fn issue(
    services: Arc<Services>,
    client: Option<PresentedClient>,
    request: RefreshRequest,
) -> Result<TokenResponse, OAuthError> {
    let db = services.db.clone();
    db.run(move |conn| {
        let app = authorize_client(&services, conn, client.as_ref(), GRANT_TYPE)?;
        let at = services.clock.now();
        let key = TokenStrategy::lookup_key(&request.refresh_token);
        let Some((old, owner_active)) = tokens::find_refresh_with_owner(conn, &key)? else {
            return Err(invalid());
        };
        if old.application_id != app.id {
            return Err(invalid());
        }
        if old.revoked_at.is_some() {
            // A used or revoked refresh token came back: it may have been stolen, so the whole
            // grant ends.
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
        let scope = match request.scope.as_deref() {
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
        let tokens_ = &services.tokens;
        let access = tokens_.access(&app, Some(old.user_id), &scope, at);
        let family = Family {
            id: &old.family_id,
            scope: &old.scope,
        };
        let refresh = tokens_.refresh(&app, old.user_id, family, at);
        let rotated = tokens::rotate_refresh(conn, old.id, at, &access.row, &refresh.row)
            .map_err(client_vanished)?;
        if !rotated {
            return Err(invalid());
        }
        Ok(tokens_.response(&scope, access.token, Some(refresh.token)))
    })
    .await
}
