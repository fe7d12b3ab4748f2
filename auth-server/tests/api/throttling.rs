use reqwest::StatusCode;
use test_support::on_both_backends;
use test_support::TestDatabase;

use crate::helpers::*;

async fn attempt(app: &TestApp, username: &str, password: &str) -> StatusCode {
    app.token(
        &app.demo,
        &[
            ("grant_type", "password"),
            ("username", username),
            ("password", password),
        ],
    )
    .await
    .status()
}

async fn after_the_failure_limit_even_the_right_password_is_refused(db: TestDatabase) {
    let app = spawn_app_with(db, &[("LOGIN_FAILURE_LIMIT", "3")]).await;
    assert_eq!(attempt(&app, "tue", PASSWORD).await, StatusCode::OK);
    for _ in 0..2 {
        assert_eq!(attempt(&app, "tue", "wrong").await, StatusCode::BAD_REQUEST);
    }
    // Failures by e-mail count for the same account.
    assert_eq!(
        attempt(&app, "tue@example.com", "wrong").await,
        StatusCode::BAD_REQUEST
    );
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
    assert_eq!(
        oauth_error(res).await,
        (StatusCode::BAD_REQUEST, "invalid_grant".into())
    );
}

async fn unknown_accounts_are_throttled_alike(db: TestDatabase) {
    let app = spawn_app_with(db, &[("LOGIN_FAILURE_LIMIT", "2")]).await;
    let mut bodies = Vec::new();
    for _ in 0..3 {
        let res = app
            .token(
                &app.demo,
                &[
                    ("grant_type", "password"),
                    ("username", "ghost"),
                    ("password", "x"),
                ],
            )
            .await;
        bodies.push((res.status(), res.text().await.unwrap()));
    }
    assert!(bodies.iter().all(|b| b == &bodies[0]), "{bodies:?}");
    // Someone else's account is not affected.
    assert_eq!(attempt(&app, "tue", PASSWORD).await, StatusCode::OK);
}

async fn the_lock_ends_when_the_window_passes(db: TestDatabase) {
    let app = spawn_app_with(
        db,
        &[
            ("LOGIN_FAILURE_LIMIT", "1"),
            ("LOGIN_FAILURE_WINDOW_SECONDS", "4"),
        ],
    )
    .await;
    // Failures are counted in whole seconds: a window of one second ended between the two
    // attempts whenever they fell on either side of a second's boundary (CI saw a 200 here).
    // Four seconds leave the second attempt three to arrive, however busy the machine.
    assert_eq!(attempt(&app, "tue", "wrong").await, StatusCode::BAD_REQUEST);
    assert_eq!(
        attempt(&app, "tue", PASSWORD).await,
        StatusCode::BAD_REQUEST
    );
    // The refused attempt counts too, so the window must pass after it, whole seconds included.
    tokio::time::sleep(std::time::Duration::from_millis(5100)).await;
    assert_eq!(attempt(&app, "tue", PASSWORD).await, StatusCode::OK);
}

on_both_backends!(
    after_the_failure_limit_even_the_right_password_is_refused,
    unknown_accounts_are_throttled_alike,
    the_lock_ends_when_the_window_passes,
);
