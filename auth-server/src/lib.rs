//! The OAuth2 authorization server: token, introspection and revocation endpoints, and the admin CLI.

pub mod cli;
pub mod client_auth;
pub mod configuration;
pub mod form;
pub mod grants;
pub mod routes;
pub mod startup;
pub mod throttle;
