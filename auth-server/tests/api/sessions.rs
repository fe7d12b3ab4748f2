//! Sessions end when credentials change, token families end when their lifetime does, and a
//! rotated refresh token that comes back revokes its family however long after.

use std::time::Duration;

use actix_web::rt::time::sleep;
use auth_server::clean_up::clear_dead_rows;
use diesel::{ExpressionMethods, RunQueryDsl};
use oauth_core::secrets::PasswordHasher;
use reqwest::{Response, StatusCode};
use serde_json::Value;
use store::models::UserChanges;
use store::users;
use test_support::on_both_backends;
use test_support::TestDatabase;

use crate::helpers::*;

fn field(v: &Value, name: &str) -> String {
    v[name].as_str().unwrap().to_string()
}

async fn login(app: &TestApp, password: &str) -> Response {
    app.token(
        &app.demo,
        &[
            ("grant_type", "password"),
            ("username", "tue"),
            ("password", password),
            ("scope", "read"),
        ],
    )
    .await
}

/// What the resource server does on PATCH /users/{id}/ with a new password.
fn change_password(app: &TestApp, password: &str) {
    let hash = PasswordHasher::new(4).unwrap().hash(password).unwrap();
    users::update(
        &mut app.pool.get().unwrap(),
        app.user_id,
        &UserChanges {
            password_hash: Some(hash),
            ..Default::default()
        },
    )
    .unwrap()
    .unwrap();
}

async fn a_password_change_ends_every_session_issued_before_it(db: TestDatabase) {
    let app = spawn_app(db).await;
    let first = app.password_tokens("read").await;
    let second = app.password_tokens("read write").await;
    // A rotation before the change does not save the family either.
    let rotated: Value = app
        .refresh(&app.demo, &field(&second, "refresh_token"))
        .await
        .json()
        .await
        .unwrap();

    change_password(&app, "a brand new passphrase");

    for tokens in [&first, &rotated] {
        assert!(!app.is_active(&field(tokens, "access_token")).await);
        let res = app
            .refresh(&app.demo, &field(tokens, "refresh_token"))
            .await;
        assert_eq!(
            oauth_error(res).await,
            (StatusCode::BAD_REQUEST, "invalid_grant".into())
        );
    }
    // The old password is refused; the new one opens a session that works.
    assert_eq!(
        oauth_error(login(&app, PASSWORD).await).await.1,
        "invalid_grant"
    );
    let res = login(&app, "a brand new passphrase").await;
    assert_eq!(res.status(), StatusCode::OK);
    let fresh: Value = res.json().await.unwrap();
    assert!(app.is_active(&field(&fresh, "access_token")).await);
    let res = app
        .refresh(&app.demo, &field(&fresh, "refresh_token"))
        .await;
    assert_eq!(res.status(), StatusCode::OK);
}

async fn deactivation_ends_sessions_and_activation_does_not_revive_them(db: TestDatabase) {
    let app = spawn_app(db).await;
    let tokens = app.password_tokens("read").await;
    let mut conn = app.pool.get().unwrap();
    users::set_active(&mut conn, "tue", false).unwrap().unwrap();
    assert!(!app.is_active(&field(&tokens, "access_token")).await);
    users::set_active(&mut conn, "tue", true).unwrap().unwrap();
    assert!(!app.is_active(&field(&tokens, "access_token")).await);
    let res = app
        .refresh(&app.demo, &field(&tokens, "refresh_token"))
        .await;
    assert_eq!(oauth_error(res).await.1, "invalid_grant");
    // Activated again, the user signs in afresh.
    assert_eq!(login(&app, PASSWORD).await.status(), StatusCode::OK);
}

