//! How tokens are made (the strategy, as fosite calls it): opaque random strings, of which the
//! store keeps only a SHA-256 hash, with the configured lifetimes. Where they are kept is the
//! auth-store's business; this module never touches the database.

use auth_store::models::{Application, NewAccessToken, NewRefreshToken, TokenFamily};
use auth_store::TokenHash;
use oauth_core::scopes::ScopeSet;
use oauth_core::secrets::new_token;
use oauth_core::wire::TokenResponse;

#[derive(Debug, Clone, Copy)]
pub struct TokenStrategy {
    pub access_seconds: i64,
    pub refresh_seconds: i64,
    /// A grant's absolute lifetime: no refresh token of it outlives this, however often rotated.
    pub family_seconds: i64,
    /// An authorization code's lifetime.
    pub code_seconds: i64,
}

/// A token for the client and the row (its hash only) for the database.
pub struct Minted<Row> {
    pub token: String,
    pub row: Row,
}

/// The user a token is issued to, as of the check that let it be issued: a token carries the
/// credentials version it was issued under.
#[derive(Debug, Clone, Copy)]
pub struct Owner {
    pub id: i32,
    pub credentials_version: i32,
}

impl TokenStrategy {
    /// What the store looks a presented token up by.
    pub fn lookup_key(token: &str) -> TokenHash {
        TokenHash::of(token)
    }

    /// A new grant's family, which ends `family_seconds` from now whatever happens.
    pub fn new_family(&self, app: &Application, owner: Owner, created_at: i64) -> TokenFamily {
        TokenFamily {
            id: uuid::Uuid::new_v4().to_string(),
            application_id: app.id,
            user_id: owner.id,
            credentials_version: owner.credentials_version,
            current_hash: None,
            created_at,
            expires_at: created_at + self.family_seconds,
            revoked_at: None,
        }
    }

    pub fn access(
        &self,
        app: &Application,
        owner: Option<Owner>,
        scope: &ScopeSet,
        issued_at: i64,
    ) -> Minted<NewAccessToken> {
        let token = new_token();
        let row = NewAccessToken {
            token_hash: TokenHash::of(&token),
            application_id: app.id,
            user_id: owner.map(|o| o.id),
            scope: scope.to_string(),
            issued_at,
            expires_at: issued_at + self.access_seconds,
            credentials_version: owner.map_or(0, |o| o.credentials_version),
        };
        Minted { token, row }
    }

    /// A refresh token of `family` for `scope`, the scope granted at first, which every rotation
    /// keeps. It expires with the family at the latest. The row is linked to its access token
    /// when it is stored.
    pub fn refresh(
        &self,
        family: &TokenFamily,
        scope: &str,
        issued_at: i64,
    ) -> Minted<NewRefreshToken> {
        let token = new_token();
        let row = NewRefreshToken {
            token_hash: TokenHash::of(&token),
            access_token_hash: None,
            application_id: family.application_id,
            user_id: family.user_id,
            family_id: family.id.clone(),
            scope: scope.to_string(),
            issued_at,
            expires_at: (issued_at + self.refresh_seconds).min(family.expires_at),
        };
        Minted { token, row }
    }

    /// RFC 6749 §5.1.
    pub fn response(
        &self,
        scope: &ScopeSet,
        access_token: String,
        refresh_token: Option<String>,
    ) -> TokenResponse {
        TokenResponse {
            access_token,
            expires_in: self.access_seconds,
            token_type: "Bearer".into(),
            scope: scope.to_string(),
            refresh_token,
            id_token: None,
        }
    }
}
