//! OpenID Connect userinfo (Core §5.3): the claims about a token's user that its scopes allow.
//! The token is checked as introspection checks it: unexpired, unrevoked, and issued under its
//! owner's current credentials to an active owner.

use std::sync::Arc;

use auth_store::tokens;
use oauth_core::scopes::ScopeSet;
use store::users;

use crate::error::OAuthError;
use crate::oidc::claims::UserClaims;
use crate::oidc::OPENID_SCOPE;
use crate::services::Services;
use crate::token_strategy::TokenStrategy;

/// Why there are no claims to give (RFC 6750 §3.1).
#[derive(Debug)]
pub enum UserinfoError {
    /// Unknown, expired or revoked, its owner changed their password or was deactivated, or it
    /// stands for no user (a client_credentials token): 401 `invalid_token`.
    InvalidToken(&'static str),
    /// A live token without `openid`: 403 `insufficient_scope`.
    InsufficientScope,
    /// The database failed: 503 or 500.
    Unavailable(OAuthError),
}

impl From<store::StoreError> for UserinfoError {
    fn from(e: store::StoreError) -> Self {
        Self::Unavailable(e.into())
    }
}

pub async fn userinfo(services: Arc<Services>, token: String) -> Result<UserClaims, UserinfoError> {
    let db = services.db.clone();
    db.read(move |conn| {
        let key = TokenStrategy::lookup_key(&token);
        let Some(active) = tokens::find_active_access(conn, &key, services.clock.now())? else {
            return Err(UserinfoError::InvalidToken(
                "The access token is invalid, expired or revoked.",
            ));
        };
        // A client's own token has no user to describe; no scope would change that.
        let Some((user_id, _)) = active.user else {
            return Err(UserinfoError::InvalidToken(
                "The access token was not issued to a user.",
            ));
        };
        let scope = ScopeSet::parse_lenient(&active.token.scope);
        if !scope.contains(OPENID_SCOPE) {
            return Err(UserinfoError::InsufficientScope);
        }
        let user = users::find(conn, user_id)?.ok_or(UserinfoError::InvalidToken(
            "The access token's user no longer exists.",
        ))?;
        Ok(UserClaims::of(&user, &scope))
    })
    .await
}
