use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use test_support::on_both_backends;
use test_support::TestDatabase;

use crate::helpers::*;

async fn a_song(app: &TestApp) -> Value {
    let albums = app.token("write albums").await;
    let album = app.create_album(&albums, "For songs").await;
    let token = app.token("music:write").await;
    let res = app
        .post_json(
            "/songs/",
            Some(&token),
            &json!({"album": album["id"], "title": "Intro", "duration_seconds": 215}),
        )
        .await;
    let (status, _, song) = parts(res).await;
    assert_eq!(status, StatusCode::CREATED, "{song}");
    song
}

async fn songs_need_the_music_resource_scopes(db: TestDatabase) {
    let app = spawn_app(db).await;
    let song = a_song(&app).await;
    assert_eq!(song["title"], "Intro");
    assert_eq!(song["duration_seconds"], 215);
    let read = app.token("music:read").await;
    let (status, _, list) = parts(app.get("/songs/", Some(&read)).await).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(list["results"][0], song);
    let res = app.post_json("/songs/", Some(&read), &json!({})).await;
    assert_insufficient_scope(res, "music:write").await;
    let rw = app.token("read write").await;
    assert_insufficient_scope(app.get("/songs/", Some(&rw)).await, "music:read").await;
}

async fn song_fields_are_validated(db: TestDatabase) {
    let app = spawn_app(db).await;
    let token = app.token("music:write").await;
    let res = app
        .post_json(
            "/songs/",
            Some(&token),
            &json!({"album": 777, "title": "", "duration_seconds": -1}),
        )
        .await;
    assert_field_errors(
        res,
        json!({
            "album": ["Invalid pk \"777\" - object does not exist."],
            "title": ["This field may not be blank."],
            "duration_seconds": ["Ensure this value is greater than or equal to 0."],
        }),
    )
    .await;
    let res = app
        .post_json(
            "/songs/",
            Some(&token),
            &json!({"duration_seconds": 99999999999i64}),
        )
        .await;
    assert_field_errors(
        res,
        json!({
            "album": ["This field is required."],
            "title": ["This field is required."],
            "duration_seconds": ["Ensure this value is less than or equal to 2147483647."],
        }),
    )
    .await;
}

async fn a_song_is_read_with_read_or_music_read(db: TestDatabase) {
    let app = spawn_app(db).await;
    let song = a_song(&app).await;
    let path = format!("/songs/{}/", song["id"]);
    for scope in ["read", "music:read"] {
        let token = app.token(scope).await;
        assert_eq!(
            app.get(&path, Some(&token)).await.status(),
            StatusCode::OK,
            "{scope}"
        );
    }
    let token = app.token("write").await;
    assert_insufficient_scope(app.get(&path, Some(&token)).await, "read").await;
}

async fn a_song_is_replaced_with_update_or_music_write(db: TestDatabase) {
    let app = spawn_app(db).await;
    let song = a_song(&app).await;
    let path = format!("/songs/{}/", song["id"]);
    for (scope, title) in [("update", "One"), ("music:write", "Two")] {
        let token = app.token(scope).await;
        let res = app
            .send_json(
                Method::PUT,
                &path,
                Some(&token),
                &json!({"album": song["album"], "title": title, "duration_seconds": 1}),
            )
            .await;
        let (status, _, body) = parts(res).await;
        assert_eq!(status, StatusCode::OK, "{scope}: {body}");
        assert_eq!(body["title"], title);
    }
    let token = app.token("write").await;
    let res = app
        .send_json(Method::PUT, &path, Some(&token), &json!({}))
        .await;
    assert_insufficient_scope(res, "update").await;
    let token = app.token("update").await;
    let res = app
        .send_json(Method::PUT, &path, Some(&token), &json!({"title": "x"}))
        .await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
}

async fn deleting_a_song_needs_delete_or_both_music_write_and_write(db: TestDatabase) {
    let app = spawn_app(db).await;
    let song = a_song(&app).await;
    let path = format!("/songs/{}/", song["id"]);
    let half = app.token("music:write").await;
    assert_insufficient_scope(app.delete(&path, Some(&half)).await, "delete").await;
    let both = app.token("music:write write").await;
    assert_eq!(
        app.delete(&path, Some(&both)).await.status(),
        StatusCode::NO_CONTENT
    );
    let delete = app.token("delete").await;
    assert_eq!(
        app.delete(&path, Some(&delete)).await.status(),
        StatusCode::NOT_FOUND
    );
}

async fn patch_and_post_on_a_song_are_refused_by_the_policy(db: TestDatabase) {
    let app = spawn_app(db).await;
    let song = a_song(&app).await;
    let path = format!("/songs/{}/", song["id"]);
    let everything = app.token(ALL_SCOPES).await;
    for method in [Method::PATCH, Method::POST] {
        let res = app
            .send_json(
                method.clone(),
                &path,
                Some(&everything),
                &json!({"title": "x"}),
            )
            .await;
        assert_permission_denied(res).await;
    }
    assert_not_authenticated(
        app.request(Method::PATCH, &path, None)
            .send()
            .await
            .unwrap(),
    )
    .await;
}

on_both_backends!(
    songs_need_the_music_resource_scopes,
    song_fields_are_validated,
    a_song_is_read_with_read_or_music_read,
    a_song_is_replaced_with_update_or_music_write,
    deleting_a_song_needs_delete_or_both_music_write_and_write,
    patch_and_post_on_a_song_are_refused_by_the_policy,
);
