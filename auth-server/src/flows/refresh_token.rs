//! The refresh_token grant (RFC 6749 §6) with rotation: the presented token dies as the new pair
//! is stored, in one step that only one of several concurrent refreshes can win, and a rotated
//! token that comes back ends its whole grant (RFC 9700 §4.14.2).

use std::net::IpAddr;
use std::sync::Arc;

use auth_store::tokens::{self, Rotation};
use oauth_core::audit::{self, Event};
use oauth_core::scopes::ScopeSet;
use oauth_core::wire::TokenResponse;
use store::DbConnection;

use super::{authorize_client, client_vanished, Params};
use crate::clients::PresentedClient;
use crate::error::OAuthError;
use crate::services::Services;
use crate::token_strategy::{Owner, TokenStrategy};

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
    peer: Option<IpAddr>,
) -> Result<TokenResponse, OAuthError> {
    let checking = services.clone();
    let (rotation, answer) = services
        .db
        .run(move |conn| check(&checking, conn, client, request, peer))
        .await?;
    // The claim, the old access token's revocation and the new pair's inserts, committed with
    // other refreshes that came in meanwhile; only one of several concurrent refreshes of this
    // token wins the claim, whether they share a batch or not.
    let rotated = services
        .writes
        .rotations
        .write(rotation)
        .await
        .map_err(client_vanished)?;
    if !rotated {
        return Err(invalid());
    }
    Ok(answer)
}

/// Everything the grant decides before it writes: the client, the presented token's family and
/// owner, the scope. Ends the family when a used token came back. Returns the rotation to write
/// and the answer to give once it won.
fn check(
    services: &Services,
    conn: &mut DbConnection,
    client: Option<PresentedClient>,
    request: RefreshRequest,
    peer: Option<IpAddr>,
) -> Result<(Rotation, TokenResponse), OAuthError> {
    let app = authorize_client(services, conn, client.as_ref(), GRANT_TYPE)?;
    let at = services.clock.now();
    let key = TokenStrategy::lookup_key(&request.refresh_token);
    let Some(grant) = tokens::find_refresh_grant(conn, &key)? else {
        return Err(invalid());
    };
    let old = &grant.token;
    if old.application_id != app.id {
        return Err(invalid());
    }
    if !grant.is_current() {
        // A used or revoked refresh token came back: it may have been stolen, so the whole
        // grant ends. Used tokens are kept as long as their family could be used, so this
        // holds for the family's whole life.
        let revoked_now = tokens::revoke_family(conn, &old.family_id, at)?;
        services.metrics.replay_detected(GRANT_TYPE);
        audit::record(Event::RefreshTokenReuse)
            .field("user_id", old.user_id)
            .field("client_id", &app.client_id)
            .field("family_revoked", revoked_now)
            .optional("peer", peer)
            .emit();
        return Err(invalid());
    }
    if old.expires_at <= at || grant.family.expires_at <= at {
        return Err(invalid());
    }
    if !grant.owner_current() {
        // The password changed or the account was deactivated since the grant: it is over.
        tokens::revoke_family(conn, &old.family_id, at)?;
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
    let tokens_ = &services.tokens;
    let owner = Owner {
        id: old.user_id,
        credentials_version: grant.family.credentials_version,
    };
    let access = tokens_.access(&app, Some(owner), &scope, at);
    let refresh = tokens_.refresh(&grant.family, &old.scope, at);
    let answer = tokens_.response(&scope, access.token, Some(refresh.token));
    let rotation = Rotation {
        old: grant.token,
        at,
        access: access.row,
        refresh: refresh.row,
    };
    Ok((rotation, answer))
}
