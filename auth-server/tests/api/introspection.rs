use auth_store::models::NewAccessToken;
use reqwest::StatusCode;
use serde_json::{json, Value};
use test_support::on_both_backends;
use test_support::TestDatabase;

use crate::helpers::*;

async fn an_inactive_token_is_exactly_active_false(db: TestDatabase) {
    let app = spawn_app(db).await;
    let tokens = app.password_tokens("read").await;
    // Unknown, a refresh token, and an expired token.
    {
        let mut conn = app.pool.get().unwrap();
        let demo = auth_store::applications::find_by_client_id(&mut conn, "demo")
            .unwrap()
            .unwrap();
        auth_store::tokens::insert_access(
            &mut conn,
            &NewAccessToken {
                token_hash: auth_store::TokenHash::of("expired-token"),
                application_id: demo.id,
                user_id: Some(app.user_id),
                scope: "read".into(),
                issued_at: 0,
                expires_at: oauth_core::time::now() - 1,
                credentials_version: 0,
            },
        )
        .unwrap();
    }
    for token in [
        "unknown",
        tokens["refresh_token"].as_str().unwrap(),
        "expired-token",
    ] {
        assert_eq!(
            app.introspect(token).await,
            json!({"active": false}),
            "{token}"
        );
    }
}

async fn callers_that_may_not_introspect_get_401(db: TestDatabase) {
    let app = spawn_app(db).await;
    let token = app.password_tokens("read").await["access_token"]
        .as_str()
        .unwrap()
        .to_string();
    let form = [("token", token.as_str())];
    // No credentials, a confidential client not allowed to, a public client, a wrong secret.
    let wrong = Client {
        id: "resource-server".into(),
        secret: Some("wrong".into()),
    };
    for client in [None, Some(&app.demo), Some(&app.public), Some(&wrong)] {
        let res = app.post_form("/o/introspect/", client, &form).await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "{client:?}");
        assert!(res.headers().contains_key("www-authenticate"));
    }
    // A bearer token without the introspection scope.
    let res = app
        .http
        .post(app.url("/o/introspect/"))
        .bearer_auth(&token)
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
}

async fn a_bearer_with_the_introspection_scope_may_introspect(db: TestDatabase) {
    let app = spawn_app(db).await;
    let target = app.password_tokens("read").await["access_token"]
        .as_str()
        .unwrap()
        .to_string();
    let caller: Value = app
        .token(
            &app.introspector,
            &[
                ("grant_type", "client_credentials"),
                ("scope", "introspection"),
            ],
        )
        .await
        .json()
        .await
        .unwrap();
    let caller_token = caller["access_token"].as_str().unwrap();
    // The auth-scheme is case-insensitive (RFC 7235 §2.1), as at the resource server.
    for scheme in ["Bearer", "bearer", "BEARER"] {
        let res = app
            .http
            .post(app.url("/o/introspect/"))
            .header("authorization", format!("{scheme} {caller_token}"))
            .form(&[("token", target.as_str())])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK, "{scheme}");
        let body: Value = res.json().await.unwrap();
        assert_eq!(body["active"], true);
        assert_eq!(body["username"], "tue");
    }
}

async fn an_introspecting_client_may_send_credentials_in_the_body(db: TestDatabase) {
    let app = spawn_app(db).await;
    let target = app.password_tokens("read").await["access_token"]
        .as_str()
        .unwrap()
        .to_string();
    let secret = app.introspector.secret.clone().unwrap();
    let res = app
        .post_form(
            "/o/introspect/",
            None,
            &[
                ("token", &target),
                ("client_id", "resource-server"),
                ("client_secret", &secret),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let res = app
        .post_form("/o/introspect/", Some(&app.introspector), &[])
        .await;
    assert_eq!(
        oauth_error(res).await,
        (StatusCode::BAD_REQUEST, "invalid_request".into())
    );
}

async fn a_deactivated_users_tokens_become_inactive(db: TestDatabase) {
    use diesel::{ExpressionMethods, RunQueryDsl};
    let app = spawn_app(db).await;
    let token = app.password_tokens("read").await["access_token"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(app.is_active(&token).await);
    let mut conn = app.pool.get().unwrap();
    diesel::update(store::schema::users::table)
        .set(store::schema::users::is_active.eq(false))
        .execute(&mut conn)
        .unwrap();
    assert!(!app.is_active(&token).await);
}

on_both_backends!(
    an_inactive_token_is_exactly_active_false,
    callers_that_may_not_introspect_get_401,
    a_bearer_with_the_introspection_scope_may_introspect,
    an_introspecting_client_may_send_credentials_in_the_body,
    a_deactivated_users_tokens_become_inactive,
);
