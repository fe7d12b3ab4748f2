use reqwest::StatusCode;
use serde_json::json;
use test_support::on_both_backends;
use test_support::TestDatabase;

use crate::helpers::*;

async fn lists_are_paged_by_twenty_with_absolute_links(db: TestDatabase) {
    let app = spawn_app(db).await;
    app.insert_albums(45);
    let token = app.token("read albums").await;
    let (status, _, first) = parts(app.get("/albums/", Some(&token)).await).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(first["count"], 45);
    assert_eq!(first["results"].as_array().unwrap().len(), 20);
    assert_eq!(first["next"], format!("{}/albums/?page=2", app.base));
    assert_eq!(first["previous"], json!(null));
    let (_, _, last) = parts(app.get("/albums/?page=3", Some(&token)).await).await;
    assert_eq!(last["results"].as_array().unwrap().len(), 5);
    assert_eq!(last["next"], json!(null));
    assert_eq!(last["previous"], format!("{}/albums/?page=2", app.base));
    let (_, _, second) = parts(app.get("/albums/?page=2", Some(&token)).await).await;
    assert_eq!(second["previous"], format!("{}/albums/", app.base));
    assert_eq!(second["results"][0]["name"], "Album 20");
}

async fn links_keep_the_other_query_parameters(db: TestDatabase) {
    let app = spawn_app(db).await;
    for i in 0..3 {
        app.add_user(&format!("user{i}"), "pw");
    }
    let token = app.token("read").await;
    let (_, _, body) = parts(
        app.get("/users/?page_size=2&email=&page=1", Some(&token))
            .await,
    )
    .await;
    assert_eq!(body["count"], 4);
    assert_eq!(
        body["next"],
        format!("{}/users/?page_size=2&email=&page=2", app.base)
    );
    let (_, _, body) = parts(app.get("/users/?page_size=2&page=2", Some(&token)).await).await;
    assert_eq!(body["previous"], format!("{}/users/?page_size=2", app.base));
}

async fn an_invalid_or_out_of_range_page_is_404(db: TestDatabase) {
    let app = spawn_app(db).await;
    app.insert_albums(3);
    let token = app.token("read albums").await;
    for query in [
        "page=0",
        "page=-1",
        "page=abc",
        "page=2",
        "page=99999999999999999999",
        "page=9223372036854775807",
    ] {
        let (status, _, body) =
            parts(app.get(&format!("/albums/?{query}"), Some(&token)).await).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{query}");
        assert_eq!(body, json!({"detail": "Invalid page."}), "{query}");
    }
    let empty = app.token("groups").await;
    let (status, _, body) = parts(app.get("/groups/?page=1", Some(&empty)).await).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["count"], 0);
}

async fn page_size_defaults_clamps_and_ignores_nonsense(db: TestDatabase) {
    let app = spawn_app(db).await;
    app.insert_albums(105);
    let token = app.token("read albums").await;
    for (query, expected) in [
        ("page_size=0", 20),
        ("page_size=abc", 20),
        ("page_size=-5", 20),
        ("page_size=101", 100),
        ("page_size=1000", 100),
        ("page_size=7", 7),
    ] {
        let (status, _, body) =
            parts(app.get(&format!("/albums/?{query}"), Some(&token)).await).await;
        assert_eq!(status, StatusCode::OK, "{query}");
        assert_eq!(
            body["results"].as_array().unwrap().len(),
            expected,
            "{query}"
        );
    }
}

on_both_backends!(
    lists_are_paged_by_twenty_with_absolute_links,
    links_keep_the_other_query_parameters,
    an_invalid_or_out_of_range_page_is_404,
    page_size_defaults_clamps_and_ignores_nonsense,
);
