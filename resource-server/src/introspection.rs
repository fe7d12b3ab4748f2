//! Asking the auth server who a bearer token belongs to (RFC 7662), with a short in-process cache.
//!
//! The cache is keyed by a SHA-256 of the token, so the token itself is never kept; an answer is
//! reused for at most the configured TTL and never past the token's `exp`, which bounds how long a
//! revoked token keeps working. Failures are not cached: the next request asks again, so the
//! service recovers by itself once the auth server is back.

use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use http_service::health::Check;
use moka::future::Cache;
use moka::Expiry;
use oauth_core::scopes::ScopeSet;
use oauth_core::secrets::{ExposeSecret, SecretString};
use oauth_core::wire::IntrospectionResponse;
use prometheus_client::registry::Registry;
use reqwest::header::{HeaderValue, AUTHORIZATION};
use sha2::{Digest, Sha256};

use crate::configuration::IntrospectionSettings;
use crate::metrics::{CacheSize, Outcome, ResourceMetrics};
use crate::name_lookup::RememberingResolver;

/// More than any introspection answer needs; a larger body is treated as garbage.
const MAX_ANSWER_BYTES: usize = 64 * 1024;

/// What the auth server said about a token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenStatus {
    Active(ActiveToken),
    Inactive,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActiveToken {
    pub scopes: ScopeSet,
    /// The resource owner; `None` for a client_credentials token, which acts for no user.
    pub user_id: Option<i32>,
    pub username: Option<String>,
    pub client_id: Option<String>,
    /// Expiry, Unix seconds.
    pub exp: Option<i64>,
}

impl TokenStatus {
    /// Reads the auth server's answer body: RFC 7662 JSON, or garbage the caller answers 503 for.
    pub fn parse_answer(body: &[u8], now: i64) -> Result<Self, IntrospectionError> {
        let answer: IntrospectionResponse = serde_json::from_slice(body).map_err(|e| {
            IntrospectionError::bad_answer(format!("the answer is not introspection JSON: {e}"))
        })?;
        Ok(Self::from_answer(answer, now))
    }

    pub fn from_answer(answer: IntrospectionResponse, now: i64) -> Self {
        if !answer.active || answer.exp.is_some_and(|exp| exp <= now) {
            return Self::Inactive;
        }
        Self::Active(ActiveToken {
            scopes: ScopeSet::parse_lenient(answer.scope.as_deref().unwrap_or("")),
            user_id: answer.sub.as_deref().and_then(|s| s.parse().ok()),
            username: answer.username,
            client_id: answer.client_id,
            exp: answer.exp,
        })
    }

    /// A cached answer may have been active when fetched and have expired since.
    pub fn as_of(&self, now: i64) -> Self {
        match self {
            Self::Active(t) if t.exp.is_some_and(|exp| exp <= now) => Self::Inactive,
            other => other.clone(),
        }
    }
}

/// The auth server could not give a usable answer: the caller answers 503.
#[derive(Debug, Clone, thiserror::Error)]
#[error("introspection failed: {cause}")]
pub struct IntrospectionError {
    pub outcome: Outcome,
    pub cause: String,
}

impl IntrospectionError {
    fn bad_answer(cause: String) -> Self {
        Self {
            outcome: Outcome::BadAnswer,
            cause,
        }
    }

    /// reqwest's errors carry the URL but never the form body, so the token cannot leak through
    /// them.
    fn from_reqwest(e: &reqwest::Error) -> Self {
        let (outcome, kind) = if e.is_timeout() {
            (Outcome::Timeout, "timed out")
        } else if e.is_connect() {
            (Outcome::Refused, "cannot connect")
        } else {
            (Outcome::Failed, "request failed")
        };
        Self {
            outcome,
            cause: format!("{kind}: {e}"),
        }
    }
}

type TokenKey = [u8; 32];

