//! RFC 7662 introspection. Callers: confidential clients allowed to introspect, or bearers of a
//! token with the `introspection` scope. Only access tokens are ever active here: a refresh token
//! is not a credential for APIs.

use std::sync::Arc;

use auth_store::tokens;
use oauth_core::scopes::ScopeSet;
use oauth_core::wire::IntrospectionResponse;
use store::DbConnection;

use crate::clients::PresentedClient;
use crate::error::{OAuthError, OAuthErrorCode};
use crate::services::Services;
use crate::token_strategy::TokenStrategy;

pub const INTROSPECTION_SCOPE: &str = "introspection";

/// Who asks.
pub enum Caller {
    /// Client credentials, or none at all.
    Client(Option<PresentedClient>),
    /// A bearer access token.
    Bearer(String),
}

/// What the introspection endpoint answers.
pub enum Answer {
    /// The caller may not introspect: 401.
    Refused,
    Token(IntrospectionResponse),
}

/// `token` is checked only once the caller may introspect, so that an unauthorised caller learns
/// nothing, not even about its request.
pub async fn introspect(
    services: Arc<Services>,
    caller: Caller,
    token: Option<String>,
) -> Result<Answer, OAuthError> {
    let db = services.db.clone();
    db.read(move |conn| {
        if !caller_may_introspect(&services, conn, &caller)? {
            return Ok(Answer::Refused);
        }
        let token = token
            .ok_or_else(|| OAuthError::invalid_request("Missing required parameter: token."))?;
        let answer = describe(&services, conn, &token)?;
        services.metrics.introspected(answer.active);
        Ok(Answer::Token(answer))
    })
    .await
}

fn caller_may_introspect(
    services: &Services,
    conn: &mut DbConnection,
    caller: &Caller,
) -> Result<bool, OAuthError> {
    match caller {
        Caller::Client(None) => Ok(false),
        Caller::Client(Some(presented)) => match services.clients.authenticate(conn, presented) {
            Ok(app) => Ok(app.is_confidential() && app.can_introspect),
            Err(e) if e.code == OAuthErrorCode::InvalidClient => Ok(false),
            Err(e) => Err(e),
        },
        Caller::Bearer(token) => {
            let key = TokenStrategy::lookup_key(token);
            Ok(
                tokens::find_active_access(conn, &key, services.clock.now())?.is_some_and(|a| {
                    ScopeSet::parse_lenient(&a.token.scope).contains(INTROSPECTION_SCOPE)
                }),
            )
        }
    }
}

fn describe(
    services: &Services,
    conn: &mut DbConnection,
    token: &str,
) -> Result<IntrospectionResponse, OAuthError> {
    let key = TokenStrategy::lookup_key(token);
    let Some(active) = tokens::find_active_access(conn, &key, services.clock.now())? else {
        return Ok(IntrospectionResponse::inactive());
    };
    Ok(IntrospectionResponse {
        active: true,
        scope: Some(active.token.scope),
        client_id: Some(active.client_id),
        username: active.user.as_ref().map(|(_, name)| name.clone()),
        sub: active.user.as_ref().map(|(id, _)| id.to_string()),
        token_type: Some("Bearer".into()),
        exp: Some(active.token.expires_at),
        iat: Some(active.token.issued_at),
    })
}
