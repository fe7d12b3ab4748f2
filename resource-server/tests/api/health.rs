use reqwest::StatusCode;
use serde_json::json;
use test_support::on_both_backends;
use test_support::TestDatabase;

use crate::helpers::*;

async fn health_and_readiness_answer_without_a_token(db: TestDatabase) {
    let app = spawn_app(db).await;
    let (status, _, body) = parts(app.get("/healthz", None).await).await;
    assert_eq!((status, body), (StatusCode::OK, json!({"status": "ok"})));
    let (status, _, body) = parts(app.get("/readyz", None).await).await;
    assert_eq!(
        (status, body),
        (
            StatusCode::OK,
            json!({"status": "ok", "database": "ok", "auth_server": "ok"})
        )
    );
    // A bearer token on an open route is not even looked at.
    assert_eq!(
        app.get("/healthz", Some("garbage")).await.status(),
        StatusCode::OK
    );
}

async fn readiness_fails_while_the_auth_server_is_away(db: TestDatabase) {
    let url = format!("http://127.0.0.1:{}/o/introspect/", free_port());
    let app = spawn_app_with(db, AuthServer::At(url), &[]).await;
    assert_eq!(app.get("/healthz", None).await.status(), StatusCode::OK);
    let (status, _, body) = parts(app.get("/readyz", None).await).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(
        body,
        json!({"status": "unavailable", "database": "ok", "auth_server": "unavailable"})
    );
}

async fn an_unknown_path_is_a_json_404(db: TestDatabase) {
    let app = spawn_app(db).await;
    let (status, _, body) = parts(app.get("/nowhere/", None).await).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body["detail"], "Not found.");
}

on_both_backends!(
    health_and_readiness_answer_without_a_token,
    readiness_fails_while_the_auth_server_is_away,
    an_unknown_path_is_a_json_404,
);

/// PostgreSQL only: the server's database connections are cut under it. A cut connection fails
/// the request that draws it with a 503 (never a 500), is dropped when it goes back to the pool,
/// and service is full again within a few requests; a database that is really away is a 503
/// (faults.rs).
async fn cut_database_connections_are_replaced_and_requests_served(db: TestDatabase) {
    if !db.is_postgres() {
        return;
    }
    let server = wiremock::MockServer::start().await;
    wiremock::Mock::given(wiremock::matchers::method("POST"))
        .respond_with(
            wiremock::ResponseTemplate::new(200).set_body_json(serde_json::json!({
                "active": true, "scope": "read albums", "sub": "1", "exp": oauth_core::time::now() + 3600,
            })),
        )
        .mount(&server)
        .await;
    let app = spawn_app_with(
        db,
        AuthServer::At(format!("{}/o/introspect/", server.uri())),
        &[],
    )
    .await;
    assert_eq!(
        app.get("/albums/", Some("t")).await.status(),
        StatusCode::OK
    );
    {
        use diesel::RunQueryDsl;
        let mut conn = app.pool.get().unwrap();
        diesel::sql_query(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
             WHERE datname = current_database() AND pid <> pg_backend_pid()",
        )
        .execute(&mut *conn)
        .unwrap();
    }
    let mut statuses = Vec::new();
    for _ in 0..15 {
        let res = app.get("/albums/", Some("t")).await;
        let (status, _, body) = parts(res).await;
        assert!(
            status == StatusCode::OK || status == StatusCode::SERVICE_UNAVAILABLE,
            "{status}: {body}"
        );
        statuses.push(status);
    }
    assert!(
        statuses[statuses.len() - 5..]
            .iter()
            .all(|s| *s == StatusCode::OK),
        "{statuses:?}"
    );
}

on_both_backends!(cut_database_connections_are_replaced_and_requests_served);