/// RFC 9700 §4.14.2 past the retention: the clean-up has run with no retention at all, and the
/// rotated token still revokes the family when it comes back.
async fn reuse_is_detected_after_the_clean_up_has_run(db: TestDatabase) {
    let app = spawn_app(db).await;
    let first = app.password_tokens("read").await;
    let second: Value = app
        .refresh(&app.demo, &field(&first, "refresh_token"))
        .await
        .json()
        .await
        .unwrap();
    // The rotation revoked the first refresh token this second; a zero retention ends now.
    sleep(Duration::from_millis(1100)).await;
    clear_dead_rows(&mut app.pool.get().unwrap(), 0, 900).unwrap();

    let replay = app
        .refresh(&app.demo, &field(&first, "refresh_token"))
        .await;
    assert_eq!(oauth_error(replay).await.1, "invalid_grant");
    assert!(!app.is_active(&field(&second, "access_token")).await);
    let res = app
        .refresh(&app.demo, &field(&second, "refresh_token"))
        .await;
    assert_eq!(
        oauth_error(res).await.1,
        "invalid_grant",
        "the family survived the replay"
    );
}

/// Rotation hands out new refresh tokens, never one that outlives the grant.
async fn rotation_never_extends_a_family_past_its_lifetime(db: TestDatabase) {
    let app = spawn_app_with(
        db,
        &[
            ("REFRESH_TOKEN_EXPIRE_SECONDS", "3600"),
            ("REFRESH_TOKEN_MAX_LIFETIME_SECONDS", "100"),
        ],
    )
    .await;
    let mut tokens = app.password_tokens("read").await;
    let mut expiries = Vec::new();
    for _ in 0..3 {
        let stored = auth_store::tokens::find_refresh_grant(
            &mut app.pool.get().unwrap(),
            &auth_store::TokenHash::of(&field(&tokens, "refresh_token")),
        )
        .unwrap()
        .unwrap();
        assert!(stored.family.expires_at <= stored.family.created_at + 100);
        assert_eq!(stored.token.expires_at, stored.family.expires_at);
        expiries.push(stored.token.expires_at);
        let res = app
            .refresh(&app.demo, &field(&tokens, "refresh_token"))
            .await;
        assert_eq!(res.status(), StatusCode::OK);
        tokens = res.json().await.unwrap();
    }
    assert!(expiries.windows(2).all(|w| w[0] == w[1]), "{expiries:?}");
}

/// A family whose lifetime is over refuses to rotate, whatever its token's own expiry.
async fn a_family_past_its_lifetime_is_invalid_grant(db: TestDatabase) {
    let app = spawn_app_with(db, &[("REFRESH_TOKEN_MAX_LIFETIME_SECONDS", "1")]).await;
    let tokens = app.password_tokens("read").await;
    sleep(Duration::from_millis(2100)).await;
    let res = app
        .refresh(&app.demo, &field(&tokens, "refresh_token"))
        .await;
    assert_eq!(oauth_error(res).await.1, "invalid_grant");
}

/// A hash made at another cost than BCRYPT_COST is replaced on the next successful login, and
/// the sessions stay: the password is the same.
async fn a_login_upgrades_a_hash_made_at_another_cost(db: TestDatabase) {
    let app = spawn_app(db).await; // BCRYPT_COST=4
    let costlier = PasswordHasher::new(5).unwrap().hash(PASSWORD).unwrap();
    let mut conn = app.pool.get().unwrap();
    diesel::update(store::schema::users::table)
        .set(store::schema::users::password_hash.eq(&costlier))
        .filter(store::schema::users::id.eq(app.user_id))
        .execute(&mut conn)
        .unwrap();
    let before = app.password_tokens("read").await;

    let stored = users::find(&mut conn, app.user_id).unwrap().unwrap();
    assert_ne!(stored.password_hash, costlier);
    assert!(
        stored.password_hash.starts_with("$2b$04$"),
        "{}",
        stored.password_hash
    );
    assert!(app.is_active(&field(&before, "access_token")).await);
    assert_eq!(login(&app, PASSWORD).await.status(), StatusCode::OK);
}

on_both_backends!(
    a_password_change_ends_every_session_issued_before_it,
    deactivation_ends_sessions_and_activation_does_not_revive_them,
    reuse_is_detected_after_the_clean_up_has_run,
    rotation_never_extends_a_family_past_its_lifetime,
    a_family_past_its_lifetime_is_invalid_grant,
    a_login_upgrades_a_hash_made_at_another_cost,
);
