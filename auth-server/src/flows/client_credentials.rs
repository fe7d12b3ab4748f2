//! The client_credentials grant (RFC 6749 §4.4): a confidential client acting for itself. No
//! refresh token is issued.

use std::sync::Arc;

use auth_store::tokens;
use oauth_core::wire::TokenResponse;

use super::{client_vanished, ensure_grant_allowed, resolve_scope, Params};
use crate::clients::PresentedClient;
use crate::error::OAuthError;
use crate::services::Services;

pub const GRANT_TYPE: &str = "client_credentials";

#[derive(Debug)]
pub struct ClientCredentialsRequest {
    pub scope: Option<String>,
}

impl ClientCredentialsRequest {
    pub fn parse(params: &impl Params) -> Result<Self, OAuthError> {
        Ok(Self {
            scope: params.get("scope").map(str::to_string),
        })
    }
}

pub async fn issue(
    services: Arc<Services>,
    client: Option<PresentedClient>,
    request: ClientCredentialsRequest,
) -> Result<TokenResponse, OAuthError> {
    let db = services.db.clone();
    db.run(move |conn| {
        let app = services.clients.require(conn, client.as_ref())?;
        if !app.is_confidential() {
            return Err(OAuthError::unauthorized_client(
                "A public client may not use the client_credentials grant.",
            ));
        }
        ensure_grant_allowed(&app, GRANT_TYPE)?;
        let scope = resolve_scope(&services, &app, request.scope.as_deref())?;
        let access = services
            .tokens
            .access(&app, None, &scope, services.clock.now());
        tokens::insert_grant(conn, &access.row, None).map_err(client_vanished)?;
        Ok(services.tokens.response(&scope, access.token, None))
    })
    .await
}
