//! The HTTP layer: each handler parses the request once, calls its flow and writes the answer.

pub mod authorize;
pub mod client_auth;
pub mod cookies;
pub mod cors;
pub mod form;
pub mod introspect;
pub mod jwks;
pub mod logout;
pub mod metadata;
pub mod pages;
pub mod revoke;
pub mod token;
pub mod userinfo;

use std::sync::Arc;

use actix_web::http::{header, Method};
use actix_web::{web, HttpResponseBuilder};
use http_service::health;

use cors::AllowedOrigins;

/// Every route of the auth server; the server and the tests mount this same function. The
/// endpoints a browser app calls allow cross-origin calls from `origins` (see `cors`).
pub fn configure(cfg: &mut web::ServiceConfig, origins: &Arc<AllowedOrigins>) {
    let cors = |methods: &[Method]| cors::policy(origins, methods);
    cfg.service(
        web::resource("/o/token/")
            .post(token::issue_token)
            .wrap(cors(&[Method::POST])),
    )
    .service(
        web::resource("/o/authorize/")
            .get(authorize::authorize_get)
            .post(authorize::authorize_post),
    )
    .service(
        web::resource("/o/logout/")
            .get(logout::logout_get)
            .post(logout::logout_post),
    )
    .service(web::resource("/o/static/style.css").get(pages::stylesheet))
    .service(web::resource("/o/introspect/").post(introspect::introspect_token))
    .service(
        web::resource("/o/revoke_token/")
            .post(revoke::revoke_token)
            .wrap(cors(&[Method::POST])),
    )
    .service(
        web::resource("/o/jwks/")
            .get(jwks::get_jwks)
            .wrap(cors(&[Method::GET])),
    )
    .service(
        web::resource("/o/userinfo/")
            .get(userinfo::get_userinfo)
            .post(userinfo::get_userinfo)
            .wrap(cors(&[Method::GET, Method::POST])),
    )
    .service(
        web::resource("/.well-known/oauth-authorization-server")
            .get(metadata::server_metadata)
            .wrap(cors(&[Method::GET])),
    )
    .service(
        web::resource("/.well-known/openid-configuration")
            .get(metadata::openid_metadata)
            .wrap(cors(&[Method::GET])),
    )
    .service(web::resource("/healthz").get(health::healthz))
    .service(web::resource("/readyz").get(health::readyz));
}

/// `Cache-Control: no-store` and `Pragma: no-cache`, as RFC 6749 §5.1 asks of token responses.
pub fn no_store(builder: &mut HttpResponseBuilder) -> &mut HttpResponseBuilder {
    builder
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((header::PRAGMA, "no-cache"))
}
