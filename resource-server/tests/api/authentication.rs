use reqwest::StatusCode;
use test_support::on_both_backends;
use test_support::TestDatabase;

use crate::helpers::*;

async fn a_request_without_credentials_gets_a_bearer_challenge(db: TestDatabase) {
    let app = spawn_app(db).await;
    for path in [
        "/users/",
        "/users/1/",
        "/groups/",
        "/albums/",
        "/songs/",
        "/songs/1/",
    ] {
        assert_not_authenticated(app.get(path, None).await).await;
    }
}

async fn an_unknown_token_is_an_invalid_token(db: TestDatabase) {
    let app = spawn_app(db).await;
    assert_invalid_token(app.get("/users/", Some("no-such-token")).await).await;
}

async fn a_malformed_bearer_header_is_an_invalid_token(db: TestDatabase) {
    let app = spawn_app(db).await;
    for header in [
        "Bearer",
        "Bearer ",
        "Bearer two words",
        "Bearer quo\"te",
        "bearer ===",
    ] {
        let res = app
            .request(reqwest::Method::GET, "/albums/", None)
            .header("Authorization", header)
            .send()
            .await
            .unwrap();
        assert_invalid_token(res).await;
    }
}

async fn another_authorization_scheme_is_not_authenticated(db: TestDatabase) {
    let app = spawn_app(db).await;
    let res = app
        .request(reqwest::Method::GET, "/users/", None)
        .basic_auth("tue", Some(PASSWORD))
        .send()
        .await
        .unwrap();
    assert_not_authenticated(res).await;
}

async fn the_bearer_scheme_is_case_insensitive(db: TestDatabase) {
    let app = spawn_app(db).await;
    let token = app.token("read").await;
    for scheme in ["bearer", "BEARER", "Bearer"] {
        let res = app
            .request(reqwest::Method::GET, "/users/", None)
            .header("Authorization", format!("{scheme} {token}"))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK, "{scheme}");
    }
}

async fn a_token_in_the_query_string_or_the_body_is_ignored(db: TestDatabase) {
    let app = spawn_app(db).await;
    let token = app.token("read write").await;
    assert_not_authenticated(
        app.get(&format!("/users/?access_token={token}"), None)
            .await,
    )
    .await;
    let res = app
        .send_form(
            reqwest::Method::POST,
            "/users/",
            None,
            &[
                ("access_token", &token),
                ("username", "x"),
                ("password", "y"),
            ],
        )
        .await;
    assert_not_authenticated(res).await;
}

async fn a_token_without_the_views_scopes_is_told_which_it_needs(db: TestDatabase) {
    let app = spawn_app(db).await;
    let read = app.token("read").await;
    let res = app
        .post_json("/users/", Some(&read), &serde_json::json!({}))
        .await;
    assert_insufficient_scope(res, "write").await;
    assert_insufficient_scope(app.get("/groups/", Some(&read)).await, "groups").await;
}

async fn a_revoked_token_keeps_working_only_while_its_answer_is_cached(db: TestDatabase) {
    let app = spawn_app_with(
        db,
        AuthServer::Real,
        &[("INTROSPECTION_CACHE_SECONDS", "2")],
    )
    .await;
    let token = app.token("read").await;
    assert_eq!(
        app.get("/users/", Some(&token)).await.status(),
        StatusCode::OK
    );
    app.revoke(&token).await;
    // The cached answer still says active for up to two seconds.
    assert_eq!(
        app.get("/users/", Some(&token)).await.status(),
        StatusCode::OK
    );
    tokio::time::sleep(std::time::Duration::from_millis(2500)).await;
    assert_invalid_token(app.get("/users/", Some(&token)).await).await;
}

async fn without_a_cache_a_revoked_token_is_refused_at_once(db: TestDatabase) {
    let app = spawn_app_with(
        db,
        AuthServer::Real,
        &[("INTROSPECTION_CACHE_SECONDS", "0")],
    )
    .await;
    let token = app.token("read").await;
    assert_eq!(
        app.get("/users/", Some(&token)).await.status(),
        StatusCode::OK
    );
    app.revoke(&token).await;
    assert_invalid_token(app.get("/users/", Some(&token)).await).await;
}

async fn a_client_credentials_token_holds_no_model_permission(db: TestDatabase) {
    let app = spawn_app(db).await;
    let token = app.client_token("groups write").await;
    let res = app
        .post_json(
            "/groups/",
            Some(&token),
            &serde_json::json!({"name": "Band"}),
        )
        .await;
    assert_permission_denied(res).await;
}

async fn a_token_for_a_deleted_user_is_refused(db: TestDatabase) {
    let app = spawn_app_with(
        db,
        AuthServer::Real,
        &[("INTROSPECTION_CACHE_SECONDS", "0")],
    )
    .await;
    let id = app.add_user("gone", "pw-gone-123");
    let token = app.token_for("gone", "pw-gone-123", "read").await;
    assert_eq!(
        app.get("/users/", Some(&token)).await.status(),
        StatusCode::OK
    );
    let mut conn = app.pool.get().unwrap();
    store::users::delete(&mut conn, id).unwrap();
    assert_invalid_token(app.get("/users/", Some(&token)).await).await;
}

on_both_backends!(
    a_request_without_credentials_gets_a_bearer_challenge,
    an_unknown_token_is_an_invalid_token,
    a_malformed_bearer_header_is_an_invalid_token,
    another_authorization_scheme_is_not_authenticated,
    the_bearer_scheme_is_case_insensitive,
    a_token_in_the_query_string_or_the_body_is_ignored,
    a_token_without_the_views_scopes_is_told_which_it_needs,
    a_revoked_token_keeps_working_only_while_its_answer_is_cached,
    without_a_cache_a_revoked_token_is_refused_at_once,
    a_client_credentials_token_holds_no_model_permission,
    a_token_for_a_deleted_user_is_refused,
);
