//! The discovery documents, built once at start from one list of endpoints: RFC 8414
//! authorization server metadata and OpenID Connect Discovery 1.0 provider metadata. The OpenID
//! document is the RFC 8414 one plus the members only OpenID Connect defines, so the two always
//! name the same endpoints.

use actix_web::http::header::ContentType;
use actix_web::web::Bytes;
use actix_web::{web, HttpResponse};
use serde_json::{json, Value};

use crate::flows::GRANT_TYPES;
use crate::oidc::claims::CLAIMS_SUPPORTED;
use crate::oidc::keys::ALGORITHM;
use crate::services::Services;

/// Both documents, serialized.
pub struct Metadata {
    pub oauth: Bytes,
    pub openid: Bytes,
}

impl Metadata {
    pub fn new(issuer: &str, services: &Services) -> Self {
        let oauth = oauth_metadata(issuer, services);
        let openid = openid_configuration(oauth.clone());
        Self {
            oauth: Bytes::from(oauth.to_string()),
            openid: Bytes::from(openid.to_string()),
        }
    }
}

/// RFC 8414 §2, every member that applies.
pub fn oauth_metadata(issuer: &str, services: &Services) -> Value {
    let scopes: Vec<&str> = services.scopes.iter().collect();
    json!({
        "issuer": issuer,
        "authorization_endpoint": format!("{issuer}/o/authorize/"),
        "token_endpoint": format!("{issuer}/o/token/"),
        "userinfo_endpoint": format!("{issuer}/o/userinfo/"),
        "jwks_uri": format!("{issuer}/o/jwks/"),
        "introspection_endpoint": format!("{issuer}/o/introspect/"),
        "revocation_endpoint": format!("{issuer}/o/revoke_token/"),
        "end_session_endpoint": format!("{issuer}/o/logout/"),
        "scopes_supported": scopes,
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": GRANT_TYPES,
        "code_challenge_methods_supported": ["S256"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
        "introspection_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "bearer"],
        "revocation_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
        "authorization_response_iss_parameter_supported": true,
    })
}

/// OpenID Connect Discovery 1.0 §3: the RFC 8414 document and what only OpenID Connect has.
fn openid_configuration(mut doc: Value) -> Value {
    if let Value::Object(members) = &mut doc {
        members.insert("subject_types_supported".into(), json!(["public"]));
        members.insert(
            "id_token_signing_alg_values_supported".into(),
            json!([ALGORITHM]),
        );
        members.insert("claims_supported".into(), json!(CLAIMS_SUPPORTED));
    }
    doc
}

pub async fn server_metadata(metadata: web::Data<Metadata>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type(ContentType::json())
        .body(metadata.oauth.clone())
}

pub async fn openid_metadata(metadata: web::Data<Metadata>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type(ContentType::json())
        .body(metadata.openid.clone())
}
