use reqwest::StatusCode;
use serde_json::{json, Value};
use test_support::on_both_backends;
use test_support::TestDatabase;

use crate::helpers::*;

async fn the_openapi_document_states_each_operations_security(db: TestDatabase) {
    let app = spawn_app(db).await;
    let res = app.get("/openapi.json", None).await;
    assert_eq!(res.status(), StatusCode::OK);
    let doc: Value = res.json().await.unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.0"));
    let flows = &doc["components"]["securitySchemes"]["oauth2"]["flows"];
    let token_url = format!("{}/o/token/", app.auth_base.as_deref().unwrap());
    assert_eq!(flows["password"]["tokenUrl"], token_url);
    assert_eq!(flows["clientCredentials"]["tokenUrl"], token_url);
    assert!(flows["password"]["scopes"]["music:write"].is_string());

    let op = |path: &str, method: &str| doc["paths"][path][method]["security"].clone();
    assert_eq!(op("/users/", "get"), json!([{"oauth2": ["read"]}]));
    assert_eq!(op("/users/", "post"), json!([{"oauth2": ["write"]}]));
    assert_eq!(op("/groups/", "post"), json!([{"oauth2": ["groups"]}]));
    assert_eq!(
        op("/albums/{id}/", "patch"),
        json!([{"oauth2": ["write", "albums"]}])
    );
    assert_eq!(op("/songs/", "get"), json!([{"oauth2": ["music:read"]}]));
    assert_eq!(
        op("/songs/{id}/", "get"),
        json!([{"oauth2": ["read"]}, {"oauth2": ["music:read"]}])
    );
    assert_eq!(
        op("/songs/{id}/", "put"),
        json!([{"oauth2": ["update"]}, {"oauth2": ["music:write"]}])
    );
    assert_eq!(
        op("/songs/{id}/", "delete"),
        json!([{"oauth2": ["delete"]}, {"oauth2": ["music:write", "write"]}])
    );
    assert!(doc["paths"]["/songs/{id}/"]["patch"].is_null());
    assert_eq!(op("/healthz", "get"), json!([]));
    let create_group = &doc["paths"]["/groups/"]["post"];
    assert!(create_group["description"]
        .as_str()
        .unwrap()
        .contains("add_group"));
    assert!(doc["paths"]["/create/album/"]["post"].is_object());
    assert!(doc["paths"]["/update/album/{id}/"]["put"].is_object());
}

on_both_backends!(the_openapi_document_states_each_operations_security);