#[derive(Clone)]
pub struct Introspector {
    http: reqwest::Client,
    url: reqwest::Url,
    client_id: String,
    /// The HTTP Basic credentials, built once.
    authorization: HeaderValue,
    cache: Option<Cache<TokenKey, Arc<TokenStatus>>>,
    metrics: ResourceMetrics,
}

impl std::fmt::Debug for Introspector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Introspector")
            .field("url", &self.url.as_str())
            .field("client_id", &self.client_id)
            .field("cached", &self.cache.is_some())
            .finish()
    }
}

/// Each entry lives for the TTL, or until the token expires if that comes first.
struct UntilTtlOrExpiry {
    ttl: Duration,
}

impl Expiry<TokenKey, Arc<TokenStatus>> for UntilTtlOrExpiry {
    fn expire_after_create(
        &self,
        _key: &TokenKey,
        value: &Arc<TokenStatus>,
        _created_at: Instant,
    ) -> Option<Duration> {
        let ttl = match value.as_ref() {
            TokenStatus::Active(ActiveToken { exp: Some(exp), .. }) => {
                let left = u64::try_from(exp - oauth_core::time::now()).unwrap_or(0);
                self.ttl.min(Duration::from_secs(left))
            }
            _ => self.ttl,
        };
        Some(ttl)
    }
}

/// The longest a new connection to the auth server may take, name lookup included, before it is
/// given up and tried once more. On a network a connection takes a millisecond; what takes
/// seconds is a lost DNS datagram, which glibc waits 5 s for before asking again (Podman 4's
/// aardvark-dns drops queries while it reloads for every container that starts; see
/// docs/operations.md). A second attempt sends a new query at once.
const CONNECT_TIMEOUT: Duration = Duration::from_millis(1000);

/// Builds the HTTP client every outgoing call shares: keep-alive connections are pooled, and
/// both connecting and the whole exchange are bounded so a hanging auth server cannot hold a
/// request for long. An idle connection is dropped before the auth server's own keep-alive
/// (actix-web's default, 5 s) would close it, so that a request rarely goes out on a connection
/// the server is closing; `ask_auth_server` covers the rest. Names are looked up through the
/// one `resolver` every worker shares.
pub fn http_client(
    timeout: Duration,
    resolver: &Arc<RememberingResolver>,
) -> anyhow::Result<reqwest::Client> {
    Ok(reqwest::Client::builder()
        .dns_resolver(resolver.clone())
        .connect_timeout(CONNECT_TIMEOUT.min(timeout))
        .timeout(timeout)
        .pool_idle_timeout(Duration::from_secs(4))
        .tcp_keepalive(Duration::from_secs(30))
        .redirect(reqwest::redirect::Policy::none())
        .build()?)
}

/// RFC 6749 §2.3.1: the client id and secret are form-urlencoded, then sent as HTTP Basic (the
/// auth server decodes them the same way, so a secret holding `+`, `%` or `:` survives). Marked
/// sensitive so that no debug output of a request shows it.
fn basic_authorization(client_id: &str, secret: &SecretString) -> HeaderValue {
    let encode = |s: &str| form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
    let credentials = STANDARD.encode(format!(
        "{}:{}",
        encode(client_id),
        encode(secret.expose_secret())
    ));
    let mut value = HeaderValue::try_from(format!("Basic {credentials}"))
        .expect("base64 is always a valid header value");
    value.set_sensitive(true);
    value
}

impl Introspector {
    pub fn new(settings: &IntrospectionSettings, http: reqwest::Client) -> Self {
        let cache = (!settings.cache_ttl.is_zero()).then(|| {
            Cache::builder()
                .max_capacity(settings.cache_capacity)
                .expire_after(UntilTtlOrExpiry {
                    ttl: settings.cache_ttl,
                })
                .build()
        });
        Self {
            http,
            url: settings.url.clone(),
            client_id: settings.client_id.clone(),
            authorization: basic_authorization(&settings.client_id, &settings.client_secret),
            cache,
            metrics: ResourceMetrics::default(),
        }
    }

