use reqwest::StatusCode;
use serde_json::json;
use test_support::on_both_backends;
use test_support::TestDatabase;

use crate::helpers::*;

async fn listing_groups_needs_the_groups_scope(db: TestDatabase) {
    let app = spawn_app(db).await;
    let read = app.token("read write").await;
    assert_insufficient_scope(app.get("/groups/", Some(&read)).await, "groups").await;
    let token = app.token("groups").await;
    let (status, _, body) = parts(app.get("/groups/", Some(&token)).await).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        body,
        json!({"count": 0, "next": null, "previous": null, "results": []})
    );
}

async fn creating_a_group_needs_the_scope_and_then_add_group(db: TestDatabase) {
    let app = spawn_app(db).await;
    let token = app.token("groups").await;
    let res = app
        .post_json("/groups/", Some(&token), &json!({"name": "Band"}))
        .await;
    assert_permission_denied(res).await;
    let no_scope = app.token("read write").await;
    let res = app
        .post_json("/groups/", Some(&no_scope), &json!({"name": "Band"}))
        .await;
    assert_insufficient_scope(res, "groups").await;

    app.grant(app.user_id, &["add_group"]);
    let res = app
        .post_json("/groups/", Some(&token), &json!({"name": "Band"}))
        .await;
    let (status, _, body) = parts(res).await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(body["name"], "Band");
    assert!(body["id"].is_i64());
    let (_, _, list) = parts(app.get("/groups/", Some(&token)).await).await;
    assert!(list["results"]
        .as_array()
        .unwrap()
        .iter()
        .any(|g| g["name"] == "Band"));
}

async fn a_duplicate_or_missing_group_name_is_a_field_error(db: TestDatabase) {
    let app = spawn_app(db).await;
    app.grant(app.user_id, &["add_group"]);
    let token = app.token("groups").await;
    let res = app
        .send_form(
            reqwest::Method::POST,
            "/groups/",
            Some(&token),
            &[("name", "Band")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let res = app
        .post_json("/groups/", Some(&token), &json!({"name": "Band"}))
        .await;
    assert_field_errors(
        res,
        json!({"name": ["group with this name already exists."]}),
    )
    .await;
    let res = app.post_json("/groups/", Some(&token), &json!({})).await;
    assert_field_errors(res, json!({"name": ["This field is required."]})).await;
    let res = app
        .post_json("/groups/", Some(&token), &json!({"name": "  "}))
        .await;
    assert_field_errors(res, json!({"name": ["This field may not be blank."]})).await;
}

on_both_backends!(
    listing_groups_needs_the_groups_scope,
    creating_a_group_needs_the_scope_and_then_add_group,
    a_duplicate_or_missing_group_name_is_a_field_error,
);
