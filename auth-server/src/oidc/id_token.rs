//! ID tokens (OpenID Connect Core §2): a JWT signed RS256 with the ring's signing key, whose
//! header names the key.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use jsonwebtoken::{Algorithm, Header, Validation};
use oauth_core::scopes::ScopeSet;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use store::models::User;
use store::DbConnection;

use super::claims::UserClaims;
use crate::error::OAuthError;
use crate::services::Services;

/// What an ID token is minted from: the token response it goes with.
pub struct IdTokenRequest<'a> {
    pub client_id: &'a str,
    pub user: &'a User,
    /// The scopes granted; they decide the user claims.
    pub scope: &'a ScopeSet,
    pub nonce: Option<&'a str>,
    /// When the user last entered their password.
    pub auth_time: i64,
    /// The access token issued with it, for `at_hash`.
    pub access_token: &'a str,
    pub issued_at: i64,
}

#[derive(Serialize)]
struct IdTokenClaims<'a> {
    iss: &'a str,
    aud: &'a str,
    exp: i64,
    iat: i64,
    auth_time: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    nonce: Option<&'a str>,
    at_hash: String,
    #[serde(flatten)]
    user: UserClaims,
}

/// Signs an ID token. Sync: called inside `services.db.run(|conn| ...)`; `conn` reloads the
/// signing keys when the copy in memory is older than `SIGNING_KEY_CACHE_SECONDS`.
pub fn mint(
    services: &Services,
    conn: &mut DbConnection,
    request: &IdTokenRequest,
) -> Result<String, OAuthError> {
    let ring = services.keys.fresh(conn, request.issued_at)?;
    let key = ring
        .signing_key(request.issued_at)
        .ok_or_else(|| OAuthError::server_error("no signing key can sign an ID token"))?;
    let claims = IdTokenClaims {
        iss: &services.issuer,
        aud: request.client_id,
        exp: request.issued_at + services.keys.policy().id_token_seconds,
        iat: request.issued_at,
        auth_time: request.auth_time,
        nonce: request.nonce,
        at_hash: at_hash(request.access_token),
        user: UserClaims::of(request.user, request.scope),
    };
    let mut header = Header::new(Algorithm::RS256);
    header.kid = Some(key.key.kid.clone());
    jsonwebtoken::encode(&header, &claims, &key.key.encoding)
        .map_err(|e| OAuthError::server_error(&format!("signing an ID token failed: {e}")))
}

/// What a valid `id_token_hint` says (OpenID Connect RP-Initiated Logout 1.0 §2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdTokenHint {
    /// The token's `aud`: the client it was issued to.
    pub client_id: String,
    /// The token's `sub`.
    pub user_id: i32,
}

/// No ID token this server signs comes near this; a longer hint is not worth verifying.
const MAX_HINT_LEN: usize = 8 * 1024;

/// Reads an ID token this server signed, as `/o/logout/` needs its `id_token_hint`: RS256 with a
/// key the JWKS publishes, this server's issuer, one audience. An expired token is accepted, as
/// RP-Initiated Logout asks; anything else (another signer, a retired key no longer published,
/// another algorithm, a tampered payload) is None.
pub async fn read_hint(services: &Services, token: &str) -> Option<IdTokenHint> {
    if token.len() > MAX_HINT_LEN {
        return None;
    }
    let ring = services
        .keys
        .current(&services.db, services.clock.now())
        .await;
    let kid = jsonwebtoken::decode_header(token).ok()?.kid?;
    let key = ring.key(&kid)?;
    let mut validation = Validation::new(Algorithm::RS256);
    validation.set_issuer(&[services.issuer.as_str()]);
    validation.set_required_spec_claims(&["iss", "sub", "aud"]);
    validation.validate_exp = false;
    // The audience is what the hint tells: checked by the caller against the client.
    validation.validate_aud = false;

    #[derive(Deserialize)]
    struct HintClaims {
        sub: String,
        aud: String,
    }
    let claims = jsonwebtoken::decode::<HintClaims>(token, &key.key.decoding, &validation)
        .ok()?
        .claims;
    Some(IdTokenHint {
        client_id: claims.aud,
        user_id: claims.sub.parse().ok()?,
    })
}

