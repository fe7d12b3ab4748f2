//! GET and POST /o/userinfo/: the claims a token's scopes allow, and RFC 6750's answers to every
//! token that cannot have them.

use oauth_core::secrets::PasswordHasher;
use reqwest::{Method, Response, StatusCode};
use serde_json::{json, Value};
use store::models::UserChanges;
use store::users;
use test_support::{on_both_backends, seed, TestDatabase};

use crate::helpers::*;

/// A confidential client that may ask for the OpenID Connect scopes, and tokens for tue.
struct Oidc {
    app: TestApp,
    client: Client,
}

async fn spawn_oidc(db: TestDatabase) -> Oidc {
    let app = spawn_app(db).await;
    let client = seed::confidential_client("oidc-app")
        .grants("password refresh_token client_credentials")
        .scopes("openid profile email read")
        .owned_by(app.user_id)
        .create(&mut app.pool.get().unwrap());
    Oidc { app, client }
}

impl Oidc {
    async fn access_token(&self, scope: &str) -> String {
        let res = self
            .app
            .token(
                &self.client,
                &[
                    ("grant_type", "password"),
                    ("username", "tue"),
                    ("password", PASSWORD),
                    ("scope", scope),
                ],
            )
            .await;
        assert_eq!(res.status(), StatusCode::OK);
        let body: Value = res.json().await.unwrap();
        body["access_token"].as_str().unwrap().to_string()
    }

    async fn userinfo(&self, method: Method, authorization: Option<&str>) -> Response {
        let mut req = self.app.http.request(method, self.app.url("/o/userinfo/"));
        if let Some(value) = authorization {
            req = req.header("Authorization", value);
        }
        req.send().await.unwrap()
    }

    async fn userinfo_with(&self, token: &str) -> Response {
        self.userinfo(Method::GET, Some(&format!("Bearer {token}")))
            .await
    }
}

/// The status, the challenge and the body's `error` of a refusal.
async fn refusal(res: Response) -> (StatusCode, String, Option<String>) {
    let status = res.status();
    let challenge = res
        .headers()
        .get("www-authenticate")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    let body = res.text().await.unwrap();
    let error = serde_json::from_str::<Value>(&body)
        .ok()
        .and_then(|b| b["error"].as_str().map(str::to_string));
    (status, challenge, error)
}

async fn userinfo_answers_get_and_post_with_the_claims_of_the_scopes(db: TestDatabase) {
    let oidc = spawn_oidc(db).await;
    let sub = oidc.app.user_id.to_string();
    for (scope, expected) in [
        ("openid", json!({ "sub": sub })),
        (
            "openid profile",
            json!({ "sub": sub, "preferred_username": "tue" }),
        ),
        (
            "openid email read",
            json!({ "sub": sub, "email": "Tue@Example.com", "email_verified": false }),
        ),
        (
            "openid profile email",
            json!({
                "sub": sub,
                "preferred_username": "tue",
                "email": "Tue@Example.com",
                "email_verified": false,
            }),
        ),
    ] {
        let token = oidc.access_token(scope).await;
        for method in [Method::GET, Method::POST] {
            let res = oidc
                .userinfo(method.clone(), Some(&format!("Bearer {token}")))
                .await;
            assert_eq!(res.status(), StatusCode::OK, "{scope} {method}");
            assert_eq!(res.headers()["cache-control"], "no-store");
            assert_eq!(res.json::<Value>().await.unwrap(), expected, "{scope}");
        }
    }
}

async fn a_user_without_an_email_gets_no_email_claim(db: TestDatabase) {
    let oidc = spawn_oidc(db).await;
    users::update(
        &mut oidc.app.pool.get().unwrap(),
        oidc.app.user_id,
        &UserChanges {
            email: Some(String::new()),
            ..Default::default()
        },
    )
    .unwrap()
    .unwrap();
    let token = oidc.access_token("openid email").await;
    let body: Value = oidc.userinfo_with(&token).await.json().await.unwrap();
    assert_eq!(body, json!({ "sub": oidc.app.user_id.to_string() }));
}

async fn no_token_is_a_bare_bearer_challenge(db: TestDatabase) {
    let oidc = spawn_oidc(db).await;
    for method in [Method::GET, Method::POST] {
        assert_eq!(
            refusal(oidc.userinfo(method, None).await).await,
            (
                StatusCode::UNAUTHORIZED,
                r#"Bearer realm="oauth""#.into(),
                None
            )
        );
    }
    // Another scheme is no bearer token either.
    let basic = oidc.userinfo(Method::GET, Some("Basic dXNlcjpwYXNz")).await;
    assert_eq!(refusal(basic).await.0, StatusCode::UNAUTHORIZED);
}

