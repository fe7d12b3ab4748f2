//! The flows of the auth server, one module each, as fosite's handlers are: the grants of the
//! token endpoint, introspection, revocation and userinfo. A flow takes the [`Services`] and a typed request
//! and returns a typed answer; it knows nothing of HTTP, which `crate::http` turns into requests
//! and responses.
//!
//! Adding a grant: a module with its request type, its `parse` and its `issue`, one arm in
//! [`TokenRequest`], in its two `match`es below and in [`GRANT_TYPES`].

pub mod authorization_code;
pub mod authorize;
pub mod client_credentials;
pub mod introspection;
pub mod password;
pub mod refresh_token;
pub mod revocation;
pub mod userinfo;

use std::net::IpAddr;
use std::sync::Arc;

use auth_store::models::Application;
use oauth_core::scopes::ScopeSet;
use oauth_core::wire::TokenResponse;
use store::{DbConnection, StoreError};

use crate::clients::PresentedClient;
use crate::error::{OAuthError, OAuthErrorCode};
use crate::services::Services;

/// Request parameters by name, however they arrived (the HTTP layer's form implements it).
pub trait Params {
    /// The value, or None when absent or empty.
    fn get(&self, name: &str) -> Option<&str>;

    fn required(&self, name: &str) -> Result<&str, OAuthError> {
        self.get(name).ok_or_else(|| {
            OAuthError::invalid_request(format!("Missing required parameter: {name}."))
        })
    }
}

/// Every grant type the token endpoint serves, for the metadata and the CLI's checks.
pub const GRANT_TYPES: [&str; 4] = [
    authorization_code::GRANT_TYPE,
    password::GRANT_TYPE,
    refresh_token::GRANT_TYPE,
    client_credentials::GRANT_TYPE,
];

/// A token request, parsed once: `grant_type` decides the variant, each variant holds what its
/// grant needs.
#[derive(Debug)]
pub enum TokenRequest {
    AuthorizationCode(authorization_code::CodeRequest),
    Password(password::PasswordRequest),
    RefreshToken(refresh_token::RefreshRequest),
    ClientCredentials(client_credentials::ClientCredentialsRequest),
}

impl TokenRequest {
    pub fn parse(params: &impl Params) -> Result<Self, OAuthError> {
        Ok(match params.required("grant_type")? {
            authorization_code::GRANT_TYPE => {
                Self::AuthorizationCode(authorization_code::CodeRequest::parse(params)?)
            }
            password::GRANT_TYPE => Self::Password(password::PasswordRequest::parse(params)?),
            refresh_token::GRANT_TYPE => {
                Self::RefreshToken(refresh_token::RefreshRequest::parse(params)?)
            }
            client_credentials::GRANT_TYPE => Self::ClientCredentials(
                client_credentials::ClientCredentialsRequest::parse(params)?,
            ),
            _ => {
                return Err(OAuthError::new(
                    OAuthErrorCode::UnsupportedGrantType,
                    "The grant type is not supported.",
                ))
            }
        })
    }
}

/// The token endpoint: authenticates the client and runs the grant's flow. `peer`, the address the
/// request came from, is only for the audit log.
pub async fn issue_tokens(
    services: Arc<Services>,
    client: Option<PresentedClient>,
    request: TokenRequest,
    peer: Option<IpAddr>,
) -> Result<TokenResponse, OAuthError> {
    let metrics = services.metrics.clone();
    // The client authenticated if the grant succeeded: only then does its id become a label.
    let client_id = client.as_ref().map(|c| c.client_id.clone());
    let (grant, issued) = match request {
        TokenRequest::AuthorizationCode(r) => (
            authorization_code::GRANT_TYPE,
            authorization_code::issue(services, client, r, peer).await,
        ),
        TokenRequest::Password(r) => (
            password::GRANT_TYPE,
            password::issue(services, client, r, peer).await,
        ),
        TokenRequest::RefreshToken(r) => (
            refresh_token::GRANT_TYPE,
            refresh_token::issue(services, client, r, peer).await,
        ),
        TokenRequest::ClientCredentials(r) => (
            client_credentials::GRANT_TYPE,
            client_credentials::issue(services, client, r).await,
        ),
    };
    if let (Ok(_), Some(client_id)) = (&issued, client_id) {
        metrics.issued(grant, &client_id);
    }
    issued
}

/// The client, authenticated, and allowed to use `grant_type`.
fn authorize_client(
    services: &Services,
    conn: &mut DbConnection,
    client: Option<&PresentedClient>,
    grant_type: &str,
) -> Result<Arc<Application>, OAuthError> {
    let app = services.clients.require(conn, client)?;
    ensure_grant_allowed(&app, grant_type)?;
    Ok(app)
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
    services: &Services,
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
    let unknown = scopes.missing_from(&services.scopes);
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
    e.on_foreign_key_violation(|| OAuthError::invalid_client("Client authentication failed."))
}
