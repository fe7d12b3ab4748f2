//! The OAuth2 authorization server: token, introspection and revocation endpoints, and the admin
//! CLI. Layers, top down: `http` (parse, call, respond) → `flows` (one module per grant, plus
//! introspection and revocation; no actix types) → `token_strategy` (how tokens are made) →
//! `auth_store` and `store` (where they are kept).

pub mod clean_up;
pub mod cli;
pub mod clients;
pub mod configuration;
pub mod error;
pub mod flows;
pub mod http;
pub mod login;
pub mod pkce;
pub mod redirect_uris;
pub mod services;
pub mod sessions;
pub mod startup;
pub mod throttle;
pub mod token_strategy;