/// A token in the form body is not read (RFC 6750 §2.2 is not offered): no token was sent.
async fn a_token_in_the_form_body_is_not_accepted(db: TestDatabase) {
    let oidc = spawn_oidc(db).await;
    let token = oidc.access_token("openid").await;
    let res = oidc
        .app
        .http
        .post(oidc.app.url("/o/userinfo/"))
        .form(&[("access_token", token.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(
        refusal(res).await,
        (
            StatusCode::UNAUTHORIZED,
            r#"Bearer realm="oauth""#.into(),
            None
        )
    );
}

const INVALID_TOKEN: &str = r#"Bearer realm="oauth", error="invalid_token""#;

async fn a_bad_revoked_or_dead_token_is_invalid_token(db: TestDatabase) {
    let oidc = spawn_oidc(db).await;
    let invalid = (
        StatusCode::UNAUTHORIZED,
        INVALID_TOKEN.to_string(),
        Some("invalid_token".to_string()),
    );
    for bad in [
        "Bearer not-a-token-we-issued",
        "Bearer a\"b",
        "Bearer ",
        "bearer ===",
    ] {
        assert_eq!(
            refusal(oidc.userinfo(Method::GET, Some(bad)).await).await,
            invalid,
            "{bad}"
        );
    }

    let revoked = oidc.access_token("openid").await;
    let res = oidc
        .app
        .post_form(
            "/o/revoke_token/",
            Some(&oidc.client),
            &[("token", &revoked)],
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(refusal(oidc.userinfo_with(&revoked).await).await, invalid);

    // A token from before its owner's password change stands for nobody any more.
    let before = oidc.access_token("openid profile").await;
    assert_eq!(oidc.userinfo_with(&before).await.status(), StatusCode::OK);
    let hash = PasswordHasher::new(4)
        .unwrap()
        .hash("a brand new passphrase")
        .unwrap();
    users::update(
        &mut oidc.app.pool.get().unwrap(),
        oidc.app.user_id,
        &UserChanges {
            password_hash: Some(hash),
            ..Default::default()
        },
    )
    .unwrap()
    .unwrap();
    assert_eq!(refusal(oidc.userinfo_with(&before).await).await, invalid);

    // A client's own token has no user to describe, whatever its scopes.
    let res = oidc
        .app
        .token(
            &oidc.client,
            &[("grant_type", "client_credentials"), ("scope", "openid")],
        )
        .await;
    let machine: Value = res.json().await.unwrap();
    let machine = machine["access_token"].as_str().unwrap();
    assert_eq!(refusal(oidc.userinfo_with(machine).await).await, invalid);
}

async fn an_expired_token_is_invalid_token(db: TestDatabase) {
    let app = spawn_app_with(db, &[("ACCESS_TOKEN_EXPIRE_SECONDS", "1")]).await;
    let client = seed::confidential_client("oidc-app")
        .grants("password")
        .scopes("openid")
        .owned_by(app.user_id)
        .create(&mut app.pool.get().unwrap());
    let oidc = Oidc { app, client };
    let token = oidc.access_token("openid").await;
    actix_web::rt::time::sleep(std::time::Duration::from_millis(2100)).await;
    assert_eq!(
        refusal(oidc.userinfo_with(&token).await).await.1,
        INVALID_TOKEN
    );
}

async fn a_token_without_openid_is_insufficient_scope(db: TestDatabase) {
    let oidc = spawn_oidc(db).await;
    let token = oidc.access_token("read profile email").await;
    for method in [Method::GET, Method::POST] {
        assert_eq!(
            refusal(
                oidc.userinfo(method, Some(&format!("Bearer {token}")))
                    .await
            )
            .await,
            (
                StatusCode::FORBIDDEN,
                r#"Bearer realm="oauth", error="insufficient_scope", scope="openid""#.into(),
                Some("insufficient_scope".into())
            )
        );
    }
}

/// A 100 KB bearer token is refused before any lookup, and the server goes on serving.
async fn a_huge_bearer_token_is_refused_and_the_server_carries_on(db: TestDatabase) {
    let oidc = spawn_oidc(db).await;
    let huge = "a".repeat(100 * 1024);
    let status = match oidc
        .app
        .http
        .get(oidc.app.url("/o/userinfo/"))
        .header("Authorization", format!("Bearer {huge}"))
        .send()
        .await
    {
        Ok(res) => Some(res.status()),
        // The server may close the connection on a head this large.
        Err(_) => None,
    };
    assert!(
        status.is_none_or(|s| s.is_client_error()),
        "a 100 KB token got {status:?}"
    );
    let long = "a".repeat(5000);
    assert_eq!(
        refusal(oidc.userinfo_with(&long).await).await.1,
        INVALID_TOKEN
    );
    let token = oidc.access_token("openid").await;
    assert_eq!(oidc.userinfo_with(&token).await.status(), StatusCode::OK);
}

on_both_backends!(
    userinfo_answers_get_and_post_with_the_claims_of_the_scopes,
    a_user_without_an_email_gets_no_email_claim,
    no_token_is_a_bare_bearer_challenge,
    a_token_in_the_form_body_is_not_accepted,
    a_bad_revoked_or_dead_token_is_invalid_token,
    an_expired_token_is_invalid_token,
    a_token_without_openid_is_insufficient_scope,
    a_huge_bearer_token_is_refused_and_the_server_carries_on,
);
