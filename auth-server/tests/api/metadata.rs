use reqwest::StatusCode;
use serde_json::json;
use serde_json::Value;
use test_support::on_both_backends;
use test_support::TestDatabase;

use crate::helpers::*;

async fn the_metadata_document_names_every_endpoint_under_the_issuer(db: TestDatabase) {
    let app = spawn_app_with(db, &[("AUTH_ISSUER", "https://auth.example.com/")]).await;
    let res = app
        .http
        .get(app.url("/.well-known/oauth-authorization-server"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let doc: Value = res.json().await.unwrap();
    assert_eq!(doc["issuer"], "https://auth.example.com");
    assert_eq!(doc["token_endpoint"], "https://auth.example.com/o/token/");
    assert_eq!(
        doc["introspection_endpoint"],
        "https://auth.example.com/o/introspect/"
    );
    assert_eq!(
        doc["revocation_endpoint"],
        "https://auth.example.com/o/revoke_token/"
    );
    assert_eq!(doc["scopes_supported"].as_array().unwrap().len(), 12);
    assert_eq!(
        doc["grant_types_supported"],
        serde_json::json!([
            "authorization_code",
            "password",
            "refresh_token",
            "client_credentials"
        ])
    );
    assert!(doc["token_endpoint_auth_methods_supported"]
        .as_array()
        .unwrap()
        .contains(&"client_secret_basic".into()));
}

async fn health_and_readiness_answer_while_the_database_does(db: TestDatabase) {
    let app = spawn_app(db).await;
    // The same paths and bodies as the resource server's, with the checks this server makes.
    for (path, expected) in [
        ("/healthz", json!({"status": "ok"})),
        ("/readyz", json!({"status": "ok", "database": "ok"})),
    ] {
        let res = app.http.get(app.url(path)).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::OK, "{path}");
        assert_eq!(res.json::<serde_json::Value>().await.unwrap(), expected);
    }
}

on_both_backends!(
    the_metadata_document_names_every_endpoint_under_the_issuer,
    health_and_readiness_answer_while_the_database_does,
);
