//! Hostile input at the auth server: NUL bytes, SQL-looking values, oversized heads, chunked
//! bodies past the limit, bytes that are not UTF-8, parameters nobody asked for. Each gets a 4xx
//! in the contract's format (or, for what the HTTP parser itself refuses, a bare 4xx), and no
//! row is written.

use reqwest::StatusCode;
use serde_json::Value;
use test_support::on_both_backends;
use test_support::{chunked_body, raw_http, row_counts, TestDatabase};

use crate::helpers::*;

fn addr(app: &TestApp) -> String {
    app.base.trim_start_matches("http://").to_string()
}

async fn nul_bytes_in_any_parameter_are_invalid_request_and_store_nothing(db: TestDatabase) {
    let app = spawn_app(db).await;
    let before = row_counts(&app.pool);
    let password = [
        ("grant_type", "password"),
        ("username", "tue"),
        ("password", PASSWORD),
        ("scope", "read"),
    ];
    for (i, name) in ["username", "password", "scope", "grant_type"]
        .iter()
        .enumerate()
    {
        let mut params = password.to_vec();
        let poisoned = format!("{}\0x", params[i].1);
        params[i] = (name, poisoned.as_str());
        let res = app.token(&app.demo, &params).await;
        assert_eq!(
            oauth_error(res).await,
            (StatusCode::BAD_REQUEST, "invalid_request".into()),
            "{name}"
        );
    }
    // client_id in the body, and a NUL in each endpoint's token parameter.
    let secret = app.demo.secret.clone().unwrap();
    let res = app
        .post_form(
            "/o/token/",
            None,
            &[
                ("grant_type", "client_credentials"),
                ("client_id", "demo\0"),
                ("client_secret", &secret),
            ],
        )
        .await;
    assert_eq!(oauth_error(res).await.1, "invalid_request");
    for path in ["/o/introspect/", "/o/revoke_token/"] {
        let res = app
            .post_form(path, Some(&app.introspector), &[("token", "a\0b")])
            .await;
        assert_eq!(
            oauth_error(res).await,
            (StatusCode::BAD_REQUEST, "invalid_request".into()),
            "{path}"
        );
    }
    assert_eq!(row_counts(&app.pool), before);
}

