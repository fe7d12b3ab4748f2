use reqwest::StatusCode;
use serde_json::Value;
use test_support::on_both_backends;
use test_support::TestDatabase;

use crate::helpers::*;

fn field(v: &Value, name: &str) -> String {
    v[name].as_str().unwrap().to_string()
}

async fn revoking_an_access_token_makes_it_inactive(db: TestDatabase) {
    let app = spawn_app(db).await;
    let tokens = app.password_tokens("read").await;
    let res = app
        .post_form(
            "/o/revoke_token/",
            Some(&app.demo),
            &[("token", &field(&tokens, "access_token"))],
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(res.text().await.unwrap().is_empty());
    assert!(!app.is_active(&field(&tokens, "access_token")).await);
    // The refresh token of that grant still works (RFC 7009 lets the server choose).
    assert_eq!(
        app.refresh(&app.demo, &field(&tokens, "refresh_token"))
            .await
            .status(),
        StatusCode::OK
    );
}

async fn revoking_a_refresh_token_also_revokes_its_access_token(db: TestDatabase) {
    let app = spawn_app(db).await;
    let tokens = app.password_tokens("read").await;
    let res = app
        .post_form(
            "/o/revoke_token/",
            Some(&app.demo),
            &[
                ("token", &field(&tokens, "refresh_token")),
                ("token_type_hint", "refresh_token"),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(!app.is_active(&field(&tokens, "access_token")).await);
    let res = app
        .refresh(&app.demo, &field(&tokens, "refresh_token"))
        .await;
    assert_eq!(
        oauth_error(res).await,
        (StatusCode::BAD_REQUEST, "invalid_grant".into())
    );
}

async fn a_wrong_hint_still_finds_the_token(db: TestDatabase) {
    let app = spawn_app(db).await;
    let tokens = app.password_tokens("read").await;
    let res = app
        .post_form(
            "/o/revoke_token/",
            Some(&app.demo),
            &[
                ("token", &field(&tokens, "refresh_token")),
                ("token_type_hint", "access_token"),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(!app.is_active(&field(&tokens, "access_token")).await);
}

async fn a_client_cannot_revoke_another_clients_tokens(db: TestDatabase) {
    let app = spawn_app(db).await;
    let tokens = app.password_tokens("read").await;
    for token in [
        field(&tokens, "access_token"),
        field(&tokens, "refresh_token"),
    ] {
        let res = app
            .post_form("/o/revoke_token/", Some(&app.machine), &[("token", &token)])
            .await;
        assert_eq!(res.status(), StatusCode::OK);
    }
    assert!(app.is_active(&field(&tokens, "access_token")).await);
    assert_eq!(
        app.refresh(&app.demo, &field(&tokens, "refresh_token"))
            .await
            .status(),
        StatusCode::OK
    );
}

async fn an_unknown_token_is_revoked_quietly_but_a_client_must_authenticate(db: TestDatabase) {
    let app = spawn_app(db).await;
    let res = app
        .post_form(
            "/o/revoke_token/",
            Some(&app.demo),
            &[("token", "no-such-token")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let res = app
        .post_form("/o/revoke_token/", None, &[("token", "no-such-token")])
        .await;
    assert_eq!(
        oauth_error(res).await,
        (StatusCode::UNAUTHORIZED, "invalid_client".into())
    );
    let res = app
        .post_form("/o/revoke_token/", Some(&app.demo), &[])
        .await;
    assert_eq!(
        oauth_error(res).await,
        (StatusCode::BAD_REQUEST, "invalid_request".into())
    );
}

async fn a_public_client_revokes_with_its_client_id(db: TestDatabase) {
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
    let tokens: Value = res.json().await.unwrap();
    let res = app
        .post_form(
            "/o/revoke_token/",
            None,
            &[
                ("client_id", "public-app"),
                ("token", &field(&tokens, "access_token")),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(!app.is_active(&field(&tokens, "access_token")).await);
}

async fn the_server_deletes_dead_tokens_on_its_own(db: TestDatabase) {
    let app = spawn_app_with(
        db,
        &[
            ("TOKEN_CLEANUP_INTERVAL_SECONDS", "1"),
            ("TOKEN_RETENTION_SECONDS", "0"),
        ],
    )
    .await;
    let tokens = app.password_tokens("read").await;
    let hash = auth_store::TokenHash::of(&field(&tokens, "access_token"));
    app.post_form(
        "/o/revoke_token/",
        Some(&app.demo),
        &[("token", &field(&tokens, "access_token"))],
    )
    .await;
    let mut gone = false;
    for _ in 0..40 {
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        let mut conn = app.pool.get().unwrap();
        if auth_store::tokens::find_access_by_hash(&mut conn, &hash)
            .unwrap()
            .is_none()
        {
            gone = true;
            break;
        }
    }
    assert!(
        gone,
        "the revoked token was not deleted by the periodic task"
    );
}

on_both_backends!(
    revoking_an_access_token_makes_it_inactive,
    revoking_a_refresh_token_also_revokes_its_access_token,
    a_wrong_hint_still_finds_the_token,
    a_client_cannot_revoke_another_clients_tokens,
    an_unknown_token_is_revoked_quietly_but_a_client_must_authenticate,
    a_public_client_revokes_with_its_client_id,
    the_server_deletes_dead_tokens_on_its_own,
);
