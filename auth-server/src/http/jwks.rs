//! GET /o/jwks/: the published signing keys (RFC 7517), from memory. Clients may cache the set
//! for `SIGNING_KEY_CACHE_SECONDS`: a new key signs only after that (see `oidc::key_ring`).

use actix_web::http::header::{self, ContentType};
use actix_web::{web, HttpResponse};

use crate::services::Services;

pub async fn get_jwks(services: web::Data<Services>) -> HttpResponse {
    let ring = services
        .keys
        .current(&services.db, services.clock.now())
        .await;
    HttpResponse::Ok()
        .content_type(ContentType::json())
        .insert_header((header::CACHE_CONTROL, services.keys.cache_control()))
        .body(ring.jwks().clone())
}
