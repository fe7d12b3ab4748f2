//! The auth server's tables and their queries: applications (clients), access and refresh
//! tokens, login failures, the OpenID Connect signing keys. Only the auth server depends on this
//! crate: the resource server learns about tokens by introspection over HTTP, and the compiler
//! holds it to that, since no table declared here can be named from a crate that does not depend
//! on this one.

pub mod applications;
pub mod authorization_codes;
pub mod browser_sessions;
pub mod consents;
pub mod login_failures;
pub mod models;
pub mod schema;
pub mod signing_keys;
pub mod token_hash;
pub mod tokens;

pub use token_hash::TokenHash;
