//! Checking a client's credentials (RFC 6749 §2.3) against the applications table, with a short
//! cache of successful checks. How the credentials were found in the request is the HTTP layer's
//! business (`http::client_auth`).

use std::sync::Arc;
use std::time::Duration;

use auth_store::applications;
use auth_store::models::Application;
use moka::sync::Cache;
use oauth_core::secrets::{sha256_hex, verify_secret};
use sha2::{Digest, Sha256};
use store::DbConnection;

use crate::error::OAuthError;

/// Credentials as the client presented them, not yet checked.
#[derive(Clone)]
pub struct PresentedClient {
    pub client_id: String,
    pub secret: Option<String>,
    pub via_basic: bool,
}

impl std::fmt::Debug for PresentedClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PresentedClient")
            .field("client_id", &self.client_id)
            .field("via_basic", &self.via_basic)
            .finish_non_exhaustive()
    }
}

/// Checks client credentials. Successful checks are remembered for a few seconds so that a busy
/// client (a resource server introspecting every request) costs one hash, not a database round
/// trip; a rotated or deleted client therefore keeps working until its entry expires.
pub struct ClientAuthenticator {
    /// Keyed by SHA-256 of the credentials; the application is shared, not copied, on a hit.
    cache: Option<Cache<[u8; 32], Arc<Application>>>,
}

impl ClientAuthenticator {
    pub fn new(ttl_seconds: u64) -> Self {
        let cache = (ttl_seconds > 0).then(|| {
            Cache::builder()
                .max_capacity(10_000)
                .time_to_live(Duration::from_secs(ttl_seconds))
                .build()
        });
        Self { cache }
    }

    /// Both steps: credentials are required.
    pub fn require(
        &self,
        conn: &mut DbConnection,
        presented: Option<&PresentedClient>,
    ) -> Result<Arc<Application>, OAuthError> {
        match presented {
            Some(p) => self.authenticate(conn, p),
            None => Err(OAuthError::invalid_client(
                "Client authentication failed: no credentials.",
            )),
        }
    }

    pub fn authenticate(
        &self,
        conn: &mut DbConnection,
        presented: &PresentedClient,
    ) -> Result<Arc<Application>, OAuthError> {
        let Some(cache) = &self.cache else {
            return check_credentials(conn, presented).map(Arc::new);
        };
        let key = cache_key(presented);
        if let Some(app) = cache.get(&key) {
            return Ok(app);
        }
        let app = Arc::new(check_credentials(conn, presented)?);
        cache.insert(key, app.clone());
        Ok(app)
    }

    /// The client, when these exact credentials passed a check within the cache's lifetime:
    /// what `authenticate` would answer without a database connection. None: ask `authenticate`.
    pub fn cached(&self, presented: Option<&PresentedClient>) -> Option<Arc<Application>> {
        self.cache.as_ref()?.get(&cache_key(presented?))
    }
}

/// The key commits to the secret, so only the exact credentials that passed hit the cache. The
/// NUL cannot occur in either part (form_decode and Form refuse it).
fn cache_key(presented: &PresentedClient) -> [u8; 32] {
    Sha256::new()
        .chain_update(presented.client_id.as_bytes())
        .chain_update([0])
        .chain_update(presented.secret.as_deref().unwrap_or("").as_bytes())
        .finalize()
        .into()
}

/// A confidential client must prove its secret (compared in constant time); a public client is
/// identified by its id alone.
fn check_credentials(
    conn: &mut DbConnection,
    presented: &PresentedClient,
) -> Result<Application, OAuthError> {
    let failed = || {
        OAuthError::invalid_client("Client authentication failed.")
            .with_basic_challenge(presented.via_basic)
    };
    let Some(app) = applications::find_by_client_id(conn, &presented.client_id)? else {
        // Spend the same hashing work as a real check so that timing does not tell which ids exist.
        let _ = verify_secret(
            presented.secret.as_deref().unwrap_or(""),
            &sha256_hex("unknown client"),
        );
        return Err(failed());
    };
    if app.is_confidential() {
        let (Some(secret), Some(hash)) = (
            presented.secret.as_deref(),
            app.client_secret_hash.as_deref(),
        ) else {
            return Err(failed());
        };
        if !verify_secret(secret, hash) {
            return Err(failed());
        }
    }
    Ok(app)
}
