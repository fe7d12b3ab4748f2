use oauth_core::scopes::DEFAULT_SCOPES;
use reqwest::StatusCode;
use resource_server::route_table::ROUTES;
use serde_json::{json, Value};
use test_support::on_both_backends;
use test_support::TestDatabase;

use crate::helpers::*;

async fn the_openapi_document_states_each_operations_security(db: TestDatabase) {
    let app = spawn_app(db).await;
    let res = app.get("/openapi.json", None).await;
    assert_eq!(res.status(), StatusCode::OK);
    let doc: Value = res.json().await.unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"));
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

/// Every path and method the server mounts from its route table is in the served document, with
/// its policy's scope alternatives as its security.
async fn the_served_document_lists_every_mounted_route_with_its_policys_scopes(db: TestDatabase) {
    let app = spawn_app(db).await;
    let doc: Value = app.get("/openapi.json", None).await.json().await.unwrap();
    for route in ROUTES {
        for op in route.operations {
            let method = op.method.as_str().to_ascii_lowercase();
            let operation = &doc["paths"][route.path][&method];
            assert_eq!(operation["operationId"], op.name, "{method} {}", route.path);
            let alternatives = route
                .policy_for(&op.method)
                .requirements(&op.method)
                .unwrap_or_default();
            let expected: Vec<Value> = alternatives
                .into_iter()
                .map(|scopes| json!({ "oauth2": scopes }))
                .collect();
            assert_eq!(
                operation["security"],
                json!(expected),
                "{method} {}",
                route.path
            );
        }
    }
}

/// The authorization code flow is what the docs page signs in with: its URLs are the auth server's
/// as a browser reaches it (AUTH_PUBLIC_URL), not the address the resource server introspects at.
async fn the_oauth2_scheme_points_a_browser_at_the_public_auth_server(db: TestDatabase) {
    let app = spawn_app_with(
        db,
        AuthServer::At(format!("http://127.0.0.1:{}/o/introspect/", free_port())),
        &[("AUTH_PUBLIC_URL", "https://auth.example.com/")],
    )
    .await;
    let doc: Value = app.get("/openapi.json", None).await.json().await.unwrap();
    let scheme = &doc["components"]["securitySchemes"]["oauth2"];
    assert_eq!(scheme["type"], "oauth2");
    let flows = &scheme["flows"];
    let code = &flows["authorizationCode"];
    assert_eq!(
        code["authorizationUrl"],
        "https://auth.example.com/o/authorize/"
    );
    for flow in ["authorizationCode", "password", "clientCredentials"] {
        assert_eq!(
            flows[flow]["tokenUrl"], "https://auth.example.com/o/token/",
            "{flow}"
        );
        // Every configured scope, with the description the consent page shows.
        let scopes = flows[flow]["scopes"].as_object().unwrap();
        assert_eq!(scopes.len(), DEFAULT_SCOPES.len(), "{flow}");
        for (scope, description) in DEFAULT_SCOPES {
            assert_eq!(scopes[scope], description, "{flow}: {scope}");
        }
    }
    // Each operation's alternatives name scopes the scheme declares, so Swagger UI can ask for
    // them; the alternatives themselves are checked against the route table above.
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            for requirement in operation["security"].as_array().unwrap() {
                for scope in requirement["oauth2"].as_array().unwrap() {
                    let scope = scope.as_str().unwrap();
                    assert!(
                        code["scopes"][scope].is_string(),
                        "{method} {path}: {scope} is not declared"
                    );
                }
            }
        }
    }
    // The pages are open: they need no token.
    assert_eq!(doc["paths"]["/"]["get"]["security"], json!([]));
    assert_eq!(doc["paths"]["/docs/"]["get"]["security"], json!([]));
}

/// The username limit the document states is the one POST /users/ enforces.
async fn the_documented_username_limit_is_the_enforced_one(db: TestDatabase) {
    let app = spawn_app(db).await;
    let doc: Value = app.get("/openapi.json", None).await.json().await.unwrap();
    let username = &doc["components"]["schemas"]["UserCreate"]["properties"]["username"];
    let max = username["maxLength"].as_u64().unwrap() as usize;
    assert_eq!(max, 150);
    let token = app.token("write").await;

    let res = app
        .post_json(
            "/users/",
            Some(&token),
            &json!({"username": "u".repeat(max + 1), "password": "pw-pw-pw-pw"}),
        )
        .await;
    assert_field_errors(
        res,
        json!({"username": [format!("Ensure this field has no more than {max} characters.")]}),
    )
    .await;

    let res = app
        .post_json(
            "/users/",
            Some(&token),
            &json!({"username": "u".repeat(max), "password": "pw-pw-pw-pw"}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
}

async fn the_documented_password_rule_is_the_enforced_one(db: TestDatabase) {
    let app = spawn_app(db).await;
    let doc: Value = app.get("/openapi.json", None).await.json().await.unwrap();
    let schemas = &doc["components"]["schemas"];
    let password = &schemas["UserCreate"]["properties"]["password"];
    let min = password["minLength"].as_u64().unwrap() as usize;
    assert_eq!(min, 8);
    assert_eq!(password["writeOnly"], true);
    assert!(password["description"]
        .as_str()
        .unwrap()
        .contains("72 bytes"));
    // maxLength would count characters; the limit counts bytes.
    assert!(password["maxLength"].is_null());
    let current = &schemas["PatchedUserUpdate"]["properties"]["current_password"];
    assert_eq!(current["writeOnly"], true);
    assert!(current["description"]
        .as_str()
        .unwrap()
        .contains("own password"));
    assert!(schemas["UserCreate"]["properties"]["current_password"].is_null());

    let token = app.token("write").await;
    let res = app
        .post_json(
            "/users/",
            Some(&token),
            &json!({"username": "ann", "password": "p".repeat(min - 1)}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    let res = app
        .post_json(
            "/users/",
            Some(&token),
            &json!({"username": "ann", "password": "p".repeat(min)}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
}

on_both_backends!(
    the_documented_password_rule_is_the_enforced_one,
    the_openapi_document_states_each_operations_security,
    the_served_document_lists_every_mounted_route_with_its_policys_scopes,
    the_oauth2_scheme_points_a_browser_at_the_public_auth_server,
    the_documented_username_limit_is_the_enforced_one,
);