/// OpenID Connect Core §3.1.3.6: the left half of SHA-256 of the access token, base64url.
pub fn at_hash(access_token: &str) -> String {
    URL_SAFE_NO_PAD.encode(&Sha256::digest(access_token.as_bytes())[..16])
}

#[cfg(test)]
mod tests {
    use auth_store::signing_keys;
    use jsonwebtoken::{decode, decode_header, DecodingKey, Validation};
    use oauth_core::secrets::PasswordHasher;
    use serde_json::Value;
    use store::Database;
    use test_support::{migrated_pool, seed, TestDatabase};

    use super::*;
    use crate::clients::ClientAuthenticator;
    use crate::oidc::key_ring::{KeyPolicy, KeyRing};
    use crate::oidc::keys;
    use crate::services::{Clock, TokenWrites};
    use crate::throttle::LoginThrottle;
    use crate::token_strategy::TokenStrategy;

    const ISSUER: &str = "https://auth.example.com";

    fn services(db: &TestDatabase) -> (Services, User) {
        let pool = migrated_pool(db);
        let mut conn = pool.get().unwrap();
        signing_keys::insert_first(&mut conn, &keys::generate().unwrap().row(0)).unwrap();
        let user = seed::user("tue").email("tue@example.com").create(&mut conn);
        let policy = KeyPolicy {
            cache_seconds: 0,
            id_token_seconds: 300,
        };
        let keys = KeyRing::load(&mut conn, policy, 1_700_000_000).unwrap();
        drop(conn);
        let db = Database::new(pool);
        let services = Services {
            writes: TokenWrites::new(&db),
            db,
            clock: Clock::System,
            hasher: PasswordHasher::new(4).unwrap(),
            throttle: LoginThrottle {
                limit: 10,
                window_seconds: 900,
            },
            tokens: TokenStrategy {
                access_seconds: 3600,
                refresh_seconds: 3600,
                family_seconds: 3600,
                code_seconds: 60,
            },
            session_seconds: 3600,
            clients: ClientAuthenticator::new(0),
            scopes: ScopeSet::parse("openid profile email read").unwrap(),
            issuer: ISSUER.into(),
            keys,
            metrics: Default::default(),
        };
        (services, user)
    }

    /// Verifies `token` with the JWKS's key for its kid, as a relying party would.
    fn verify(services: &Services, token: &str, now: i64) -> Value {
        let header = decode_header(token).unwrap();
        assert_eq!(header.alg, Algorithm::RS256);
        let kid = header.kid.expect("a kid");
        let jwks: Value = serde_json::from_slice(services.keys.snapshot().jwks()).unwrap();
        let jwk = jwks["keys"]
            .as_array()
            .unwrap()
            .iter()
            .find(|k| k["kid"] == kid.as_str())
            .expect("the kid is in the JWKS");
        let key = DecodingKey::from_rsa_components(
            jwk["n"].as_str().unwrap(),
            jwk["e"].as_str().unwrap(),
        )
        .unwrap();
        let mut validation = Validation::new(Algorithm::RS256);
        validation.set_audience(&["demo"]);
        validation.set_issuer(&[ISSUER]);
        // The claims are checked below against a fixed clock.
        validation.validate_exp = false;
        let claims = decode::<Value>(token, &key, &validation).unwrap().claims;
        assert!(claims["exp"].as_i64().unwrap() > now);
        claims
    }

