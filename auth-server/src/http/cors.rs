//! CORS for the endpoints a single-page app calls from the browser: the token, revocation and
//! userinfo endpoints, the JWKS and the two discovery documents. Only the origins of registered
//! redirect URIs may call them: a browser app is a client with a redirect URI, and its pages live
//! on that URI's origin. The introspection endpoint (a resource server's, with a confidential
//! client's secret that must never be in a browser) and the authorization endpoint and its pages
//! (top-level navigations, never `fetch`) get no CORS at all.
//!
//! No credentials mode: these endpoints authenticate with what the request carries (a bearer
//! token, client credentials in the header or the body), never with the auth server's session
//! cookie, so `Access-Control-Allow-Credentials` is never sent and a browser attaches no cookie to
//! these cross-origin calls.
//!
//! The allowed origins live in memory, read at start and again every
//! `CORS_ORIGINS_CACHE_SECONDS`, so a request costs a hash lookup and a newly registered client
//! works on every replica within that interval. `actix-cors` does the rest (preflight, `Vary`).

use std::collections::HashSet;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use actix_cors::Cors;
use actix_web::http::{header, Method};
use auth_store::applications;
use store::{Database, DbConnection, StoreError};

use crate::redirect_uris;

/// How long a browser may reuse an answer to a preflight request.
const PREFLIGHT_MAX_AGE_SECONDS: usize = 600;

/// The origins allowed cross-origin calls, shared by every worker and replaced whole on each
/// refresh.
#[derive(Debug, Default)]
pub struct AllowedOrigins(RwLock<Arc<HashSet<String>>>);

impl AllowedOrigins {
    /// Reads the origins once.
    pub async fn load(db: &Database) -> Result<Self, StoreError> {
        let origins = db.read(read_origins).await?;
        Ok(Self(RwLock::new(Arc::new(origins))))
    }

    /// Whether `origin`, an `Origin` header as sent, is one of them. Browsers send origins
    /// serialized as the registered ones are (lower-case scheme and host, no default port); an
    /// opaque origin (`null`) is never one.
    pub fn allows(&self, origin: &[u8]) -> bool {
        let Ok(origin) = std::str::from_utf8(origin) else {
            return false;
        };
        self.current().contains(origin)
    }

    fn current(&self) -> Arc<HashSet<String>> {
        match self.0.read() {
            Ok(set) => set.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    fn replace(&self, origins: HashSet<String>) {
        match self.0.write() {
            Ok(mut set) => *set = Arc::new(origins),
            Err(poisoned) => *poisoned.into_inner() = Arc::new(origins),
        }
    }
}

/// The origins of every registered redirect URI.
fn read_origins(conn: &mut DbConnection) -> Result<HashSet<String>, StoreError> {
    Ok(applications::all_redirect_uris(conn)?
        .iter()
        .flat_map(|uris| uris.split_whitespace())
        .filter_map(redirect_uris::origin)
        .collect())
}

/// Reads the origins again every `every` on the current runtime. A failed read keeps the origins
/// read before.
pub fn spawn_refresh(origins: Arc<AllowedOrigins>, db: Database, every: Duration) {
    actix_web::rt::spawn(async move {
        let mut ticker = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
        loop {
            ticker.tick().await;
            match db.read(read_origins).await {
                Ok(fresh) => origins.replace(fresh),
                Err(e) => log::warn!("the CORS origins could not be read again: {e}"),
            }
        }
    });
}

/// The CORS policy of one resource that serves `methods`.
pub fn policy(origins: &Arc<AllowedOrigins>, methods: &[Method]) -> Cors {
    let origins = origins.clone();
    Cors::default()
        .allowed_origin_fn(move |origin, _| origins.allows(origin.as_bytes()))
        .allowed_methods(methods.iter().cloned())
        // Swagger UI (the resource server's /docs/) adds X-Requested-With to its token request.
        .allowed_headers([
            header::AUTHORIZATION,
            header::CONTENT_TYPE,
            header::HeaderName::from_static("x-requested-with"),
        ])
        // A userinfo refusal says why in its challenge.
        .expose_headers([header::WWW_AUTHENTICATE])
        .max_age(PREFLIGHT_MAX_AGE_SECONDS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_exact_serialized_origins_are_allowed() {
        let origins = AllowedOrigins::default();
        origins.replace(
            [
                "https://spa.example.com/cb",
                "http://127.0.0.1:8001/docs/oauth2-redirect",
            ]
            .into_iter()
            .filter_map(redirect_uris::origin)
            .collect(),
        );
        assert!(origins.allows(b"https://spa.example.com"));
        assert!(origins.allows(b"http://127.0.0.1:8001"));
        for other in [
            &b"https://spa.example.com/"[..],
            b"http://spa.example.com",
            b"https://spa.example.com:8443",
            b"https://evil.spa.example.com",
            b"https://spa.example.com.evil.com",
            b"http://127.0.0.1:8002",
            b"null",
            b"",
            b"\xff\xfe",
        ] {
            assert!(!origins.allows(other), "{}", String::from_utf8_lossy(other));
        }
    }
}
