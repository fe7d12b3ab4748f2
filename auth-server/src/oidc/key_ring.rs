//! The signing keys in memory: which key signs, which are published, and the JWKS document,
//! reloaded from the database once the copy is older than `SIGNING_KEY_CACHE_SECONDS`.
//!
//! Publish before use: a key added by `rotate-signing-key` on any replica signs only once every
//! replica has reloaded (one cache period) and every JWKS a client cached before it existed has
//! expired (the JWKS's max-age is the same period), so no relying party meets a `kid` it cannot
//! find. Until then the previous key signs. A key a newer one replaced stays published until the
//! last ID token it can have signed has expired. With no caching (0) a key signs at once.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use actix_web::http::header::HeaderValue;
use actix_web::web::Bytes;
use auth_store::models::SigningKey;
use auth_store::signing_keys;
use serde_json::json;
use store::{Database, DbConnection, StoreError};

use super::keys::{self, ParsedKey};

/// When keys sign and how long they stay published, from two settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyPolicy {
    /// `SIGNING_KEY_CACHE_SECONDS`: how old a replica's copy of the keys, and a client's cached
    /// JWKS, may be.
    pub cache_seconds: u64,
    /// `ID_TOKEN_EXPIRE_SECONDS`.
    pub id_token_seconds: i64,
}

impl KeyPolicy {
    /// Seconds from a key's creation to its first signature: one cache period for every replica
    /// to reload, one for every cached JWKS to expire, and one because `created_at` is in whole
    /// seconds. None with caching off, when every use reads the database.
    pub fn publish_delay(&self) -> i64 {
        match self.cache_seconds {
            0 => 0,
            c => 2 * c as i64 + 1,
        }
    }

    /// Whether a key created at `created_at` may sign at `now`.
    fn may_sign(&self, created_at: i64, now: i64) -> bool {
        created_at + self.publish_delay() <= now
    }

    /// The first second at which a key retired at `retired_at` no longer needs publishing: it
    /// signed until its successor could (the publish delay), and its last ID token lived
    /// `id_token_seconds` more.
    pub fn unpublished_from(&self, retired_at: i64) -> i64 {
        retired_at + self.publish_delay() + self.id_token_seconds
    }

    /// Keys retired at or before this are no longer published and have nothing left to verify
    /// (the clean-up deletes them).
    pub fn unpublished_if_retired_by(&self, now: i64) -> i64 {
        now - self.publish_delay() - self.id_token_seconds
    }

    /// The JWKS's `Cache-Control`: clients may keep it as long as a replica keeps its copy.
    pub fn jwks_cache_control(&self) -> HeaderValue {
        match self.cache_seconds {
            0 => HeaderValue::from_static("no-cache"),
            c => HeaderValue::from_str(&format!("public, max-age={c}"))
                .unwrap_or(HeaderValue::from_static("no-cache")),
        }
    }
}

/// A published key.
#[derive(Debug)]
pub struct RingKey {
    pub key: Arc<ParsedKey>,
    pub created_at: i64,
}

/// The keys as loaded at one moment.
#[derive(Debug)]
pub struct Ring {
    policy: KeyPolicy,
    /// In the order they were added.
    keys: Vec<RingKey>,
    /// `{"keys": [...]}`, serialized once per load.
    jwks: Bytes,
    loaded: Instant,
}

impl Ring {
    fn new(policy: KeyPolicy, keys: Vec<RingKey>) -> Self {
        let jwks = json!({ "keys": keys.iter().map(|k| &k.key.jwk).collect::<Vec<_>>() });
        Self {
            policy,
            keys,
            jwks: Bytes::from(jwks.to_string()),
            loaded: Instant::now(),
        }
    }

    /// The key that signs at `now`: the newest that every replica and client has had time to
    /// learn, or, when none has yet (a new deployment, or two rotations within the delay), the
    /// oldest, which is the likeliest to be known everywhere.
    pub fn signing_key(&self, now: i64) -> Option<&RingKey> {
        self.keys
            .iter()
            .rev()
            .find(|k| self.policy.may_sign(k.created_at, now))
            .or_else(|| self.keys.first())
    }

    /// The JWKS document.
    pub fn jwks(&self) -> &Bytes {
        &self.jwks
    }

    /// The published key named `kid`.
    pub fn key(&self, kid: &str) -> Option<&RingKey> {
        self.keys.iter().find(|k| k.key.kid == kid)
    }