    #[test]
    fn an_id_token_carries_every_claim_and_verifies_with_the_published_key() {
        let db = TestDatabase::sqlite();
        let (services, user) = services(&db);
        let mut conn = services.db.pool().get().unwrap();
        let scope = ScopeSet::parse("openid profile email").unwrap();
        let request = IdTokenRequest {
            client_id: "demo",
            user: &user,
            scope: &scope,
            nonce: Some("n-0S6_WzA2Mj"),
            auth_time: 1_699_999_000,
            access_token: "jHkWEdUXMU1BwAsC4vtUsZwnNvTIxEl0z9K3vx5KF0Y",
            issued_at: 1_700_000_000,
        };
        let token = mint(&services, &mut conn, &request).unwrap();
        let claims = verify(&services, &token, 1_700_000_000);
        assert_eq!(
            claims,
            serde_json::json!({
                "iss": ISSUER,
                "sub": user.id.to_string(),
                "aud": "demo",
                "exp": 1_700_000_300,
                "iat": 1_700_000_000,
                "auth_time": 1_699_999_000,
                "nonce": "n-0S6_WzA2Mj",
                "at_hash": at_hash(request.access_token),
                "preferred_username": "tue",
                "email": "tue@example.com",
                "email_verified": false,
            })
        );
    }

    #[test]
    fn without_a_nonce_or_the_profile_scopes_only_the_required_claims_are_there() {
        let db = TestDatabase::sqlite();
        let (services, user) = services(&db);
        let mut conn = services.db.pool().get().unwrap();
        let scope = ScopeSet::parse("openid read").unwrap();
        let request = IdTokenRequest {
            client_id: "demo",
            user: &user,
            scope: &scope,
            nonce: None,
            auth_time: 1_700_000_000,
            access_token: "token",
            issued_at: 1_700_000_000,
        };
        let claims = verify(&services, &mint(&services, &mut conn, &request).unwrap(), 0);
        let mut names: Vec<&str> = claims
            .as_object()
            .unwrap()
            .keys()
            .map(|k| k.as_str())
            .collect();
        names.sort();
        assert_eq!(
            names,
            ["at_hash", "aud", "auth_time", "exp", "iat", "iss", "sub"]
        );
    }

    #[actix_web::test]
    async fn a_hint_is_read_back_only_when_this_server_signed_it_whatever_its_age() {
        let db = TestDatabase::sqlite();
        let (services, user) = services(&db);
        let mut conn = services.db.pool().get().unwrap();
        let scope = ScopeSet::parse("openid").unwrap();
        // Issued long ago and long expired.
        let request = IdTokenRequest {
            client_id: "demo",
            user: &user,
            scope: &scope,
            nonce: None,
            auth_time: 1_000,
            access_token: "token",
            issued_at: 1_000,
        };
        let token = mint(&services, &mut conn, &request).unwrap();
        assert_eq!(
            read_hint(&services, &token).await,
            Some(IdTokenHint {
                client_id: "demo".into(),
                user_id: user.id
            })
        );

        let (header, rest) = token.split_once('.').unwrap();
        let (payload, signature) = rest.split_once('.').unwrap();
        let claims: Value =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap();
        let forge = |claims: &Value| {
            let payload = URL_SAFE_NO_PAD.encode(claims.to_string());
            format!("{header}.{payload}.{signature}")
        };
        let mut other_user = claims.clone();
        other_user["sub"] = "1".into();
        let unsigned = format!(
            "{}.{payload}.",
            URL_SAFE_NO_PAD.encode(r#"{"alg":"none","typ":"JWT"}"#)
        );
        for bad in [
            forge(&other_user),
            unsigned,
            format!("{header}.{payload}"),
            "not a jwt".to_string(),
            "a".repeat(MAX_HINT_LEN + 1),
            String::new(),
        ] {
            assert_eq!(read_hint(&services, &bad).await, None, "{bad:.60}");
        }

        // Another issuer's token, though signed with this key, is not a hint for this server.
        let elsewhere = Services {
            issuer: "https://elsewhere.example.com".into(),
            ..services
        };
        assert_eq!(read_hint(&elsewhere, &token).await, None);
    }

    #[test]
    fn at_hash_is_the_left_half_of_sha_256_in_base64url() {
        // OpenID Connect Core's example (the access token of its Appendix A.3).
        assert_eq!(
            at_hash("jHkWEdUXMU1BwAsC4vtUsZwnNvTIxEl0z9K3vx5KF0Y"),
            "77QmUPtjPfzWtF2AnpK9RQ"
        );
    }
}
