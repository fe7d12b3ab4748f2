//! POST /o/introspect/ (RFC 7662). A caller that may not introspect gets 401 (§2.3), with the
//! challenge of the scheme it tried.

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use http_service::bearer::{bearer_credentials, Credentials, MalformedBearer};
use oauth_core::wire::OAuthErrorBody;

use super::client_auth::presented_client;
use super::form::read_form;
use super::no_store;
use crate::error::{OAuthError, OAuthErrorCode};
use crate::flows::introspection::{introspect, Answer, Caller};
use crate::services::Services;

fn unauthorized(bearer: bool) -> HttpResponse {
    let challenge = if bearer {
        r#"Bearer realm="oauth", error="invalid_token""#
    } else {
        r#"Basic realm="oauth""#
    };
    no_store(&mut HttpResponse::Unauthorized())
        .insert_header((header::WWW_AUTHENTICATE, challenge))
        .json(OAuthErrorBody {
            error: "invalid_client".into(),
            error_description: "The caller may not introspect tokens.".into(),
        })
}

pub async fn introspect_token(
    services: web::Data<Services>,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, OAuthError> {
    let form = read_form(&req, payload).await?;
    let caller = match bearer_credentials(req.headers()) {
        Ok(Credentials::Bearer(token)) => Caller::Bearer(token.to_string()),
        Err(MalformedBearer) => return Ok(unauthorized(true)),
        Ok(Credentials::None) => match presented_client(&req, &form) {
            Ok(presented) => Caller::Client(presented),
            Err(e) if e.code == OAuthErrorCode::InvalidClient => return Ok(unauthorized(false)),
            Err(e) => return Err(e),
        },
    };
    let bearer = matches!(caller, Caller::Bearer(_));
    let token = form.get("token").map(str::to_string);
    match introspect(services.into_inner(), caller, token).await? {
        Answer::Token(body) => Ok(no_store(&mut HttpResponse::Ok()).json(body)),
        Answer::Refused => Ok(unauthorized(bearer)),
    }
}