    pub fn kids(&self) -> impl Iterator<Item = &str> {
        self.keys.iter().map(|k| k.key.kid.as_str())
    }

    fn is_stale(&self) -> bool {
        self.loaded.elapsed() >= Duration::from_secs(self.policy.cache_seconds)
    }
}

/// The keys in memory, shared by every worker. Cheap to clone.
#[derive(Clone)]
pub struct KeyRing {
    inner: Arc<Inner>,
}

struct Inner {
    policy: KeyPolicy,
    /// The JWKS's `Cache-Control`, made once.
    cache_control: HeaderValue,
    ring: RwLock<Arc<Ring>>,
    /// Keys read back before, by kid: a reload parses only new keys.
    parsed: Mutex<HashMap<String, Arc<ParsedKey>>>,
    /// One reload at a time; the others then find the fresh copy.
    reloading: Mutex<()>,
    /// After a request handler failed to reload, when the next one may try: while the database
    /// is away the JWKS is served from memory at once, not after a wait for a connection.
    retry_after: Mutex<Option<Instant>>,
}

/// How long request handlers serve the copy in memory after a failed reload.
const RETRY_AFTER_FAILURE: Duration = Duration::from_secs(1);

impl KeyRing {
    /// Loads the keys; fails if none can sign.
    pub fn load(conn: &mut DbConnection, policy: KeyPolicy, now: i64) -> anyhow::Result<Self> {
        let ring = Self {
            inner: Arc::new(Inner {
                policy,
                cache_control: policy.jwks_cache_control(),
                ring: RwLock::new(Arc::new(Ring::new(policy, Vec::new()))),
                parsed: Mutex::new(HashMap::new()),
                reloading: Mutex::new(()),
                retry_after: Mutex::new(None),
            }),
        };
        let loaded = ring.reload(conn, now)?;
        if loaded.signing_key(now).is_none() {
            anyhow::bail!("there is no usable signing key in the database");
        }
        Ok(ring)
    }

    pub fn policy(&self) -> KeyPolicy {
        self.inner.policy
    }

    /// The JWKS's `Cache-Control` (see [`KeyPolicy::jwks_cache_control`]).
    pub fn cache_control(&self) -> HeaderValue {
        self.inner.cache_control.clone()
    }

