use reqwest::StatusCode;
use serde_json::json;
use serde_json::Value;
use test_support::on_both_backends;
use test_support::TestDatabase;

use crate::helpers::*;

async fn get_json(app: &TestApp, path: &str) -> Value {
    let res = app.http.get(app.url(path)).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK, "{path}");
    assert_eq!(res.headers()["content-type"], "application/json", "{path}");
    res.json().await.unwrap()
}

async fn the_metadata_document_names_every_endpoint_under_the_issuer(db: TestDatabase) {
    let app = spawn_app_with(db, &[("AUTH_ISSUER", "https://auth.example.com/")]).await;
    let doc = get_json(&app, "/.well-known/oauth-authorization-server").await;
    assert_eq!(doc["issuer"], "https://auth.example.com");
    for (member, path) in [
        ("authorization_endpoint", "/o/authorize/"),
        ("token_endpoint", "/o/token/"),
        ("userinfo_endpoint", "/o/userinfo/"),
        ("jwks_uri", "/o/jwks/"),
        ("introspection_endpoint", "/o/introspect/"),
        ("revocation_endpoint", "/o/revoke_token/"),
        ("end_session_endpoint", "/o/logout/"),
    ] {
        assert_eq!(doc[member], format!("https://auth.example.com{path}"));
    }
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
    assert_eq!(doc["response_types_supported"], json!(["code"]));
    assert_eq!(doc["code_challenge_methods_supported"], json!(["S256"]));
    assert_eq!(doc["authorization_response_iss_parameter_supported"], true);
    assert!(doc["token_endpoint_auth_methods_supported"]
        .as_array()
        .unwrap()
        .contains(&"client_secret_basic".into()));
}

/// OpenID Connect Discovery 1.0: every member the contract lists, the same endpoints as RFC 8414.
async fn the_openid_configuration_has_every_member_of_the_contract(db: TestDatabase) {
    let app = spawn_app_with(db, &[("AUTH_ISSUER", "https://auth.example.com")]).await;
    let doc = get_json(&app, "/.well-known/openid-configuration").await;
    for member in [
        "issuer",
        "authorization_endpoint",
        "token_endpoint",
        "userinfo_endpoint",
        "jwks_uri",
        "introspection_endpoint",
        "revocation_endpoint",
        "end_session_endpoint",
        "scopes_supported",
        "grant_types_supported",
        "token_endpoint_auth_methods_supported",
        "claims_supported",
    ] {
        assert!(
            doc[member].is_string() || doc[member].as_array().is_some_and(|a| !a.is_empty()),
            "{member}: {doc}"
        );
    }
    assert_eq!(doc["issuer"], "https://auth.example.com");
    assert_eq!(doc["authorization_response_iss_parameter_supported"], true);
    assert_eq!(doc["response_types_supported"], json!(["code"]));
    assert_eq!(doc["subject_types_supported"], json!(["public"]));
    assert_eq!(
        doc["id_token_signing_alg_values_supported"],
        json!(["RS256"])
    );
    assert_eq!(doc["code_challenge_methods_supported"], json!(["S256"]));
    for scope in ["openid", "profile", "email"] {
        assert!(doc["scopes_supported"]
            .as_array()
            .unwrap()
            .contains(&scope.into()));
    }
    for claim in [
        "sub",
        "iss",
        "aud",
        "exp",
        "iat",
        "auth_time",
        "nonce",
        "at_hash",
        "preferred_username",
        "email",
    ] {
        assert!(
            doc["claims_supported"]
                .as_array()
                .unwrap()
                .contains(&claim.into()),
            "{claim}"
        );
    }

    // The RFC 8414 document is the same but for what only OpenID Connect defines.
    let oauth = get_json(&app, "/.well-known/oauth-authorization-server").await;
    let (openid, oauth) = (doc.as_object().unwrap(), oauth.as_object().unwrap());
    for (member, value) in oauth {
        assert_eq!(&openid[member], value, "{member}");
    }
    let mut only_openid: Vec<&str> = openid
        .keys()
        .filter(|k| !oauth.contains_key(*k))
        .map(|k| k.as_str())
        .collect();
    only_openid.sort();
    assert_eq!(
        only_openid,
        [
            "claims_supported",
            "id_token_signing_alg_values_supported",
            "subject_types_supported"
        ]
    );
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
    the_openid_configuration_has_every_member_of_the_contract,
    health_and_readiness_answer_while_the_database_does,
);
