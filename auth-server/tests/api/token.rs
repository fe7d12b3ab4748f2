use reqwest::StatusCode;
use serde_json::Value;
use test_support::on_both_backends;
use test_support::TestDatabase;

use crate::helpers::*;

async fn a_password_grant_issues_a_bearer_and_a_refresh_token_that_are_never_cached(
    db: TestDatabase,
) {
    let app = spawn_app(db).await;
    let res = app
        .token(
            &app.demo,
            &[
                ("grant_type", "password"),
                ("username", "tue"),
                ("password", PASSWORD),
                ("scope", "write read"),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["cache-control"], "no-store");
    assert_eq!(res.headers()["pragma"], "no-cache");
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 36000);
    assert_eq!(body["scope"], "read write");
    let access = body["access_token"].as_str().unwrap();
    assert!(
        access.len() >= 43
            && access
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    );
    assert_ne!(body["refresh_token"].as_str().unwrap(), access);

    let info = app.introspect(access).await;
    assert_eq!(info["active"], true);
    assert_eq!(info["username"], "tue");
    assert_eq!(info["sub"], app.user_id.to_string());
    assert_eq!(info["client_id"], "demo");
    assert_eq!(info["scope"], "read write");
    assert_eq!(
        info["exp"].as_i64().unwrap() - info["iat"].as_i64().unwrap(),
        36000
    );
}

async fn the_database_keeps_only_hashes_of_tokens(db: TestDatabase) {
    let app = spawn_app(db).await;
    let body = app.password_tokens("read").await;
    let access = body["access_token"].as_str().unwrap();
    let refresh = body["refresh_token"].as_str().unwrap();
    let mut conn = app.pool.get().unwrap();
    let stored =
        auth_store::tokens::find_access_by_hash(&mut conn, &auth_store::TokenHash::of(access))
            .unwrap()
            .unwrap();
    assert_ne!(&stored.token_hash.as_bytes()[..], access.as_bytes());
    assert!(auth_store::tokens::find_refresh_by_hash(
        &mut conn,
        &auth_store::TokenHash::of(refresh)
    )
    .unwrap()
    .is_some());
}

async fn a_user_may_log_in_with_their_email_in_any_case(db: TestDatabase) {
    let app = spawn_app(db).await;
    let res = app
        .token(
            &app.demo,
            &[
                ("grant_type", "password"),
                ("username", "tUE@example.COM"),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let body: Value = res.json().await.unwrap();
    assert_eq!(
        app.introspect(body["access_token"].as_str().unwrap()).await["username"],
        "tue"
    );
}

async fn an_omitted_scope_gets_the_applications_default_scopes(db: TestDatabase) {
    let app = spawn_app(db).await;
    let res = app
        .token(
            &app.demo,
            &[
                ("grant_type", "password"),
                ("username", "tue"),
                ("password", PASSWORD),
            ],
        )
        .await;
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["scope"], "read");
}

async fn credentials_in_the_body_authenticate_a_confidential_client(db: TestDatabase) {
    let app = spawn_app(db).await;
    let secret = app.demo.secret.clone().unwrap();
    let res = app
        .post_form(
            "/o/token/",
            None,
            &[
                ("grant_type", "client_credentials"),
                ("client_id", "demo"),
                ("client_secret", &secret),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
}

async fn a_public_client_authenticates_with_its_client_id_alone(db: TestDatabase) {
    let app = spawn_app(db).await;
    let res = app
        .post_form(
            "/o/token/",
            None,
            &[
                ("grant_type", "password"),
                ("client_id", "public-app"),
                ("username", "tue"),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let body: Value = res.json().await.unwrap();
    assert!(body["refresh_token"].is_string());
}

async fn client_credentials_issue_no_refresh_token_and_no_user(db: TestDatabase) {
    let app = spawn_app(db).await;
    let res = app
        .token(&app.machine, &[("grant_type", "client_credentials")])
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let body: Value = res.json().await.unwrap();
    assert!(body.get("refresh_token").is_none());
    assert_eq!(body["scope"], "read");
    let info = app.introspect(body["access_token"].as_str().unwrap()).await;
    assert_eq!(info["active"], true);
    assert_eq!(info["client_id"], "machine");
    assert!(info.get("username").is_none() && info.get("sub").is_none());
}

async fn a_password_past_72_bytes_never_matches_even_when_its_first_72_do(db: TestDatabase) {
    let app = spawn_app(db).await;
    let exactly_72 = format!("{}{}", "é".repeat(35), "ab");
    {
        let mut conn = app.pool.get().unwrap();
        test_support::seed::user("long")
            .password(&exactly_72)
            .create(&mut conn);
    }
    let grant = |password: String| {
        let app = &app;
        async move {
            app.token(
                &app.demo,
                &[
                    ("grant_type", "password"),
                    ("username", "long"),
                    ("password", &password),
                ],
            )
            .await
        }
    };
    // bcrypt reads 72 bytes: a truncating check would let both of these in.
    for longer in [
        format!("{exactly_72}c"),
        format!("{exactly_72}{}", "c".repeat(500)),
    ] {
        assert_eq!(
            oauth_error(grant(longer).await).await,
            (StatusCode::BAD_REQUEST, "invalid_grant".into())
        );
    }
    assert_eq!(grant(exactly_72).await.status(), StatusCode::OK);
}

on_both_backends!(
    a_password_past_72_bytes_never_matches_even_when_its_first_72_do,
    a_password_grant_issues_a_bearer_and_a_refresh_token_that_are_never_cached,
    the_database_keeps_only_hashes_of_tokens,
    a_user_may_log_in_with_their_email_in_any_case,
    an_omitted_scope_gets_the_applications_default_scopes,
    credentials_in_the_body_authenticate_a_confidential_client,
    a_public_client_authenticates_with_its_client_id_alone,
    client_credentials_issue_no_refresh_token_and_no_user,
);
