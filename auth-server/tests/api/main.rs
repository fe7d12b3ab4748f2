//! The auth server over real HTTP against a real database, on SQLite and on PostgreSQL.

mod authorization_code;
mod authorize_hostile;
mod browser;
mod chromium;
mod clean_up;
mod cors;
mod faults;
mod helpers;
mod hostile;
mod introspection;
mod jwks;
mod metadata;
mod observability;
mod relying_party;
mod revocation;
mod sessions;
mod signing_keys;
mod throttling;
mod token;
mod token_errors;
mod token_refresh;
mod userinfo;
