//! A password set through the API ends the user's sessions everywhere: the resource server
//! refuses their old access tokens (here with the cache off; within INTROSPECTION_CACHE_SECONDS
//! otherwise) and the auth server their old refresh tokens. The resource server writes only the
//! users table; the auth server reads the credentials version from it.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use test_support::on_both_backends;
use test_support::TestDatabase;

use crate::helpers::*;

fn field(v: &Value, name: &str) -> String {
    v[name].as_str().unwrap().to_string()
}

async fn spawn_uncached(db: TestDatabase) -> TestApp {
    spawn_app_with(
        db,
        AuthServer::Real,
        &[("INTROSPECTION_CACHE_SECONDS", "0")],
    )
    .await
}

async fn changing_your_own_password_ends_your_other_sessions(db: TestDatabase) {
    let app = spawn_uncached(db).await;
    let elsewhere = app.grant_for("tue", PASSWORD, "read write").await;
    let here = app.token("read write").await;
    let path = format!("/users/{}/", app.user_id);
    let res = app
        .send_json(
            Method::PATCH,
            &path,
            Some(&here),
            &json!({"password": "a new passphrase", "current_password": PASSWORD}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);

    // Every token issued before the change is dead, this one included.
    for token in [field(&elsewhere, "access_token"), here] {
        assert_invalid_token(app.get(&path, Some(&token)).await).await;
    }
    let (status, body) = app.refresh(&field(&elsewhere, "refresh_token")).await;
    assert_eq!(
        (status, body["error"].clone()),
        (StatusCode::BAD_REQUEST, json!("invalid_grant"))
    );
    // The new password opens a session that works.
    let fresh = app.token_for("tue", "a new passphrase", "read").await;
    assert_eq!(app.get(&path, Some(&fresh)).await.status(), StatusCode::OK);
}

async fn a_reset_by_a_holder_of_change_user_ends_the_users_sessions(db: TestDatabase) {
    let app = spawn_uncached(db).await;
    let admin = app.add_user("admin", PASSWORD);
    app.grant(admin, &["change_user"]);
    let admin_token = app.token_for("admin", PASSWORD, "read write").await;
    let victim = app.grant_for("tue", PASSWORD, "read").await;
    let path = format!("/users/{}/", app.user_id);
    let res = app
        .send_json(
            Method::PATCH,
            &path,
            Some(&admin_token),
            &json!({"password": "reset by the admin"}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);

    assert_invalid_token(app.get(&path, Some(&field(&victim, "access_token"))).await).await;
    let (status, _) = app.refresh(&field(&victim, "refresh_token")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    // The admin's own session is untouched.
    assert_eq!(
        app.get(&path, Some(&admin_token)).await.status(),
        StatusCode::OK
    );
}

async fn other_changes_leave_sessions_alone(db: TestDatabase) {
    let app = spawn_uncached(db).await;
    let session = app.grant_for("tue", PASSWORD, "read write").await;
    let token = field(&session, "access_token");
    let path = format!("/users/{}/", app.user_id);
    let res = app
        .send_json(
            Method::PATCH,
            &path,
            Some(&token),
            &json!({"first_name": "Tue", "email": "tue@example.org"}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(app.get(&path, Some(&token)).await.status(), StatusCode::OK);
    let (status, _) = app.refresh(&field(&session, "refresh_token")).await;
    assert_eq!(status, StatusCode::OK);
}

on_both_backends!(
    changing_your_own_password_ends_your_other_sessions,
    a_reset_by_a_holder_of_change_user_ends_the_users_sessions,
    other_changes_leave_sessions_alone,
);
