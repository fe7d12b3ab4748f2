//! How tokens are made (the strategy, as fosite calls it): opaque random strings, of which the
//! store keeps only a SHA-256 hash, with the configured lifetimes. Where they are kept is the
//! auth-store's business; this module never touches the database.

use auth_store::models::{Application, NewAccessToken, NewRefreshToken};
use oauth_core::scopes::ScopeSet;
use oauth_core::secrets::{new_token, sha256_hex};
use oauth_core::wire::TokenResponse;

#[derive(Debug, Clone, Copy)]
pub struct TokenStrategy {
    pub access_seconds: i64,
    pub refresh_seconds: i64,
}

/// A token for the client and the row (its hash only) for the database.
pub struct Minted<Row> {
    pub token: String,
    pub row: Row,
}

/// The grant a refresh token belongs to: its family id, and the scope granted at first, which
/// every rotation keeps.
pub struct Family<'a> {
    pub id: &'a str,
    pub scope: &'a str,
}

impl TokenStrategy {
    /// What the store looks a presented token up by.
    pub fn lookup_key(token: &str) -> String {
        sha256_hex(token)
    }

    pub fn new_family_id() -> String {
        uuid::Uuid::new_v4().to_string()
    }

    pub fn access(
        &self,
        app: &Application,
        user_id: Option<i32>,
        scope: &ScopeSet,
        issued_at: i64,
    ) -> Minted<NewAccessToken> {
        let token = new_token();
        let row = NewAccessToken {
            token_hash: sha256_hex(&token),
            application_id: app.id,
            user_id,
            scope: scope.to_string(),
            issued_at,
            expires_at: issued_at + self.access_seconds,
        };
        Minted { token, row }
    }

    /// A refresh token in `family`; the row is linked to its access token when it is stored.
    pub fn refresh(
        &self,
        app: &Application,
        user_id: i32,
        family: Family<'_>,
        issued_at: i64,
    ) -> Minted<NewRefreshToken> {
        let token = new_token();
        let row = NewRefreshToken {
            token_hash: sha256_hex(&token),
            access_token_id: None,
            application_id: app.id,
            user_id,
            family_id: family.id.to_string(),
            scope: family.scope.to_string(),
            issued_at,
            expires_at: issued_at + self.refresh_seconds,
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
        }
    }
}
