//! The auth server's rows as the database holds them: hashes of tokens and secrets, never the
//! values themselves.

use diesel::prelude::*;
use oauth_core::scopes::ScopeSet;

use crate::schema::*;
use crate::TokenHash;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientType {
    Confidential,
    Public,
}

impl ClientType {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Confidential => "confidential",
            Self::Public => "public",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "confidential" => Some(Self::Confidential),
            "public" => Some(Self::Public),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Queryable, Selectable, Identifiable)]
#[diesel(table_name = applications)]
pub struct Application {
    pub id: i32,
    pub client_id: String,
    pub client_secret_hash: Option<String>,
    pub name: String,
    pub client_type: String,
    pub grant_types: String,
    pub allowed_scopes: String,
    pub default_scopes: String,
    pub can_introspect: bool,
    pub owner_id: i32,
    pub created_at: i64,
    /// Space-separated: a registered URI is absolute and holds no space.
    pub redirect_uris: String,
    pub post_logout_redirect_uris: String,
    /// A first-party client: its users are not asked to approve it.
    pub skip_consent: bool,
}

impl Application {
    pub fn redirect_uris(&self) -> impl Iterator<Item = &str> {
        self.redirect_uris.split_whitespace()
    }

    pub fn post_logout_redirect_uris(&self) -> impl Iterator<Item = &str> {
        self.post_logout_redirect_uris.split_whitespace()
    }

    pub fn client_type(&self) -> ClientType {
        ClientType::parse(&self.client_type).unwrap_or(ClientType::Public)
    }

    pub fn is_confidential(&self) -> bool {
        self.client_type() == ClientType::Confidential
    }

    pub fn allows_grant(&self, grant_type: &str) -> bool {
        self.grant_types.split_whitespace().any(|g| g == grant_type)
    }

    pub fn allowed_scopes(&self) -> ScopeSet {
        ScopeSet::parse_lenient(&self.allowed_scopes)
    }

    pub fn default_scopes(&self) -> ScopeSet {
        ScopeSet::parse_lenient(&self.default_scopes)
    }
}

#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = applications)]
pub struct NewApplication {
    pub client_id: String,
    pub client_secret_hash: Option<String>,
    pub name: String,
    pub client_type: String,
    pub grant_types: String,
    pub allowed_scopes: String,
    pub default_scopes: String,
    pub can_introspect: bool,
    pub owner_id: i32,
    pub created_at: i64,
    pub redirect_uris: String,
    pub post_logout_redirect_uris: String,
    pub skip_consent: bool,
}

/// An access token, keyed by its hash: nothing else names it, so it needs no id of its own.
#[derive(Debug, Clone, Queryable, Selectable, Identifiable)]
#[diesel(table_name = access_tokens, primary_key(token_hash))]
pub struct AccessToken {
    pub issued_at: i64,
    pub expires_at: i64,
    pub revoked_at: Option<i64>,
    pub application_id: i32,
    pub user_id: Option<i32>,
    /// The owner's credentials version when it was issued (0 without an owner).
    pub credentials_version: i32,
    pub token_hash: TokenHash,
    pub scope: String,
}

impl AccessToken {
    pub fn is_active(&self, now: i64) -> bool {
        self.revoked_at.is_none() && self.expires_at > now
    }
}

#[derive(Debug, Clone, Insertable)]
// Every column bound, NULL included: diesel then keeps the INSERT prepared (with the default,
// a None could become DEFAULT, so the statement is built and planned again each time).
#[diesel(table_name = access_tokens, treat_none_as_default_value = false)]
pub struct NewAccessToken {
    pub issued_at: i64,
    pub expires_at: i64,
    pub application_id: i32,
    pub user_id: Option<i32>,
    pub credentials_version: i32,
    pub token_hash: TokenHash,
    pub scope: String,
}

#[derive(Debug, Clone, Queryable, Selectable, Identifiable)]
#[diesel(table_name = refresh_tokens)]
pub struct RefreshToken {
    pub id: i64,
    pub issued_at: i64,
    pub expires_at: i64,
    pub revoked_at: Option<i64>,
    pub application_id: i32,
    pub user_id: i32,
    pub token_hash: TokenHash,
    /// The access token issued with it. Not a foreign key: the access token may have been
    /// cleaned up since, and then this names nothing.
    pub access_token_hash: Option<TokenHash>,
    pub family_id: String,
    pub scope: String,
}

