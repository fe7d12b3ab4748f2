//! RFC 7009 revocation: the answer is the same whether or not the token existed, and a client
//! reaches only its own tokens.

use std::sync::Arc;

use auth_store::models::Application;
use auth_store::tokens;
use auth_store::TokenHash;
use store::DbConnection;

use crate::clients::PresentedClient;
use crate::error::OAuthError;
use crate::services::Services;
use crate::token_strategy::TokenStrategy;

pub struct RevocationRequest {
    /// None when the request named no token: `invalid_request` once the client is known.
    pub token: Option<String>,
    /// Only orders the search (RFC 7009 §2.1); an unknown hint is ignored.
    pub hint: Option<String>,
}

pub async fn revoke(
    services: Arc<Services>,
    client: Option<PresentedClient>,
    request: RevocationRequest,
) -> Result<(), OAuthError> {
    let db = services.db.clone();
    db.run(move |conn| {
        let app = services.clients.require(conn, client.as_ref())?;
        let token = request
            .token
            .ok_or_else(|| OAuthError::invalid_request("Missing required parameter: token."))?;
        let key = TokenStrategy::lookup_key(&token);
        let at = services.clock.now();
        if request.hint.as_deref() == Some("refresh_token") {
            if !revoke_refresh(conn, &app, &key, at)? {
                revoke_access(conn, &app, &key, at)?;
            }
        } else if !revoke_access(conn, &app, &key, at)? {
            revoke_refresh(conn, &app, &key, at)?;
        }
        Ok(())
    })
    .await
}

/// True when the token was found, whoever's it is.
fn revoke_access(
    conn: &mut DbConnection,
    app: &Application,
    key: &TokenHash,
    at: i64,
) -> Result<bool, OAuthError> {
    match tokens::find_access_by_hash(conn, key)? {
        Some(token) if token.application_id == app.id => {
            tokens::revoke_access(conn, &token.token_hash, at)?;
            Ok(true)
        }
        Some(_) => Ok(true),
        None => Ok(false),
    }
}

/// Revoking a refresh token ends its grant: every token of its family (RFC 7009 §2.1).
fn revoke_refresh(
    conn: &mut DbConnection,
    app: &Application,
    key: &TokenHash,
    at: i64,
) -> Result<bool, OAuthError> {
    match tokens::find_refresh_by_hash(conn, key)? {
        Some(token) if token.application_id == app.id => {
            tokens::revoke_family(conn, &token.family_id, at)?;
            Ok(true)
        }
        Some(_) => Ok(true),
        None => Ok(false),
    }
}
