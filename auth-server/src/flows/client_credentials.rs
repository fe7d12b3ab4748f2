//! The client_credentials grant (RFC 6749 §4.4): a confidential client acting for itself. No
//! refresh token is issued.

use std::sync::Arc;

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
    // A client that authenticated moments ago needs no connection: the token's insert is then
    // the request's only database work, and it goes in a batch with others.
    let app = match services.clients.cached(client.as_ref()) {
        Some(app) => app,
        None => {
            let checking = services.clone();
            services
                .db
                .run(move |conn| checking.clients.require(conn, client.as_ref()))
                .await?
        }
    };
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
    services
        .writes
        .access
        .write(access.row)
        .await
        .map_err(client_vanished)?;
    Ok(services.tokens.response(&scope, access.token, None))
}
