//! GET and POST /o/userinfo/ (OpenID Connect Core §5.3). The access token comes in the
//! `Authorization: Bearer` header only, as at the resource server: a token in the query or the
//! form body (RFC 6750 §2.2–2.3) is not looked at, since every client we serve can set the header
//! and a second way in is one more place for a token to end up logged.

use actix_web::http::header;
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse, ResponseError};
use http_service::bearer::{bearer_credentials, Credentials};
use oauth_core::wire::OAuthErrorBody;

use super::no_store;
use crate::flows::userinfo::{userinfo, UserinfoError};
use crate::oidc::OPENID_SCOPE;
use crate::services::Services;

pub async fn get_userinfo(
    services: web::Data<Services>,
    req: HttpRequest,
) -> Result<HttpResponse, BearerError> {
    let token = match bearer_credentials(req.headers()) {
        Ok(Credentials::Bearer(token)) => token.to_string(),
        Ok(Credentials::None) => return Err(BearerError::NoToken),
        Err(_) => {
            return Err(BearerError::Flow(UserinfoError::InvalidToken(
                "The access token is malformed.",
            )))
        }
    };
    let claims = userinfo(services.into_inner(), token)
        .await
        .map_err(BearerError::Flow)?;
    Ok(no_store(&mut HttpResponse::Ok()).json(claims))
}

/// The answers of RFC 6750 §3 for a protected resource of the auth server.
#[derive(Debug)]
pub enum BearerError {
    /// No bearer token: a challenge without an error code (§3.1).
    NoToken,
    Flow(UserinfoError),
}

impl std::fmt::Display for BearerError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::NoToken => f.write_str("no access token"),
            Self::Flow(UserinfoError::InvalidToken(d)) => write!(f, "invalid_token: {d}"),
            Self::Flow(UserinfoError::InsufficientScope) => f.write_str("insufficient_scope"),
            Self::Flow(UserinfoError::Unavailable(e)) => e.fmt(f),
        }
    }
}

impl ResponseError for BearerError {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::NoToken | Self::Flow(UserinfoError::InvalidToken(_)) => StatusCode::UNAUTHORIZED,
            Self::Flow(UserinfoError::InsufficientScope) => StatusCode::FORBIDDEN,
            Self::Flow(UserinfoError::Unavailable(e)) => e.status_code(),
        }
    }

    fn error_response(&self) -> HttpResponse {
        let (challenge, error, description) = match self {
            Self::NoToken => {
                return no_store(&mut HttpResponse::Unauthorized())
                    .insert_header((header::WWW_AUTHENTICATE, r#"Bearer realm="oauth""#))
                    .finish()
            }
            Self::Flow(UserinfoError::Unavailable(e)) => return e.error_response(),
            Self::Flow(UserinfoError::InvalidToken(d)) => (
                r#"Bearer realm="oauth", error="invalid_token""#.to_string(),
                "invalid_token",
                *d,
            ),
            Self::Flow(UserinfoError::InsufficientScope) => (
                format!(
                    r#"Bearer realm="oauth", error="insufficient_scope", scope="{OPENID_SCOPE}""#
                ),
                "insufficient_scope",
                "The access token does not hold the openid scope.",
            ),
        };
        no_store(&mut HttpResponse::build(self.status_code()))
            .insert_header((header::WWW_AUTHENTICATE, challenge))
            .json(OAuthErrorBody {
                error: error.into(),
                error_description: description.into(),
            })
    }
}