    /// Counts into `metrics`, whose cache-size gauge reads this introspector's cache.
    pub fn with_metrics(mut self, metrics: ResourceMetrics, registry: &mut Registry) -> Self {
        if let Some(cache) = self.cache.clone() {
            registry.register_collector(Box::new(CacheSize(move || cache.entry_count())));
        }
        self.metrics = metrics;
        self
    }

    pub fn metrics(&self) -> &ResourceMetrics {
        &self.metrics
    }

    /// The same introspector (its cache is shared) sending through `http`. Each actix worker
    /// gets its own client: a pooled connection's task runs on the worker that opened it, so a
    /// client shared by all workers hands most requests to another worker's thread and back
    /// (docs/benchmarks.md has the measurement).
    pub fn with_client(&self, http: reqwest::Client) -> Self {
        Self {
            http,
            ..self.clone()
        }
    }

    /// The token's status, from the cache when a fresh answer is there. Concurrent calls for
    /// the same uncached token share one request to the auth server. `request_id` goes with the
    /// request, so that the auth server's log line can be found from ours.
    pub async fn introspect(
        &self,
        token: &str,
        request_id: Option<&str>,
    ) -> Result<TokenStatus, IntrospectionError> {
        let Some(cache) = &self.cache else {
            return self.ask_auth_server(token, request_id).await;
        };
        let key: TokenKey = Sha256::digest(token.as_bytes()).into();
        let mut asked = false;
        let status = cache
            .try_get_with(key, async {
                asked = true;
                self.ask_auth_server(token, request_id).await.map(Arc::new)
            })
            .await
            .map_err(|e| e.as_ref().clone());
        self.metrics.looked_up(!asked);
        Ok(status?.as_of(oauth_core::time::now()))
    }

    async fn ask_auth_server(
        &self,
        token: &str,
        request_id: Option<&str>,
    ) -> Result<TokenStatus, IntrospectionError> {
        let started = Instant::now();
        let status = self.exchange(token, request_id).await;
        let outcome = match &status {
            Ok(_) => Outcome::Ok,
            Err(e) => e.outcome,
        };
        self.metrics.called(outcome, started.elapsed());
        status
    }

    async fn exchange(
        &self,
        token: &str,
        request_id: Option<&str>,
    ) -> Result<TokenStatus, IntrospectionError> {
        let response = match self.send(token, request_id).await {
            // A kept-alive connection the auth server closed as the request went out on it (its
            // keep-alive ran out, it restarted), or a new connection that could not be made in
            // CONNECT_TIMEOUT (a lost name lookup): introspection changes nothing, so it is
            // asked once more, on a new connection. A request that timed out after it was sent
            // is not: the auth server is slow, and asking again would add to its load.
            Err(e) if e.is_connect() || (e.is_request() && !e.is_timeout()) => {
                let cause = IntrospectionError::from_reqwest(&e).cause;
                // A connection that could not be made is worth an operator's eye (a slow name
                // server, an auth server going away); a closed keep-alive is routine.
                if e.is_connect() {
                    log::warn!("introspection asked again on a new connection: {cause}");
                } else {
                    log::debug!("introspection asked again: {cause}");
                }
                self.send(token, request_id).await
            }
            sent => sent,
        }
        .map_err(|e| IntrospectionError::from_reqwest(&e))?;
        // A proxy in front of the auth servers that lost its upstream mid-request (a replica
        // stopping in a rolling restart) answers 502-504 and, for a POST, does not try another
        // replica itself. Introspection changes nothing, so it is asked once more.
        let response = match response.status() {
            reqwest::StatusCode::BAD_GATEWAY
            | reqwest::StatusCode::SERVICE_UNAVAILABLE
            | reqwest::StatusCode::GATEWAY_TIMEOUT => {
                log::debug!("introspection asked again after {}", response.status());
                self.send(token, request_id)
                    .await
                    .map_err(|e| IntrospectionError::from_reqwest(&e))?
            }
            _ => response,
        };
        let status = response.status();
        if status != reqwest::StatusCode::OK {
            return Err(IntrospectionError::bad_answer(format!(
                "the auth server answered {status}"
            )));
        }
        let body = read_limited(response).await?;
        TokenStatus::parse_answer(&body, oauth_core::time::now())
    }

