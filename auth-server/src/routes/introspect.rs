//! RFC 7662 introspection. Callers: confidential clients allowed to introspect, or bearers of a
//! token with the `introspection` scope. Anyone else gets 401.

use actix_web::http::header::{self, Header};
use actix_web::{web, HttpRequest, HttpResponse};
use actix_web_httpauth::headers::authorization::{Authorization, Bearer};
use shared::db::{tokens, DbConnection};
use shared::error::{OAuthError, OAuthErrorCode};
use shared::scopes::ScopeSet;
use shared::secrets::sha256_hex;
use shared::time::now;
use shared::wire::IntrospectionResponse;

use super::no_store;
use crate::client_auth::{
    authorization_scheme, presented_client, ClientAuthenticator, PresentedClient,
};
use crate::form::{read_form, Form};
use crate::startup::AppState;

pub const INTROSPECTION_SCOPE: &str = "introspection";

enum Caller {
    Client(Option<PresentedClient>),
    Bearer(String),
}

/// 401 as RFC 7662 §2.3 asks, with the challenge of the scheme the caller tried.
fn unauthorized(bearer: bool) -> HttpResponse {
    let challenge = if bearer {
        r#"Bearer realm="oauth", error="invalid_token""#
    } else {
        r#"Basic realm="oauth""#
    };
    no_store(&mut HttpResponse::Unauthorized())
        .insert_header((header::WWW_AUTHENTICATE, challenge))
        .json(shared::wire::OAuthErrorBody {
            error: "invalid_client".into(),
            error_description: "The caller may not introspect tokens.".into(),
        })
}

fn caller_may_introspect(
    clients: &ClientAuthenticator,
    conn: &mut DbConnection,
    caller: &Caller,
) -> Result<bool, OAuthError> {
    match caller {
        Caller::Client(None) => Ok(false),
        Caller::Client(Some(presented)) => match clients.authenticate(conn, presented) {
            Ok(app) => Ok(app.is_confidential() && app.can_introspect),
            Err(e) if e.code == OAuthErrorCode::InvalidClient => Ok(false),
            Err(e) => Err(e),
        },
        Caller::Bearer(token) => Ok(tokens::find_active_access(conn, &sha256_hex(token), now())?
            .is_some_and(|a| {
                ScopeSet::parse_lenient(&a.token.scope).contains(INTROSPECTION_SCOPE)
            })),
    }
}

fn describe(conn: &mut DbConnection, token: &str) -> Result<IntrospectionResponse, OAuthError> {
    // Only access tokens are ever active here: a refresh token is not a credential for APIs.
    let Some(active) = tokens::find_active_access(conn, &sha256_hex(token), now())? else {
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

pub async fn introspect_token(
    state: web::Data<AppState>,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, OAuthError> {
    let form = read_form(&req, payload).await?;
    let caller = if authorization_scheme(&req).as_deref() == Some("bearer") {
        match Authorization::<Bearer>::parse(&req) {
            Ok(auth) => Caller::Bearer(auth.into_scheme().token().to_string()),
            Err(_) => return Ok(unauthorized(true)),
        }
    } else {
        match presented_client(&req, &form) {
            Ok(presented) => Caller::Client(presented),
            Err(e) if e.code == OAuthErrorCode::InvalidClient => return Ok(unauthorized(false)),
            Err(e) => return Err(e),
        }
    };
    let bearer = matches!(caller, Caller::Bearer(_));
    let state = state.into_inner();
    let db = state.db.clone();
    let answer = db
        .read(
            move |conn| -> Result<Option<IntrospectionResponse>, OAuthError> {
                if !caller_may_introspect(&state.clients, conn, &caller)? {
                    return Ok(None);
                }
                let token = Form::required(&form, "token")?;
                describe(conn, token).map(Some)
            },
        )
        .await?;
    match answer {
        Some(body) => Ok(no_store(&mut HttpResponse::Ok()).json(body)),
        None => Ok(unauthorized(bearer)),
    }
}
