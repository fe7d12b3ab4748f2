//! RFC 7009 revocation. 200 whether or not the token existed; a client's own tokens only.

use actix_web::{web, HttpRequest, HttpResponse};
use shared::db::models::Application;
use shared::db::{tokens, DbConnection};
use shared::error::OAuthError;
use shared::secrets::sha256_hex;
use shared::time::now;

use super::no_store;
use crate::client_auth::presented_client;
use crate::form::read_form;
use crate::startup::AppState;

fn revoke_access(
    conn: &mut DbConnection,
    app: &Application,
    hash: &str,
) -> Result<bool, OAuthError> {
    match tokens::find_access_by_hash(conn, hash)? {
        Some(token) if token.application_id == app.id => {
            tokens::revoke_access(conn, token.id, now())?;
            Ok(true)
        }
        Some(_) => Ok(true),
        None => Ok(false),
    }
}

/// Revoking a refresh token ends its grant: every token of its family (RFC 7009 §2.1).
fn revoke_refresh(
    conn: &mut DbConnection,
    app: &Application,
    hash: &str,
) -> Result<bool, OAuthError> {
    match tokens::find_refresh_by_hash(conn, hash)? {
        Some(token) if token.application_id == app.id => {
            tokens::revoke_family(conn, &token.family_id, now())?;
            Ok(true)
        }
        Some(_) => Ok(true),
        None => Ok(false),
    }
}

pub async fn revoke_token(
    state: web::Data<AppState>,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, OAuthError> {
    let form = read_form(&req, payload).await?;
    let client = presented_client(&req, &form)?;
    let state = state.into_inner();
    let db = state.db.clone();
    db.run(move |conn| -> Result<(), OAuthError> {
        let app = state.clients.require(conn, client.as_ref())?;
        let hash = sha256_hex(form.required("token")?);
        // The hint only orders the search (RFC 7009 §2.1); an unknown hint is ignored.
        if form.get("token_type_hint") == Some("refresh_token") {
            if !revoke_refresh(conn, &app, &hash)? {
                revoke_access(conn, &app, &hash)?;
            }
        } else if !revoke_access(conn, &app, &hash)? {
            revoke_refresh(conn, &app, &hash)?;
        }
        Ok(())
    })
    .await?;
    Ok(no_store(&mut HttpResponse::Ok()).finish())
}
