use actix_web::{web, HttpRequest, HttpResponse};
use shared::error::OAuthError;

use super::no_store;
use crate::client_auth::presented_client;
use crate::form::read_form;
use crate::grants::issue_tokens;
use crate::startup::AppState;

pub async fn issue_token(
    state: web::Data<AppState>,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, OAuthError> {
    let form = read_form(&req, payload).await?;
    let client = presented_client(&req, &form)?;
    let state = state.into_inner();
    let response = issue_tokens(state, client, form).await?;
    Ok(no_store(&mut HttpResponse::Ok()).json(response))
}