    /// The copy in memory, whatever its age.
    pub fn snapshot(&self) -> Arc<Ring> {
        match self.inner.ring.read() {
            Ok(ring) => ring.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// The keys no older than the cache period, reloaded on `conn` first if need be. For callers
    /// that already hold a connection (minting an ID token).
    pub fn fresh(&self, conn: &mut DbConnection, now: i64) -> Result<Arc<Ring>, StoreError> {
        let ring = self.snapshot();
        if !ring.is_stale() {
            return Ok(ring);
        }
        let _one_at_a_time = self
            .inner
            .reloading
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let ring = self.snapshot();
        // With caching off every caller reloads; otherwise the reload that held the lock before
        // this one may have done the work.
        if self.inner.policy.cache_seconds > 0 && !ring.is_stale() {
            return Ok(ring);
        }
        self.reload(conn, now)
    }

    /// The same for a request handler, which takes a connection only when the copy is stale. If
    /// the database cannot be read, the copy in memory is used, and for a second no other request
    /// tries again.
    pub async fn current(&self, db: &Database, now: i64) -> Arc<Ring> {
        let ring = self.snapshot();
        if !ring.is_stale() || self.backing_off() {
            return ring;
        }
        let this = self.clone();
        match db.read(move |conn| this.fresh(conn, now)).await {
            Ok(fresh) => fresh,
            Err(e) => {
                log::warn!("the signing keys could not be reloaded; using the copy in memory: {e}");
                *self.retry_after() = Some(Instant::now() + RETRY_AFTER_FAILURE);
                ring
            }
        }
    }

    fn backing_off(&self) -> bool {
        self.retry_after()
            .is_some_and(|until| Instant::now() < until)
    }

    fn retry_after(&self) -> std::sync::MutexGuard<'_, Option<Instant>> {
        self.inner
            .retry_after
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Reads every key, keeps the published ones, and makes them the copy in memory. A key that
    /// does not read back is left out (and logged), not fatal: the others still work.
    fn reload(&self, conn: &mut DbConnection, now: i64) -> Result<Arc<Ring>, StoreError> {
        let rows = signing_keys::list(conn)?;
        let policy = self.inner.policy;
        let mut parsed = self
            .inner
            .parsed
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let published: Vec<&SigningKey> = rows
            .iter()
            .filter(|row| {
                row.retired_at
                    .is_none_or(|r| now < policy.unpublished_from(r))
            })
            .collect();
        parsed.retain(|kid, _| published.iter().any(|row| &row.kid == kid));
        let mut keys = Vec::with_capacity(published.len());
        for row in published {
            let key = match parsed.get(&row.kid) {
                Some(key) => key.clone(),
                None => match keys::parse(row) {
                    Ok(key) => {
                        let key = Arc::new(key);
                        parsed.insert(row.kid.clone(), key.clone());
                        key
                    }
                    Err(e) => {
                        log::error!("{e}; it is left out of the key ring");
                        continue;
                    }
                },
            };
            keys.push(RingKey {
                key,
                created_at: row.created_at,
            });
        }
        let ring = Arc::new(Ring::new(policy, keys));
        match self.inner.ring.write() {
            Ok(mut slot) => *slot = ring.clone(),
            Err(poisoned) => *poisoned.into_inner() = ring.clone(),
        }
        Ok(ring)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(cache_seconds: u64) -> KeyPolicy {
        KeyPolicy {
            cache_seconds,
            id_token_seconds: 3600,
        }
    }

    fn ring(policy: KeyPolicy, created: &[i64]) -> Ring {
        let keys = created
            .iter()
            .map(|&created_at| RingKey {
                key: Arc::new(
                    keys::parse(&keys::tests::stored(
                        keys::generate().unwrap().row(created_at),
                    ))
                    .unwrap(),
                ),
                created_at,
            })
            .collect();
        Ring::new(policy, keys)
    }

    fn signer(ring: &Ring, now: i64) -> usize {
        let kid = &ring.signing_key(now).unwrap().key.kid;
        ring.keys.iter().position(|k| &k.key.kid == kid).unwrap()
    }

    #[test]
    fn a_new_key_signs_after_two_cache_periods_and_a_second() {
        let p = policy(60);
        assert_eq!(p.publish_delay(), 121);
        let r = ring(p, &[1_000, 10_000]);
        assert_eq!(signer(&r, 10_000), 0);
        assert_eq!(signer(&r, 10_120), 0);
        assert_eq!(signer(&r, 10_121), 1);
    }

    #[test]
    fn without_caching_the_newest_key_signs_at_once() {
        let r = ring(policy(0), &[1_000, 10_000]);
        assert_eq!(signer(&r, 10_000), 1);
        assert_eq!(r.policy.jwks_cache_control(), "no-cache");
    }

    #[test]
    fn when_no_key_is_old_enough_the_oldest_signs() {
        let r = ring(policy(60), &[1_000, 1_010]);
        assert_eq!(signer(&r, 1_000), 0);
        assert_eq!(signer(&r, 1_130), 0);
        assert_eq!(signer(&r, 1_131), 1);
    }

    #[test]
    fn a_retired_key_is_published_until_its_last_token_expires() {
        let p = policy(60);
        // Retired at 10 000: it may sign until 10 121, and that token lives an hour.
        assert_eq!(p.unpublished_from(10_000), 10_000 + 121 + 3600);
        assert_eq!(p.unpublished_if_retired_by(10_000 + 121 + 3600), 10_000);
        assert_eq!(p.jwks_cache_control(), "public, max-age=60");
    }

    #[test]
    fn the_jwks_lists_every_key_of_the_ring() {
        let r = ring(policy(0), &[1, 2]);
        let doc: serde_json::Value = serde_json::from_slice(r.jwks()).unwrap();
        let keys = doc["keys"].as_array().unwrap();
        assert_eq!(keys.len(), 2);
        for (jwk, kid) in keys.iter().zip(r.kids()) {
            assert_eq!(jwk["kid"], kid);
            assert_eq!(jwk["kty"], "RSA");
            assert_eq!(jwk["use"], "sig");
            assert_eq!(jwk["alg"], "RS256");
            assert_eq!(jwk["e"], "AQAB");
            let members: Vec<&str> = jwk
                .as_object()
                .unwrap()
                .keys()
                .map(|k| k.as_str())
                .collect();
            assert_eq!(members.len(), 6, "{members:?}");
        }
    }
}
