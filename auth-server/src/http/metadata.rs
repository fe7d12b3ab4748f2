//! RFC 8414 authorization server metadata, built once at start.

use actix_web::{web, HttpResponse};
use serde_json::{json, Value};

use crate::flows::GRANT_TYPES;
use crate::services::Services;

/// The document, served as is.
pub struct ServerMetadata(pub Value);

impl ServerMetadata {
    pub fn new(issuer: &str, services: &Services) -> Self {
        let scopes: Vec<&str> = services.scopes.iter().collect();
        Self(json!({
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
}

pub async fn server_metadata(metadata: web::Data<ServerMetadata>) -> HttpResponse {
    HttpResponse::Ok().json(&metadata.0)
}
