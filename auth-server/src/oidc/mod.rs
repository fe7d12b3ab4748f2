//! The OpenID Connect provider: signing keys (`keys`: made, read back, published as JWKs;
//! `key_ring`: which key signs and which are published, kept in memory), the claims a user's
//! scopes allow (`claims`) and ID tokens (`id_token`). The endpoints are in `crate::http`
//! (jwks, metadata, userinfo) and `crate::flows::userinfo`.

pub mod claims;
pub mod id_token;
pub mod key_ring;
pub mod keys;

/// The scope that makes a request an OpenID Connect one.
pub const OPENID_SCOPE: &str = "openid";
pub const PROFILE_SCOPE: &str = "profile";
pub const EMAIL_SCOPE: &str = "email";
