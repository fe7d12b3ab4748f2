//! POST /o/token/.

use actix_web::{web, HttpRequest, HttpResponse};

use super::client_auth::presented_client;
use super::form::read_form;
use super::no_store;
use crate::error::OAuthError;
use crate::flows::{issue_tokens, TokenRequest};
use crate::services::Services;

pub async fn issue_token(
    services: web::Data<Services>,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, OAuthError> {
    let form = read_form(&req, payload).await?;
    let client = presented_client(&req, &form)?;
    let request = TokenRequest::parse(&form)?;
    let peer = req.peer_addr().map(|a| a.ip());
    let response = issue_tokens(services.into_inner(), client, request, peer).await?;
    Ok(no_store(&mut HttpResponse::Ok()).json(response))
}
