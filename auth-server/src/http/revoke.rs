//! POST /o/revoke_token/ (RFC 7009): 200 with an empty body whether or not the token existed.

use actix_web::{web, HttpRequest, HttpResponse};

use super::client_auth::presented_client;
use super::form::read_form;
use super::no_store;
use crate::error::OAuthError;
use crate::flows::revocation::{revoke, RevocationRequest};
use crate::services::Services;

pub async fn revoke_token(
    services: web::Data<Services>,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, OAuthError> {
    let form = read_form(&req, payload).await?;
    let client = presented_client(&req, &form)?;
    let request = RevocationRequest {
        token: form.get("token").map(str::to_string),
        hint: form.get("token_type_hint").map(str::to_string),
    };
    revoke(services.into_inner(), client, request).await?;
    Ok(no_store(&mut HttpResponse::Ok()).finish())
}
