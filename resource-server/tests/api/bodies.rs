use reqwest::{Method, StatusCode};
use serde_json::json;
use test_support::on_both_backends;
use test_support::TestDatabase;

use crate::helpers::*;

async fn raw(
    app: &TestApp,
    token: &str,
    content_type: Option<&str>,
    body: Vec<u8>,
) -> reqwest::Response {
    let mut req = app
        .request(Method::POST, "/albums/", Some(token))
        .body(body);
    if let Some(ct) = content_type {
        req = req.header("Content-Type", ct);
    }
    req.send().await.unwrap()
}

async fn a_body_neither_json_nor_form_is_415(db: TestDatabase) {
    let app = spawn_app(db).await;
    let token = app.token("write albums").await;
    for ct in [
        Some("text/plain"),
        Some("multipart/form-data; boundary=x"),
        Some("nonsense"),
        None,
    ] {
        let (status, _, body) = parts(raw(&app, &token, ct, b"name=x".to_vec()).await).await;
        assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE, "{ct:?}");
        assert!(body["detail"].is_string());
    }
}

async fn json_with_a_charset_or_a_json_suffix_is_accepted(db: TestDatabase) {
    let app = spawn_app(db).await;
    let token = app.token("write albums").await;
    let body =
        json!({"artist": app.user_id, "name": "N", "release_date": "2021-06-15", "num_stars": 1});
    for ct in [
        "application/json; charset=utf-8",
        "application/merge-patch+json",
    ] {
        let res = raw(&app, &token, Some(ct), body.to_string().into_bytes()).await;
        assert_eq!(res.status(), StatusCode::CREATED, "{ct}");
    }
}

async fn malformed_bodies_are_400_with_a_detail(db: TestDatabase) {
    let app = spawn_app(db).await;
    let token = app.token("write albums").await;
    let (status, _, body) = parts(
        raw(
            &app,
            &token,
            Some("application/json"),
            b"{\"name\": ".to_vec(),
        )
        .await,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body["detail"]
        .as_str()
        .unwrap()
        .starts_with("JSON parse error"));
    let (status, _, body) =
        parts(raw(&app, &token, Some("application/json"), b"[1, 2]".to_vec()).await).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        body,
        json!({"non_field_errors": ["Invalid data. Expected a dictionary, but got list."]})
    );
    // Form decoding is lenient, as Django's is: bytes that are not UTF-8 become U+FFFD and the
    // fields are then validated as usual.
    let (status, _, body) = parts(
        raw(
            &app,
            &token,
            Some("application/x-www-form-urlencoded"),
            vec![0xff, b'=', 0xfe],
        )
        .await,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["name"], json!(["This field is required."]));
}

async fn a_body_over_64_kib_is_413(db: TestDatabase) {
    let app = spawn_app(db).await;
    let token = app.token("write albums").await;
    let big = json!({"name": "x".repeat(70 * 1024)})
        .to_string()
        .into_bytes();
    let (status, _, body) = parts(raw(&app, &token, Some("application/json"), big).await).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(body["detail"].is_string());
}

async fn the_token_is_checked_before_the_body(db: TestDatabase) {
    let app = spawn_app(db).await;
    let res = app
        .request(Method::POST, "/albums/", None)
        .header("Content-Type", "text/plain")
        .body("junk")
        .send()
        .await
        .unwrap();
    assert_not_authenticated(res).await;
}

async fn no_client_input_produces_a_server_error(db: TestDatabase) {
    let app = spawn_app(db).await;
    let token = app.token(ALL_SCOPES).await;
    app.grant(app.user_id, &["add_group", "change_user"]);
    let nasty = [
        json!({"name": "a\u{0}b", "title": "\u{0}", "username": "a\u{0}"}),
        json!({"artist": 2147483648i64, "album": -2147483649i64, "num_stars": 1e300, "duration_seconds": "1e10"}),
        json!({"artist": {"id": 1}, "release_date": "9999-12-31", "num_stars": [1]}),
        json!({"release_date": "0001-01-01", "email": "a@b.cd", "password": "p".repeat(129)}),
    ];
    let paths = [
        "/albums/",
        "/songs/",
        "/users/",
        "/groups/",
        "/albums/1/",
        "/songs/1/",
        "/users/1/",
    ];
    for body in &nasty {
        for path in paths {
            for method in [Method::POST, Method::PUT, Method::PATCH] {
                let res = app
                    .send_json(method.clone(), path, Some(&token), body)
                    .await;
                assert!(
                    res.status().is_client_error() || res.status().is_success(),
                    "{method} {path} {body}: {}",
                    res.status()
                );
            }
        }
    }
}

async fn an_empty_body_is_no_fields_whatever_its_type(db: TestDatabase) {
    let app = spawn_app(db).await;
    let token = app.token("read write albums").await;
    let album = app.create_album(&token, "Kept").await;
    let path = format!("/albums/{}/", album["id"]);
    for ct in [Some("application/json"), None] {
        let mut req = app.request(Method::PATCH, &path, Some(&token));
        if let Some(ct) = ct {
            req = req.header("Content-Type", ct);
        }
        let (status, _, body) = parts(req.send().await.unwrap()).await;
        assert_eq!(status, StatusCode::OK, "{ct:?}");
        assert_eq!(body, album);
    }
    let (status, _, body) = parts(raw(&app, &token, Some("application/json"), vec![]).await).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["name"], json!(["This field is required."]));
}

on_both_backends!(
    an_empty_body_is_no_fields_whatever_its_type,
    a_body_neither_json_nor_form_is_415,
    json_with_a_charset_or_a_json_suffix_is_accepted,
    malformed_bodies_are_400_with_a_detail,
    a_body_over_64_kib_is_413,
    the_token_is_checked_before_the_body,
    no_client_input_produces_a_server_error,
);
