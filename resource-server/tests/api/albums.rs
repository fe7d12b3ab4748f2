use reqwest::{Method, StatusCode};
use serde_json::json;
use test_support::on_both_backends;
use test_support::TestDatabase;

use crate::helpers::*;

const RW: &str = "read write albums";

async fn an_album_goes_through_create_show_replace_change_and_delete(db: TestDatabase) {
    let app = spawn_app(db).await;
    let token = app.token(RW).await;
    let album = app.create_album(&token, "Second Album").await;
    assert_eq!(
        album,
        json!({"id": album["id"], "artist": app.user_id, "name": "Second Album", "release_date": "2021-06-15", "num_stars": 3})
    );
    let path = format!("/albums/{}/", album["id"]);
    let (status, _, shown) = parts(app.get(&path, Some(&token)).await).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(shown, album);

    let res = app
        .send_json(
            Method::PUT,
            &path,
            Some(&token),
            &json!({"artist": app.user_id, "name": "Third", "release_date": "2022-01-02", "num_stars": 5}),
        )
        .await;
    let (status, _, replaced) = parts(res).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(replaced["name"], "Third");
    assert_eq!(replaced["release_date"], "2022-01-02");

    let res = app
        .send_form(Method::PATCH, &path, Some(&token), &[("num_stars", "0")])
        .await;
    let (status, _, changed) = parts(res).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(changed["num_stars"], 0);
    assert_eq!(changed["name"], "Third");

    assert_eq!(
        app.delete(&path, Some(&token)).await.status(),
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        app.get(&path, Some(&token)).await.status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.delete(&path, Some(&token)).await.status(),
        StatusCode::NOT_FOUND
    );
}

async fn put_needs_every_field_and_patch_does_not(db: TestDatabase) {
    let app = spawn_app(db).await;
    let token = app.token(RW).await;
    let album = app.create_album(&token, "A").await;
    let path = format!("/albums/{}/", album["id"]);
    let res = app
        .send_json(Method::PUT, &path, Some(&token), &json!({"name": "B"}))
        .await;
    assert_field_errors(
        res,
        json!({
            "artist": ["This field is required."],
            "release_date": ["This field is required."],
            "num_stars": ["This field is required."],
        }),
    )
    .await;
    let res = app
        .send_json(Method::PATCH, &path, Some(&token), &json!({"name": "B"}))
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let res = app
        .send_json(Method::PUT, "/albums/424242/", Some(&token), &json!({}))
        .await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
}

async fn album_fields_are_validated_like_the_original(db: TestDatabase) {
    let app = spawn_app(db).await;
    let token = app.token(RW).await;
    let res = app
        .post_json(
            "/albums/",
            Some(&token),
            &json!({"artist": 9999, "name": "x".repeat(101), "release_date": "15/06/2021", "num_stars": 6}),
        )
        .await;
    assert_field_errors(
        res,
        json!({
            "artist": ["Invalid pk \"9999\" - object does not exist."],
            "name": ["Ensure this field has no more than 100 characters."],
            "release_date": ["Date has wrong format. Use one of these formats instead: YYYY-MM-DD."],
            "num_stars": ["Ensure this value is less than or equal to 5."],
        }),
    )
    .await;
    let res = app
        .send_form(
            Method::POST,
            "/albums/",
            Some(&token),
            &[
                ("artist", "abc"),
                ("name", "N"),
                ("release_date", "2021-02-30"),
                ("num_stars", "-1"),
            ],
        )
        .await;
    assert_field_errors(
        res,
        json!({
            "artist": ["Incorrect type. Expected pk value, received str."],
            "release_date": ["Date has wrong format. Use one of these formats instead: YYYY-MM-DD."],
            "num_stars": ["Ensure this value is greater than or equal to 0."],
        }),
    )
    .await;
    let res = app
        .post_json(
            "/albums/",
            Some(&token),
            &json!({"artist": true, "name": 5, "release_date": 20210615, "num_stars": "many"}),
        )
        .await;
    assert_field_errors(
        res,
        json!({
            "artist": ["Incorrect type. Expected pk value, received bool."],
            "release_date": ["Date has wrong format. Use one of these formats instead: YYYY-MM-DD."],
            "num_stars": ["A valid integer is required."],
        }),
    )
    .await;
}

async fn form_encoded_writes_work_like_json(db: TestDatabase) {
    let app = spawn_app(db).await;
    let token = app.token(RW).await;
    let artist = app.user_id.to_string();
    let res = app
        .send_form(
            Method::POST,
            "/albums/",
            Some(&token),
            &[
                ("artist", &artist),
                ("name", "Form"),
                ("release_date", "2021-06-15"),
                ("num_stars", "2"),
            ],
        )
        .await;
    let (status, _, body) = parts(res).await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(body["artist"], app.user_id);
    assert_eq!(body["num_stars"], 2);
}

async fn albums_need_read_or_write_plus_albums(db: TestDatabase) {
    let app = spawn_app(db).await;
    let read = app.token("read albums").await;
    assert_eq!(
        app.get("/albums/", Some(&read)).await.status(),
        StatusCode::OK
    );
    let res = app.post_json("/albums/", Some(&read), &json!({})).await;
    assert_insufficient_scope(res, "write albums").await;
    let plain = app.token("read write").await;
    assert_insufficient_scope(app.get("/albums/", Some(&plain)).await, "read albums").await;
    assert_insufficient_scope(app.delete("/albums/1/", Some(&plain)).await, "write albums").await;
}

async fn the_legacy_paths_share_the_album_handlers(db: TestDatabase) {
    let app = spawn_app(db).await;
    let token = app.token(RW).await;
    let res = app
        .post_json(
            "/create/album/",
            Some(&token),
            &json!({"artist": app.user_id, "name": "Legacy", "release_date": "2020-01-01", "num_stars": 1}),
        )
        .await;
    let (status, _, album) = parts(res).await;
    assert_eq!(status, StatusCode::CREATED);
    let path = format!("/update/album/{}/", album["id"]);
    let res = app
        .send_json(Method::PATCH, &path, Some(&token), &json!({"num_stars": 4}))
        .await;
    assert_eq!(parts(res).await.2["num_stars"], 4);
    let res = app
        .send_json(
            Method::PUT,
            &path,
            Some(&token),
            &json!({"artist": app.user_id, "name": "Legacy 2", "release_date": "2020-01-02", "num_stars": 2}),
        )
        .await;
    assert_eq!(parts(res).await.2["name"], "Legacy 2");
    assert_eq!(
        app.get("/create/album/", Some(&token)).await.status(),
        StatusCode::METHOD_NOT_ALLOWED
    );
    let read_only = app.token("read albums").await;
    let res = app
        .post_json("/create/album/", Some(&read_only), &json!({}))
        .await;
    assert_insufficient_scope(res, "write albums").await;
}

on_both_backends!(
    an_album_goes_through_create_show_replace_change_and_delete,
    put_needs_every_field_and_patch_does_not,
    album_fields_are_validated_like_the_original,
    form_encoded_writes_work_like_json,
    albums_need_read_or_write_plus_albums,
    the_legacy_paths_share_the_album_handlers,
);