async fn a_nul_byte_in_basic_credentials_is_invalid_client(db: TestDatabase) {
    let app = spawn_app(db).await;
    for (id, secret) in [("demo%00", "x"), ("demo", "s%00"), ("%00", "%00")] {
        let res = app
            .http
            .post(app.url("/o/token/"))
            .basic_auth(id, Some(secret))
            .form(&[("grant_type", "client_credentials")])
            .send()
            .await
            .unwrap();
        assert_eq!(res.headers()["www-authenticate"], r#"Basic realm="oauth""#);
        assert_eq!(
            oauth_error(res).await,
            (StatusCode::UNAUTHORIZED, "invalid_client".into()),
            "{id}:{secret}"
        );
    }
}

async fn sql_looking_values_are_only_wrong_credentials(db: TestDatabase) {
    let app = spawn_app(db).await;
    let before = row_counts(&app.pool);
    for login in [
        "' OR 1=1 --",
        "tue' --",
        "tue' OR '1'='1",
        "\" OR \"\"=\"",
        "tue'; DROP TABLE users; --",
        "%' OR username LIKE '%",
    ] {
        for password in [PASSWORD, "' OR ''='"] {
            let res = app
                .token(
                    &app.demo,
                    &[
                        ("grant_type", "password"),
                        ("username", login),
                        ("password", password),
                    ],
                )
                .await;
            assert_eq!(
                oauth_error(res).await,
                (StatusCode::BAD_REQUEST, "invalid_grant".into()),
                "{login}"
            );
        }
    }
    let res = app
        .token(
            &app.demo,
            &[
                ("grant_type", "password"),
                ("username", "tue"),
                ("password", "' OR ''='"),
            ],
        )
        .await;
    assert_eq!(oauth_error(res).await.1, "invalid_grant");
    let sneaky = Client {
        id: "demo' --".into(),
        secret: Some("' OR 1=1 --".into()),
    };
    let res = app
        .token(&sneaky, &[("grant_type", "client_credentials")])
        .await;
    assert_eq!(oauth_error(res).await.1, "invalid_client");
    for token in ["' OR 1=1 --", "%", "_", "*"] {
        assert!(!app.is_active(token).await, "{token}");
        let res = app
            .post_form("/o/revoke_token/", Some(&app.demo), &[("token", token)])
            .await;
        assert_eq!(res.status(), StatusCode::OK);
    }
    let res = app.refresh(&app.demo, "' OR revoked_at IS NULL --").await;
    assert_eq!(oauth_error(res).await.1, "invalid_grant");
    // Failed logins are counted (login_failures); nothing else is written.
    assert_eq!(row_counts(&app.pool), before);
}

async fn a_body_sent_in_the_wrong_format_revokes_nothing(db: TestDatabase) {
    let app = spawn_app(db).await;
    let tokens = app.password_tokens("read").await;
    let access = tokens["access_token"].as_str().unwrap();
    let secret = app.demo.secret.clone().unwrap();
    for path in ["/o/revoke_token/", "/o/introspect/"] {
        for (content_type, body) in [
            ("application/json", format!(r#"{{"token":"{access}"}}"#)),
            ("text/plain", format!("token={access}")),
            ("multipart/form-data; boundary=x", format!("token={access}")),
        ] {
            let res = app
                .http
                .post(app.url(path))
                .basic_auth("demo", Some(&secret))
                .header("content-type", content_type)
                .body(body)
                .send()
                .await
                .unwrap();
            assert_eq!(
                oauth_error(res).await,
                (StatusCode::BAD_REQUEST, "invalid_request".into()),
                "{path} {content_type}"
            );
        }
    }
    assert!(app.is_active(access).await);
}

async fn parameters_nobody_asked_for_cannot_shape_the_grant(db: TestDatabase) {
    let app = spawn_app(db).await;
    let res = app
        .token(
            &app.demo,
            &[
                ("grant_type", "password"),
                ("username", "tue"),
                ("password", PASSWORD),
                ("scope", "read"),
                ("expires_in", "999999999"),
                ("token_type", "mac"),
                ("user_id", "999"),
                ("is_superuser", "1"),
                ("access_token", "chosen-by-the-client"),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["expires_in"], 36000);
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["scope"], "read");
    assert_ne!(body["access_token"], "chosen-by-the-client");
    let seen = app.introspect(body["access_token"].as_str().unwrap()).await;
    assert_eq!(seen["sub"], app.user_id.to_string());
}

async fn a_chunked_body_past_the_limit_is_refused_and_stores_nothing(db: TestDatabase) {
    let app = spawn_app(db).await;
    let before = row_counts(&app.pool);
    let secret = app.demo.secret.clone().unwrap();
    let basic = base64_basic("demo", &secret);
    let mut request = format!(
        "POST /o/token/ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\
         Authorization: {basic}\r\nContent-Type: application/x-www-form-urlencoded\r\n\
         Transfer-Encoding: chunked\r\n\r\n"
    )
    .into_bytes();
    let mut body = b"grant_type=client_credentials&pad=".to_vec();
    body.extend(std::iter::repeat_n(b'a', 20 * 1024));
    let mut chunked = Vec::new();
    for piece in body.chunks(1024) {
        chunked.extend_from_slice(format!("{:x}\r\n", piece.len()).as_bytes());
        chunked.extend_from_slice(piece);
        chunked.extend_from_slice(b"\r\n");
    }
    chunked.extend_from_slice(b"0\r\n\r\n");
    request.extend(chunked);
    let (status, body) = raw_http(&addr(&app), &request).await;
    assert_eq!(status, 400, "{body}");
    let body: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(body["error"], "invalid_request");
    assert_eq!(row_counts(&app.pool), before);
    // A chunked body of filler only (no grant at all) is refused the same way.
    let mut request = b"POST /o/introspect/ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\
        Content-Type: application/x-www-form-urlencoded\r\nTransfer-Encoding: chunked\r\n\r\n"
        .to_vec();
    request.extend(chunked_body(40 * 1024, b'a'));
    assert_eq!(raw_http(&addr(&app), &request).await.0, 400);
}

async fn oversized_heads_and_raw_bytes_are_4xx_without_a_crash(db: TestDatabase) {
    let app = spawn_app(db).await;
    let before = row_counts(&app.pool);
    let pad = "a".repeat(200 * 1024);
    let request =
        format!("POST /o/token/ HTTP/1.1\r\nHost: x\r\nConnection: close\r\nX-Pad: {pad}\r\n\r\n");
    let (status, _) = raw_http(&addr(&app), request.as_bytes()).await;
    assert_eq!(status, 431);
    // An Authorization header of bytes that are not UTF-8 is no credentials at all.
    let mut request = b"POST /o/token/ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\
        Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 29\r\n\
        Authorization: Basic \xff\xfe\r\n\r\n"
        .to_vec();
    request.extend_from_slice(b"grant_type=client_credentials");
    let (status, body) = raw_http(&addr(&app), &request).await;
    assert_eq!(status, 401, "{body}");
    let body: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(body["error"], "invalid_client");
    // A long but legal Basic header is a failed authentication.
    let res = app
        .http
        .post(app.url("/o/token/"))
        .basic_auth("x".repeat(8 * 1024), Some("y".repeat(8 * 1024)))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    assert_eq!(oauth_error(res).await.1, "invalid_client");
    assert_eq!(row_counts(&app.pool), before);
    // The server still serves.
    let res = app.http.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
}

async fn a_body_that_stops_arriving_is_refused_after_a_bounded_wait(db: TestDatabase) {
    let app = spawn_app(db).await;
    let before = row_counts(&app.pool);
    let secret = app.demo.secret.clone().unwrap();
    let request = format!(
        "POST /o/token/ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\
         Authorization: {}\r\nContent-Type: application/x-www-form-urlencoded\r\n\
         Content-Length: 100\r\n\r\ngrant_type=client_cre",
        base64_basic("demo", &secret)
    );
    // The client sends a third of its body and then nothing: the server answers on its own.
    let (status, body) = raw_http(&addr(&app), request.as_bytes()).await;
    assert_eq!(status, 400, "{body}");
    let body: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(body["error"], "invalid_request");
    assert_eq!(row_counts(&app.pool), before);
}

/// What a wrong password gets: a login nobody can have must get the very same answer.
async fn bad_credentials_answer(app: &TestApp, login: &str) -> (StatusCode, Value) {
    let res = app
        .token(
            &app.demo,
            &[
                ("grant_type", "password"),
                ("username", login),
                ("password", "wrong password"),
            ],
        )
        .await;
    (res.status(), res.json().await.unwrap())
}

async fn a_login_past_254_characters_is_invalid_grant_and_keys_a_bounded_row(db: TestDatabase) {
    let app = spawn_app(db).await;
    let before = row_counts(&app.pool);
    let wrong = bad_credentials_answer(&app, "tue").await;
    assert_eq!(wrong.0, StatusCode::BAD_REQUEST);
    assert_eq!(wrong.1["error"], "invalid_grant");
    let email_shaped = format!("{}@{}.com", "a".repeat(64), "b".repeat(300));
    for login in [
        "u".repeat(254),
        "u".repeat(255),
        "u".repeat(400),
        "é".repeat(300),
        email_shaped,
        "u".repeat(10_000),
    ] {
        assert_eq!(
            bad_credentials_answer(&app, &login).await,
            wrong,
            "{} characters",
            login.chars().count()
        );
    }
    // Unknown logins are counted under a hash of fixed length, never the login itself.
    use auth_store::schema::login_failures;
    use diesel::prelude::*;
    let accounts: Vec<String> = login_failures::table
        .select(login_failures::account)
        .load(&mut app.pool.get().unwrap())
        .unwrap();
    assert_eq!(accounts.len(), 7);
    assert!(accounts.iter().all(|a| a.len() <= 70), "{accounts:?}");
    assert_eq!(row_counts(&app.pool), before);
}

/// One request of the hostile-length test: where, as which client, with what, and the contract's
/// answer (status, and the `error` code when it is an error).
struct Probe {
    path: &'static str,
    client: Option<Client>,
    params: Vec<(&'static str, String)>,
    status: StatusCode,
    error: Option<&'static str>,
}

async fn ten_thousand_characters_in_any_parameter_get_the_contracts_answer(db: TestDatabase) {
    let app = spawn_app(db).await;
    let tokens = app.password_tokens("read").await;
    let before = row_counts(&app.pool);
    let huge = "a".repeat(10_000);
    let secret = app.demo.secret.clone().unwrap();
    let password_grant = |field: &'static str| {
        let mut params = vec![
            ("grant_type", "password".to_string()),
            ("username", "tue".to_string()),
            ("password", PASSWORD.to_string()),
            ("scope", "read".to_string()),
        ];
        params.retain(|(name, _)| *name != field);
        params.push((field, huge.clone()));
        params
    };
    let bad_request = StatusCode::BAD_REQUEST;
    let probe = |path, client: Option<&Client>, params, status, error| Probe {
        path,
        client: client.cloned(),
        params,
        status,
        error,
    };
    let probes = [
        probe(
            "/o/token/",
            Some(&app.demo),
            password_grant("username"),
            bad_request,
            Some("invalid_grant"),
        ),
        probe(
            "/o/token/",
            Some(&app.demo),
            password_grant("password"),
            bad_request,
            Some("invalid_grant"),
        ),
        probe(
            "/o/token/",
            Some(&app.demo),
            password_grant("scope"),
            bad_request,
            Some("invalid_scope"),
        ),
        probe(
            "/o/token/",
            Some(&app.demo),
            password_grant("grant_type"),
            bad_request,
            Some("unsupported_grant_type"),
        ),
        probe(
            "/o/token/",
            Some(&app.demo),
            vec![
                ("grant_type", "refresh_token".into()),
                ("refresh_token", huge.clone()),
            ],
            bad_request,
            Some("invalid_grant"),
        ),
        probe(
            "/o/token/",
            None,
            vec![
                ("grant_type", "client_credentials".into()),
                ("client_id", huge.clone()),
                ("client_secret", secret.clone()),
            ],
            StatusCode::UNAUTHORIZED,
            Some("invalid_client"),
        ),
        probe(
            "/o/token/",
            None,
            vec![
                ("grant_type", "client_credentials".into()),
                ("client_id", "demo".into()),
                ("client_secret", huge.clone()),
            ],
            StatusCode::UNAUTHORIZED,
            Some("invalid_client"),
        ),
        probe(
            "/o/token/",
            None,
            vec![
                ("grant_type", "password".into()),
                ("client_id", huge.clone()),
                ("username", "tue".into()),
                ("password", PASSWORD.into()),
            ],
            StatusCode::UNAUTHORIZED,
            Some("invalid_client"),
        ),
        probe(
            "/o/introspect/",
            Some(&app.introspector),
            vec![("token", huge.clone())],
            StatusCode::OK,
            None,
        ),
        probe(
            "/o/introspect/",
            Some(&app.introspector),
            vec![("token", "x".into()), ("token_type_hint", huge.clone())],
            StatusCode::OK,
            None,
        ),
        probe(
            "/o/introspect/",
            None,
            vec![
                ("token", "x".into()),
                ("client_id", huge.clone()),
                ("client_secret", "x".into()),
            ],
            StatusCode::UNAUTHORIZED,
            None,
        ),
        probe(
            "/o/revoke_token/",
            Some(&app.demo),
            vec![("token", huge.clone())],
            StatusCode::OK,
            None,
        ),
        probe(
            "/o/revoke_token/",
            Some(&app.demo),
            vec![("token", "x".into()), ("token_type_hint", huge.clone())],
            StatusCode::OK,
            None,
        ),
        probe(
            "/o/revoke_token/",
            None,
            vec![
                ("token", "x".into()),
                ("client_id", huge.clone()),
                ("client_secret", "x".into()),
            ],
            StatusCode::UNAUTHORIZED,
            Some("invalid_client"),
        ),
    ];
    for (i, p) in probes.iter().enumerate() {
        let params: Vec<(&str, &str)> = p.params.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let res = app.post_form(p.path, p.client.as_ref(), &params).await;
        let status = res.status();
        let text = res.text().await.unwrap();
        assert_eq!(status, p.status, "probe {i} at {}: {text}", p.path);
        if let Some(error) = p.error {
            let body: Value = serde_json::from_str(&text).unwrap();
            assert_eq!(body["error"], error, "probe {i} at {}", p.path);
        }
    }
    // The tokens issued before are untouched, and nothing was written.
    assert!(
        app.is_active(tokens["access_token"].as_str().unwrap())
            .await
    );
    assert_eq!(row_counts(&app.pool), before);
}

fn base64_basic(id: &str, secret: &str) -> String {
    use base64::Engine;
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{id}:{secret}"))
    )
}

on_both_backends!(
    a_login_past_254_characters_is_invalid_grant_and_keys_a_bounded_row,
    ten_thousand_characters_in_any_parameter_get_the_contracts_answer,
    nul_bytes_in_any_parameter_are_invalid_request_and_store_nothing,
    a_nul_byte_in_basic_credentials_is_invalid_client,
    sql_looking_values_are_only_wrong_credentials,
    a_body_sent_in_the_wrong_format_revokes_nothing,
    parameters_nobody_asked_for_cannot_shape_the_grant,
    a_chunked_body_past_the_limit_is_refused_and_stores_nothing,
    oversized_heads_and_raw_bytes_are_4xx_without_a_crash,
    a_body_that_stops_arriving_is_refused_after_a_bounded_wait,
);
