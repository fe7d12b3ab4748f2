//! RFC 8414 authorization server metadata.

use actix_web::{web, HttpResponse};
use serde_json::json;
use shared::db::models::GRANT_TYPES;

use crate::startup::AppState;

pub async fn server_metadata(state: web::Data<AppState>) -> HttpResponse {
    let issuer = &state.issuer;
    let scopes: Vec<&str> = state.settings.scopes.iter().collect();
    HttpResponse::Ok().json(json!({
        "issuer": issuer,
        "token_endpoint": format!("{issuer}/o/token/"),
        "introspection_endpoint": format!("{issuer}/o/introspect/"),
        "revocation_endpoint": format!("{issuer}/o/revoke_token/"),
        "scopes_supported": scopes,
        "response_types_supported": [],
        "grant_types_supported": GRANT_TYPES,
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
        "introspection_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "bearer"],
        "revocation_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
    }))
}
