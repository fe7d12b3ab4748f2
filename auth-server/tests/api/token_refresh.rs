use futures_util::future::join_all;
use reqwest::StatusCode;
use serde_json::Value;
use test_support::on_both_backends;
use test_support::TestDatabase;

use crate::helpers::*;

fn field(v: &Value, name: &str) -> String {
    v[name].as_str().unwrap().to_string()
}

async fn a_refresh_rotates_the_refresh_token_and_revokes_the_old_access_token(db: TestDatabase) {
    let app = spawn_app(db).await;
    let first = app.password_tokens("read write").await;
    let res = app
        .refresh(&app.demo, &field(&first, "refresh_token"))
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["cache-control"], "no-store");
    let second: Value = res.json().await.unwrap();
    assert_eq!(second["scope"], "read write");
    assert_ne!(second["refresh_token"], first["refresh_token"]);
    assert!(!app.is_active(&field(&first, "access_token")).await);
    assert!(app.is_active(&field(&second, "access_token")).await);
    // The new refresh token works in turn.
    let third = app
        .refresh(&app.demo, &field(&second, "refresh_token"))
        .await;
    assert_eq!(third.status(), StatusCode::OK);
}

async fn presenting_a_rotated_refresh_token_revokes_the_whole_grant(db: TestDatabase) {
    let app = spawn_app(db).await;
    let first = app.password_tokens("read").await;
    let second: Value = app
        .refresh(&app.demo, &field(&first, "refresh_token"))
        .await
        .json()
        .await
        .unwrap();
    let replay = app
        .refresh(&app.demo, &field(&first, "refresh_token"))
        .await;
    assert_eq!(
        oauth_error(replay).await,
        (StatusCode::BAD_REQUEST, "invalid_grant".into())
    );
    // Everything descended from that grant is dead now.
    assert!(!app.is_active(&field(&second, "access_token")).await);
    let res = app
        .refresh(&app.demo, &field(&second, "refresh_token"))
        .await;
    assert_eq!(
        oauth_error(res).await,
        (StatusCode::BAD_REQUEST, "invalid_grant".into())
    );
    // Another grant of the same user is untouched.
    let other = app.password_tokens("read").await;
    assert!(app.is_active(&field(&other, "access_token")).await);
}

async fn a_refresh_may_narrow_the_scope_but_never_widen_it(db: TestDatabase) {
    let app = spawn_app(db).await;
    let first = app.password_tokens("read write").await;
    let res = app
        .token(
            &app.demo,
            &[
                ("grant_type", "refresh_token"),
                ("refresh_token", &field(&first, "refresh_token")),
                ("scope", "read groups"),
            ],
        )
        .await;
    assert_eq!(
        oauth_error(res).await,
        (StatusCode::BAD_REQUEST, "invalid_scope".into())
    );
    let res = app
        .token(
            &app.demo,
            &[
                ("grant_type", "refresh_token"),
                ("refresh_token", &field(&first, "refresh_token")),
                ("scope", "read"),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let narrowed: Value = res.json().await.unwrap();
    assert_eq!(narrowed["scope"], "read");
    // The grant keeps its original scope: the next refresh may ask for it all again.
    let res = app
        .token(
            &app.demo,
            &[
                ("grant_type", "refresh_token"),
                ("refresh_token", &field(&narrowed, "refresh_token")),
                ("scope", "read write"),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
}

async fn a_refresh_token_only_works_for_the_client_it_was_issued_to(db: TestDatabase) {
    let app = spawn_app(db).await;
    let first = app.password_tokens("read").await;
    let res = app
        .post_form(
            "/o/token/",
            None,
            &[
                ("grant_type", "refresh_token"),
                ("client_id", "public-app"),
                ("refresh_token", &field(&first, "refresh_token")),
            ],
        )
        .await;
    assert_eq!(
        oauth_error(res).await,
        (StatusCode::BAD_REQUEST, "invalid_grant".into())
    );
    // The rightful client can still use it.
    assert_eq!(
        app.refresh(&app.demo, &field(&first, "refresh_token"))
            .await
            .status(),
        StatusCode::OK
    );
}

async fn an_unknown_or_access_token_as_refresh_token_is_invalid_grant(db: TestDatabase) {
    let app = spawn_app(db).await;
    let first = app.password_tokens("read").await;
    for token in ["made-up", first["access_token"].as_str().unwrap()] {
        let res = app.refresh(&app.demo, token).await;
        assert_eq!(
            oauth_error(res).await,
            (StatusCode::BAD_REQUEST, "invalid_grant".into())
        );
    }
}

async fn of_concurrent_refreshes_with_one_token_exactly_one_succeeds(db: TestDatabase) {
    let app = spawn_app(db).await;
    for _round in 0..3 {
        let first = app.password_tokens("read").await;
        let refresh = field(&first, "refresh_token");
        let attempts = (0..8).map(|_| app.refresh(&app.demo, &refresh));
        let statuses: Vec<StatusCode> = join_all(attempts)
            .await
            .iter()
            .map(|r| r.status())
            .collect();
        let ok = statuses.iter().filter(|s| **s == StatusCode::OK).count();
        assert_eq!(ok, 1, "{statuses:?}");
        assert!(
            statuses
                .iter()
                .all(|s| *s == StatusCode::OK || *s == StatusCode::BAD_REQUEST),
            "{statuses:?}"
        );
    }
}

on_both_backends!(
    a_refresh_rotates_the_refresh_token_and_revokes_the_old_access_token,
    presenting_a_rotated_refresh_token_revokes_the_whole_grant,
    a_refresh_may_narrow_the_scope_but_never_widen_it,
    a_refresh_token_only_works_for_the_client_it_was_issued_to,
    an_unknown_or_access_token_as_refresh_token_is_invalid_grant,
    of_concurrent_refreshes_with_one_token_exactly_one_succeeds,
);