    async fn send(
        &self,
        token: &str,
        request_id: Option<&str>,
    ) -> reqwest::Result<reqwest::Response> {
        let mut request = self
            .http
            .post(self.url.clone())
            .header(AUTHORIZATION, self.authorization.clone());
        if let Some(id) = request_id {
            request = request.header(http_service::request_id::HEADER.as_str(), id);
        }
        request
            .form(&[("token", token), ("token_type_hint", "access_token")])
            .send()
            .await
    }
}

async fn read_limited(mut response: reqwest::Response) -> Result<Vec<u8>, IntrospectionError> {
    let mut body = Vec::new();
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|e| IntrospectionError::from_reqwest(&e))?
    {
        if body.len() + chunk.len() > MAX_ANSWER_BYTES {
            return Err(IntrospectionError::bad_answer(
                "the answer is too large".into(),
            ));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// `/readyz`'s check of the auth server: its `/healthz` answers, asked with the introspection
/// client's timeouts.
pub fn auth_server_check(http: reqwest::Client, url: String) -> Check {
    Check::new("auth_server", move || {
        let request = http.get(&url).send();
        async move {
            match request.await {
                Ok(response) => response.status().is_success(),
                Err(e) => {
                    log::warn!("the auth server's health check failed: {e}");
                    false
                }
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(json: &str) -> IntrospectionResponse {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn an_active_answer_carries_scopes_and_the_user() {
        let status = TokenStatus::from_answer(
            answer(r#"{"active":true,"scope":"read write","sub":"7","username":"tue","exp":2000}"#),
            1000,
        );
        let TokenStatus::Active(t) = status else {
            panic!("inactive")
        };
        assert_eq!(t.user_id, Some(7));
        assert!(t.scopes.contains_all(&["read", "write"]));
    }

    #[test]
    fn a_token_without_a_numeric_subject_acts_for_no_user() {
        let TokenStatus::Active(t) = TokenStatus::from_answer(
            answer(r#"{"active":true,"scope":"read","client_id":"abc"}"#),
            1000,
        ) else {
            panic!("inactive")
        };
        assert_eq!(t.user_id, None);
    }

    #[test]
    fn an_answer_past_its_exp_is_inactive() {
        let status =
            TokenStatus::from_answer(answer(r#"{"active":true,"scope":"read","exp":999}"#), 1000);
        assert_eq!(status, TokenStatus::Inactive);
        let fresh =
            TokenStatus::from_answer(answer(r#"{"active":true,"scope":"read","exp":1001}"#), 1000);
        assert_eq!(fresh.as_of(1001), TokenStatus::Inactive);
    }

    #[test]
    fn a_cache_entry_never_outlives_the_token() {
        let expiry = UntilTtlOrExpiry {
            ttl: Duration::from_secs(300),
        };
        let now = oauth_core::time::now();
        let soon = Arc::new(TokenStatus::Active(ActiveToken {
            scopes: ScopeSet::default(),
            user_id: None,
            username: None,
            client_id: None,
            exp: Some(now + 10),
        }));
        let ttl = expiry
            .expire_after_create(&[0; 32], &soon, Instant::now())
            .unwrap();
        assert!(ttl <= Duration::from_secs(10));
        let gone = Arc::new(TokenStatus::Active(ActiveToken {
            scopes: ScopeSet::default(),
            user_id: None,
            username: None,
            client_id: None,
            exp: Some(now - 10),
        }));
        assert_eq!(
            expiry.expire_after_create(&[0; 32], &gone, Instant::now()),
            Some(Duration::ZERO)
        );
        assert_eq!(
            expiry.expire_after_create(&[0; 32], &Arc::new(TokenStatus::Inactive), Instant::now()),
            Some(Duration::from_secs(300))
        );
    }
}
