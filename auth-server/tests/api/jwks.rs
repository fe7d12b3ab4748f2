//! GET /o/jwks/: the published signing keys, from memory, and what a relying party does with
//! them.

use reqwest::StatusCode;
use serde_json::Value;
use test_support::{on_both_backends, TestDatabase};

use crate::helpers::*;

async fn the_jwks_publishes_the_signing_key_and_may_be_cached_briefly(db: TestDatabase) {
    let app = spawn_app(db).await;
    let res = app.http.get(app.url("/o/jwks/")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["cache-control"], "public, max-age=60");
    let jwks: Value = res.json().await.unwrap();
    let keys = jwks["keys"].as_array().unwrap();
    assert_eq!(keys.len(), 1, "{jwks}");
    let key = keys[0].as_object().unwrap();
    let mut members: Vec<&str> = key.keys().map(|k| k.as_str()).collect();
    members.sort();
    // The public key and nothing of the private one (no d, p, q, dp, dq, qi).
    assert_eq!(members, ["alg", "e", "kid", "kty", "n", "use"]);
    assert_eq!(key["kty"], "RSA");
    assert_eq!(key["use"], "sig");
    assert_eq!(key["alg"], "RS256");
    assert_eq!(key["e"], "AQAB");
    assert_eq!(key["n"].as_str().unwrap().len(), 342, "a 2048-bit modulus");
}

async fn an_id_token_verifies_with_the_published_key(db: TestDatabase) {
    let app = spawn_app_with(db, &[("AUTH_ISSUER", "https://auth.example.com")]).await;
    let token = app.mint_id_token("demo", "openid profile").await;
    let claims = verify_id_token(&app.jwks().await, &token, "demo").unwrap();
    assert_eq!(claims["iss"], "https://auth.example.com");
    assert_eq!(claims["sub"], app.user_id.to_string());
    assert_eq!(claims["preferred_username"], "tue");
    assert_eq!(claims["nonce"], "a-nonce");
    assert_eq!(
        claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(),
        3600
    );
    assert!(verify_id_token(&app.jwks().await, &token, "another-client").is_err());
}

/// Nothing a client sends changes the answer, and nothing but GET is served.
async fn odd_requests_for_the_jwks_get_the_same_keys_or_nothing(db: TestDatabase) {
    let app = spawn_app(db).await;
    let expected = app.jwks().await;
    for path in [
        "/o/jwks/?kid=../../etc/passwd",
        "/o/jwks/?kid=%00&kid=x&use=enc",
        "/o/jwks/?",
    ] {
        let res = app.http.get(app.url(path)).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::OK, "{path}");
        assert_eq!(res.json::<Value>().await.unwrap(), expected, "{path}");
    }
    for path in ["/o/jwks/x", "/o/jwks/%00", "/o/jwks.json"] {
        let res = app.http.get(app.url(path)).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::NOT_FOUND, "{path}");
    }
    for method in [
        reqwest::Method::POST,
        reqwest::Method::PUT,
        reqwest::Method::DELETE,
    ] {
        let res = app
            .http
            .request(method.clone(), app.url("/o/jwks/"))
            .body("x".repeat(64 * 1024))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::METHOD_NOT_ALLOWED, "{method}");
    }
    assert_eq!(app.jwks().await, expected);
}

on_both_backends!(
    the_jwks_publishes_the_signing_key_and_may_be_cached_briefly,
    an_id_token_verifies_with_the_published_key,
    odd_requests_for_the_jwks_get_the_same_keys_or_nothing,
);
