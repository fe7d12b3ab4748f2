//! The OAuth2 authorization server and OpenID Connect provider: the authorization endpoint with
//! its pages, token, introspection, revocation, userinfo and key endpoints, the discovery
//! documents, and the admin CLI. Layers, top down:
//! `http` (parse, call, respond) → `flows` (one module per grant, plus introspection, revocation
//! and userinfo; no actix types) → `token_strategy` (how tokens are made) and `oidc` (signing
//! keys, claims, ID tokens) → `auth_store` and `store` (where they are kept).

pub mod clean_up;
pub mod cli;
pub mod clients;
pub mod configuration;
pub mod error;
pub mod flows;
pub mod http;
pub mod login;
pub mod metrics;
pub mod oidc;
pub mod pkce;
pub mod redirect_uris;
pub mod services;
pub mod sessions;
pub mod startup;
pub mod throttle;
pub mod token_strategy;