#[derive(Debug, Clone, Insertable)]
// Every column bound, NULL included: diesel then keeps the INSERT prepared (with the default,
// a None could become DEFAULT, so the statement is built and planned again each time).
#[diesel(table_name = refresh_tokens, treat_none_as_default_value = false)]
pub struct NewRefreshToken {
    pub issued_at: i64,
    pub expires_at: i64,
    pub application_id: i32,
    pub user_id: i32,
    pub token_hash: TokenHash,
    pub access_token_hash: Option<TokenHash>,
    pub family_id: String,
    pub scope: String,
}

/// One grant's refresh tokens: what rotation and revocation serialize on, which of them may be
/// used, and what keeps the used ones for reuse detection until the grant could no longer be
/// used.
#[derive(Debug, Clone, Queryable, Selectable, Identifiable, Insertable)]
#[diesel(table_name = token_families)]
pub struct TokenFamily {
    pub id: String,
    pub application_id: i32,
    pub user_id: i32,
    /// The owner's credentials version at the grant; a later password change or deactivation
    /// ends the family.
    pub credentials_version: i32,
    /// The hash of the one refresh token of the family that may be used; rotation moves it to
    /// the new token, so every other token of the family is a used one. Set when the family is
    /// stored with its first token.
    pub current_hash: Option<TokenHash>,
    pub created_at: i64,
    /// Absolute: rotation never extends it.
    pub expires_at: i64,
    pub revoked_at: Option<i64>,
}

/// A signed-in browser, by the hash of its cookie's session id.
#[derive(Debug, Clone, Queryable, Selectable, Identifiable, Insertable)]
#[diesel(table_name = browser_sessions, primary_key(id_hash))]
pub struct BrowserSession {
    pub id_hash: String,
    pub user_id: i32,
    /// The user's credentials version at sign-in: a password change ends the session.
    pub credentials_version: i32,
    /// When the user last entered their password (OpenID Connect's `auth_time`).
    pub auth_time: i64,
    pub created_at: i64,
    pub expires_at: i64,
}

/// An authorization code, by hash, and everything it is bound to.
#[derive(Debug, Clone, Queryable, Selectable, Identifiable, Insertable)]
#[diesel(table_name = authorization_codes, primary_key(code_hash), treat_none_as_default_value = false)]
pub struct AuthorizationCode {
    pub code_hash: TokenHash,
    pub application_id: i32,
    pub user_id: i32,
    pub credentials_version: i32,
    /// None when the authorize request omitted it (the token request must then omit it too).
    pub redirect_uri: Option<String>,
    /// BASE64URL(SHA-256(code_verifier)), RFC 7636 §4.2.
    pub code_challenge: String,
    pub scope: String,
    pub nonce: Option<String>,
    pub auth_time: i64,
    pub issued_at: i64,
    pub expires_at: i64,
    pub used_at: Option<i64>,
    /// What the exchange issued, revoked if the code is presented again.
    pub access_token_hash: Option<TokenHash>,
    pub family_id: Option<String>,
}

/// An OpenID Connect signing key. Its `Debug` leaves the private key out.
#[derive(Clone, Queryable, Selectable)]
#[diesel(table_name = signing_keys)]
pub struct SigningKey {
    /// The order keys were added in.
    pub id: i64,
    /// The key's RFC 7638 thumbprint, the JWT header's `kid`.
    pub kid: String,
    /// PKCS#8 PEM, unencrypted.
    pub private_key_pem: String,
    pub created_at: i64,
    /// When a newer key was added.
    pub retired_at: Option<i64>,
}

/// A signing key to store. Its `Debug` leaves the private key out.
#[derive(Clone, Insertable)]
#[diesel(table_name = signing_keys)]
pub struct NewSigningKey {
    pub kid: String,
    pub private_key_pem: String,
    pub created_at: i64,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKey")
            .field("id", &self.id)
            .field("kid", &self.kid)
            .field("created_at", &self.created_at)
            .field("retired_at", &self.retired_at)
            .finish_non_exhaustive()
    }
}

impl std::fmt::Debug for NewSigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewSigningKey")
            .field("kid", &self.kid)
            .field("created_at", &self.created_at)
            .finish_non_exhaustive()
    }
}
