use reqwest::StatusCode;
use test_support::on_both_backends;
use test_support::TestDatabase;

use crate::helpers::*;

async fn a_wrong_secret_is_invalid_client_with_a_basic_challenge(db: TestDatabase) {
    let app = spawn_app(db).await;
    let wrong = Client {
        id: "demo".into(),
        secret: Some("not-the-secret".into()),
    };
    let res = app
        .token(&wrong, &[("grant_type", "client_credentials")])
        .await;
    assert_eq!(res.headers()["www-authenticate"], r#"Basic realm="oauth""#);
    assert_eq!(res.headers()["cache-control"], "no-store");
    assert_eq!(
        oauth_error(res).await,
        (StatusCode::UNAUTHORIZED, "invalid_client".into())
    );

    let unknown = Client {
        id: "nobody".into(),
        secret: Some("x".into()),
    };
    let res = app
        .token(&unknown, &[("grant_type", "client_credentials")])
        .await;
    assert_eq!(
        oauth_error(res).await,
        (StatusCode::UNAUTHORIZED, "invalid_client".into())
    );
}

async fn a_wrong_secret_in_the_body_is_invalid_client_without_a_challenge(db: TestDatabase) {
    let app = spawn_app(db).await;
    let res = app
        .post_form(
            "/o/token/",
            None,
            &[
                ("grant_type", "client_credentials"),
                ("client_id", "demo"),
                ("client_secret", "nope"),
            ],
        )
        .await;
    assert!(res.headers().get("www-authenticate").is_none());
    assert_eq!(
        oauth_error(res).await,
        (StatusCode::UNAUTHORIZED, "invalid_client".into())
    );
}

async fn no_client_credentials_at_all_is_invalid_client(db: TestDatabase) {
    let app = spawn_app(db).await;
    let res = app
        .post_form(
            "/o/token/",
            None,
            &[
                ("grant_type", "password"),
                ("username", "tue"),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(
        oauth_error(res).await,
        (StatusCode::UNAUTHORIZED, "invalid_client".into())
    );
}

async fn a_confidential_client_without_its_secret_is_invalid_client(db: TestDatabase) {
    let app = spawn_app(db).await;
    let res = app
        .post_form(
            "/o/token/",
            None,
            &[("grant_type", "client_credentials"), ("client_id", "demo")],
        )
        .await;
    assert_eq!(
        oauth_error(res).await,
        (StatusCode::UNAUTHORIZED, "invalid_client".into())
    );
}

async fn credentials_in_both_the_header_and_the_body_are_invalid_request(db: TestDatabase) {
    let app = spawn_app(db).await;
    let secret = app.demo.secret.clone().unwrap();
    let res = app
        .token(
            &app.demo,
            &[
                ("grant_type", "client_credentials"),
                ("client_id", "demo"),
                ("client_secret", &secret),
            ],
        )
        .await;
    assert_eq!(
        oauth_error(res).await,
        (StatusCode::BAD_REQUEST, "invalid_request".into())
    );
}

async fn a_grant_the_client_may_not_use_is_unauthorized_client(db: TestDatabase) {
    let app = spawn_app(db).await;
    let res = app
        .token(
            &app.machine,
            &[
                ("grant_type", "password"),
                ("username", "tue"),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(
        oauth_error(res).await,
        (StatusCode::BAD_REQUEST, "unauthorized_client".into())
    );

    let res = app
        .post_form(
            "/o/token/",
            None,
            &[
                ("grant_type", "client_credentials"),
                ("client_id", "public-app"),
            ],
        )
        .await;
    assert_eq!(
        oauth_error(res).await,
        (StatusCode::BAD_REQUEST, "unauthorized_client".into())
    );
}

async fn an_unknown_grant_type_is_unsupported_grant_type(db: TestDatabase) {
    let app = spawn_app(db).await;
    for grant in [
        "implicit",
        "token",
        "urn:ietf:params:oauth:grant-type:jwt-bearer",
    ] {
        let res = app.token(&app.demo, &[("grant_type", grant)]).await;
        assert_eq!(
            oauth_error(res).await,
            (StatusCode::BAD_REQUEST, "unsupported_grant_type".into())
        );
    }
}

async fn scopes_must_be_configured_allowed_and_well_formed(db: TestDatabase) {
    let app = spawn_app(db).await;
    for scope in ["read admin", "introspection", "read \"write\""] {
        let res = app
            .token(
                &app.demo,
                &[
                    ("grant_type", "password"),
                    ("username", "tue"),
                    ("password", PASSWORD),
                    ("scope", scope),
                ],
            )
            .await;
        assert_eq!(
            oauth_error(res).await,
            (StatusCode::BAD_REQUEST, "invalid_scope".into()),
            "scope {scope:?}"
        );
    }
    let res = app
        .token(
            &app.machine,
            &[("grant_type", "client_credentials"), ("scope", "write")],
        )
        .await;
    assert_eq!(
        oauth_error(res).await,
        (StatusCode::BAD_REQUEST, "invalid_scope".into())
    );
}

async fn missing_parameters_are_invalid_request(db: TestDatabase) {
    let app = spawn_app(db).await;
    for params in [
        vec![],
        vec![("grant_type", "password"), ("username", "tue")],
        vec![("grant_type", "password"), ("password", PASSWORD)],
        vec![("grant_type", "refresh_token")],
        vec![
            ("grant_type", "password"),
            ("username", ""),
            ("password", PASSWORD),
        ],
    ] {
        let res = app.token(&app.demo, &params).await;
        assert_eq!(
            oauth_error(res).await,
            (StatusCode::BAD_REQUEST, "invalid_request".into()),
            "{params:?}"
        );
    }
}

async fn a_wrong_password_and_an_unknown_user_get_the_same_answer(db: TestDatabase) {
    let app = spawn_app(db).await;
    let mut bodies = Vec::new();
    for (user, password) in [
        ("tue", "wrong"),
        ("nobody", PASSWORD),
        ("nobody@example.com", "x"),
    ] {
        let res = app
            .token(
                &app.demo,
                &[
                    ("grant_type", "password"),
                    ("username", user),
                    ("password", password),
                ],
            )
            .await;
        assert_eq!(res.status(), StatusCode::BAD_REQUEST);
        bodies.push(res.text().await.unwrap());
    }
    assert!(bodies.iter().all(|b| b == &bodies[0]), "{bodies:?}");
    assert!(bodies[0].contains("invalid_grant"));
}

async fn malformed_bodies_are_invalid_request(db: TestDatabase) {
    let app = spawn_app(db).await;
    let url = app.url("/o/token/");
    let secret = app.demo.secret.clone().unwrap();
    let send = |body: Vec<u8>, content_type: &'static str| {
        app.http
            .post(&url)
            .basic_auth("demo", Some(&secret))
            .header("content-type", content_type)
            .body(body)
            .send()
    };
    let cases: Vec<(Vec<u8>, &str)> = vec![
        (
            br#"{"grant_type":"client_credentials"}"#.to_vec(),
            "application/json",
        ),
        (b"grant_type=client_credentials".to_vec(), "text/plain"),
        (
            b"grant_type=client_credentials&grant_type=password".to_vec(),
            "application/x-www-form-urlencoded",
        ),
        (
            b"grant_type=client_credentials&scope=\xff\xfe".to_vec(),
            "application/x-www-form-urlencoded",
        ),
        (
            format!(
                "grant_type=client_credentials&pad={}",
                "a".repeat(64 * 1024)
            )
            .into_bytes(),
            "application/x-www-form-urlencoded",
        ),
    ];
    for (body, content_type) in cases {
        let res = send(body, content_type).await.unwrap();
        assert_eq!(
            oauth_error(res).await,
            (StatusCode::BAD_REQUEST, "invalid_request".into()),
            "{content_type}"
        );
    }
    // A malformed Basic header is a failed client authentication, not a crash.
    for header in ["Basic !!!", "Basic ", "Basic ZGVtbw=="] {
        let res = app
            .http
            .post(&url)
            .header("authorization", header)
            .form(&[("grant_type", "client_credentials")])
            .send()
            .await
            .unwrap();
        assert_eq!(
            oauth_error(res).await.0,
            StatusCode::UNAUTHORIZED,
            "{header}"
        );
    }
}

async fn the_token_endpoint_only_answers_post(db: TestDatabase) {
    let app = spawn_app(db).await;
    let res = app.http.get(app.url("/o/token/")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::METHOD_NOT_ALLOWED);
}

on_both_backends!(
    a_wrong_secret_is_invalid_client_with_a_basic_challenge,
    a_wrong_secret_in_the_body_is_invalid_client_without_a_challenge,
    no_client_credentials_at_all_is_invalid_client,
    a_confidential_client_without_its_secret_is_invalid_client,
    credentials_in_both_the_header_and_the_body_are_invalid_request,
    a_grant_the_client_may_not_use_is_unauthorized_client,
    an_unknown_grant_type_is_unsupported_grant_type,
    scopes_must_be_configured_allowed_and_well_formed,
    missing_parameters_are_invalid_request,
    a_wrong_password_and_an_unknown_user_get_the_same_answer,
    malformed_bodies_are_invalid_request,
    the_token_endpoint_only_answers_post,
);

async fn a_client_deleted_while_its_authentication_is_cached_gets_invalid_client(db: TestDatabase) {
    let app = spawn_app(db).await;
    let res = app
        .token(&app.machine, &[("grant_type", "client_credentials")])
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let mut conn = app.pool.get().unwrap();
    assert!(auth_store::applications::delete_by_client_id(&mut conn, "machine").unwrap());
    let res = app
        .token(&app.machine, &[("grant_type", "client_credentials")])
        .await;
    assert_eq!(
        oauth_error(res).await,
        (StatusCode::UNAUTHORIZED, "invalid_client".into())
    );
}

async fn without_the_client_cache_a_new_secret_takes_effect_at_once(db: TestDatabase) {
    let app = spawn_app_with(db, &[("CLIENT_CACHE_SECONDS", "0")]).await;
    let res = app
        .token(&app.machine, &[("grant_type", "client_credentials")])
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let mut conn = app.pool.get().unwrap();
    auth_store::applications::set_secret_hash(
        &mut conn,
        "machine",
        &oauth_core::secrets::sha256_hex("rotated"),
    )
    .unwrap();
    let res = app
        .token(&app.machine, &[("grant_type", "client_credentials")])
        .await;
    assert_eq!(
        oauth_error(res).await,
        (StatusCode::UNAUTHORIZED, "invalid_client".into())
    );
}

on_both_backends!(
    a_client_deleted_while_its_authentication_is_cached_gets_invalid_client,
    without_the_client_cache_a_new_secret_takes_effect_at_once,
);
