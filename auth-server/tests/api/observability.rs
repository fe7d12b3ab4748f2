//! What operators see: `/metrics` counts what happened, by labels the server chose and never by
//! anything a client sent; every answer carries an `X-Request-Id`; `METRICS_BIND` moves
//! `/metrics` off the API's address.

use reqwest::StatusCode;
use test_support::on_both_backends;
use test_support::scrape::Scrape;
use test_support::TestDatabase;

use crate::helpers::*;

impl TestApp {
    async fn scrape(&self) -> Scrape {
        let res = self.http.get(self.url("/metrics")).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        assert!(res.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/openmetrics-text"));
        Scrape::parse(&res.text().await.unwrap())
    }
}

async fn metrics_count_grants_failures_introspections_and_requests(db: TestDatabase) {
    let app = spawn_app(db).await;
    let tokens = app.password_tokens("read").await;
    let access = tokens["access_token"].as_str().unwrap();
    for _ in 0..2 {
        let res = app
            .token(
                &app.demo,
                &[
                    ("grant_type", "password"),
                    ("username", "tue"),
                    ("password", "wrong password"),
                ],
            )
            .await;
        assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    }
    let res = app
        .token(&app.machine, &[("grant_type", "client_credentials")])
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(app.is_active(access).await);
    assert!(!app.is_active("no-such-token").await);
    let refreshed = app
        .refresh(&app.demo, tokens["refresh_token"].as_str().unwrap())
        .await;
    assert_eq!(refreshed.status(), StatusCode::OK);
    // The used refresh token again: a replay, which revokes the grant.
    let replay = app
        .refresh(&app.demo, tokens["refresh_token"].as_str().unwrap())
        .await;
    assert_eq!(replay.status(), StatusCode::BAD_REQUEST);

    let m = app.scrape().await;
    let issued = |grant, client| {
        m.sum(
            "oauth_tokens_issued_total",
            &[("grant", grant), ("client", client)],
        )
    };
    assert_eq!(issued("password", "demo"), 1.0);
    assert_eq!(issued("client_credentials", "machine"), 1.0);
    assert_eq!(issued("refresh_token", "demo"), 1.0);
    assert_eq!(m.sum("oauth_tokens_issued_total", &[]), 3.0);
    assert_eq!(m.sum("oauth_login_failures_total", &[]), 2.0);
    assert_eq!(m.sum("oauth_login_lockouts_total", &[]), 0.0);
    assert_eq!(
        m.sum(
            "oauth_token_reuse_detected_total",
            &[("grant", "refresh_token")]
        ),
        1.0
    );
    assert_eq!(
        m.sum("oauth_introspections_total", &[("active", "true")]),
        1.0
    );
    assert_eq!(
        m.sum("oauth_introspections_total", &[("active", "false")]),
        1.0
    );
    let token_requests = |status| {
        m.sum(
            "http_requests_total",
            &[
                ("route", "/o/token/"),
                ("method", "POST"),
                ("status", status),
            ],
        )
    };
    assert_eq!(token_requests("200"), 3.0);
    assert_eq!(token_requests("400"), 3.0);
    assert_eq!(
        m.sum(
            "http_request_duration_seconds_count",
            &[("route", "/o/token/"), ("method", "POST")]
        ),
        6.0
    );
    assert_eq!(
        m.sum(
            "http_requests_total",
            &[("route", "/o/introspect/"), ("status", "200")]
        ),
        2.0
    );
    // Group commit: the client_credentials token and the rotation each went through a batch of
    // its own kind; the replay was refused before any write was queued.
    for batch in ["access_tokens", "refresh_rotations"] {
        let of = |name| m.sum(name, &[("batch", batch)]);
        assert_eq!(of("db_batch_rows_count"), 1.0, "{batch}");
        assert_eq!(of("db_batch_rows_sum"), 1.0, "{batch}");
        assert_eq!(of("db_batch_queue_seconds_count"), 1.0, "{batch}");
        assert_eq!(of("db_batch_write_seconds_count"), 1.0, "{batch}");
        assert!(of("db_batch_write_seconds_sum") > 0.0, "{batch}");
    }
    // The pool and the build are there too.
    assert!(m.sum("db_pool_max_connections", &[]) >= 1.0);
    assert!(m.sum("db_pool_wait_seconds_count", &[]) >= 6.0);
    assert_eq!(m.matching("db_pool_connections", &[]).count(), 2);
    let build = m.matching("build_info", &[]).next().expect("build_info");
    assert_eq!(build.labels["service"], "auth-server");
    assert!(!build.labels["revision"].is_empty());
}

/// Secrets and ids sent in every place a client can put them; afterwards no label value is one
/// of them, the labels come from fixed sets, and hundreds of distinct paths add one series.
async fn no_label_carries_what_a_client_sent(db: TestDatabase) {
    let app = spawn_app(db).await;
    let access = app.password_tokens("read").await["access_token"]
        .as_str()
        .unwrap()
        .to_string();
    let before = app.scrape().await.samples.len();
    for i in 0..200 {
        let res = app
            .http
            .get(app.url(&format!(
                "/o/no-such-page-{i}/SECRET-PATH?token=SECRET-QUERY"
            )))
            .bearer_auth(&access)
            .header("x-request-id", format!("SECRET-ID-{i}"))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::NOT_FOUND);
    }
    let res = app
        .http
        .request(
            reqwest::Method::from_bytes(b"SECRETMETHOD").unwrap(),
            app.url("/o/token/"),
        )
        .send()
        .await
        .unwrap();
    assert!(res.status().is_client_error());
    let res = app
        .token(
            &app.demo,
            &[
                ("grant_type", "password"),
                ("username", "SECRET-USERNAME"),
                ("password", "SECRET-PASSWORD"),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    let res = app
        .http
        .post(app.url("/o/token/"))
        .basic_auth("SECRET-CLIENT", Some("SECRET-CLIENT-SECRET"))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);

    let text = app
        .http
        .get(app.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for secret in [
        "SECRET",
        access.as_str(),
        app.demo.secret.as_deref().unwrap(),
        PASSWORD,
    ] {
        assert!(!text.contains(secret), "{secret} in\n{text}");
    }
    let m = Scrape::parse(&text);
    let methods = [
        "GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "OTHER",
    ];
    for sample in &m.samples {
        for (name, value) in &sample.labels {
            match name.as_str() {
                "route" => assert!(value == "unmatched" || value.starts_with('/'), "{sample:?}"),
                "method" => assert!(methods.contains(&value.as_str()), "{sample:?}"),
                "status" => assert!(value.parse::<u16>().is_ok(), "{sample:?}"),
                "client" => assert!(["demo", "machine", "other"].contains(&value.as_str())),
                "le" | "grant" | "active" | "table" | "state" | "service" | "version"
                | "revision" | "batch" => {}
                other => panic!("unexpected label {other} in {sample:?}"),
            }
        }
    }
    assert_eq!(
        m.sum(
            "http_requests_total",
            &[("route", "unmatched"), ("method", "GET"), ("status", "404")]
        ),
        200.0
    );
    // 200 paths: one counter and one histogram more (its buckets, sum and count), plus the
    // few series of the other requests above.
    let added = m.samples.len() - before;
    assert!(added < 60, "{added} new series");
}

async fn every_answer_carries_a_request_id(db: TestDatabase) {
    let app = spawn_app(db).await;
    let id_of =
        |res: &reqwest::Response| res.headers()["x-request-id"].to_str().unwrap().to_string();
    let res = app
        .http
        .get(app.url("/healthz"))
        .header("x-request-id", "lb-7f3a:42")
        .send()
        .await
        .unwrap();
    assert_eq!(id_of(&res), "lb-7f3a:42");
    // Made when missing, different each time; replaced when it could forge a log line.
    let a = id_of(&app.http.get(app.url("/healthz")).send().await.unwrap());
    let b = id_of(&app.http.get(app.url("/healthz")).send().await.unwrap());
    assert_ne!(a, b);
    assert_eq!(a.len(), 36);
    let res = app
        .http
        .get(app.url("/healthz"))
        .header("x-request-id", "x\" status=200 forged=\"1")
        .send()
        .await
        .unwrap();
    assert_eq!(id_of(&res).len(), 36);
    // Errors too, in the OAuth format as before.
    let res = app
        .token(&app.demo, &[("grant_type", "no-such-grant")])
        .await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert_eq!(id_of(&res).len(), 36);
}

on_both_backends!(
    metrics_count_grants_failures_introspections_and_requests,
    no_label_carries_what_a_client_sent,
    every_answer_carries_a_request_id,
);

#[actix_web::test]
async fn metrics_bind_serves_metrics_on_its_own_address_only() {
    let db = TestDatabase::sqlite();
    store_signing_key(&db);
    let settings = auth_server::configuration::Settings::from_pairs(&[
        ("AUTH_BIND", "127.0.0.1:0"),
        ("METRICS_BIND", "127.0.0.1:0"),
        ("DATABASE_URL", db.url.as_str()),
        ("BCRYPT_COST", "4"),
        ("TOKEN_CLEANUP_INTERVAL_SECONDS", "0"),
    ])
    .unwrap();
    let app = auth_server::startup::Application::build(settings)
        .await
        .unwrap();
    let api = format!("http://127.0.0.1:{}", app.port());
    let metrics = format!("http://127.0.0.1:{}", app.metrics_port().unwrap());
    actix_web::rt::spawn(app.run_until_stopped());
    let http = reqwest::Client::new();
    let res = http.get(format!("{api}/metrics")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    http.get(format!("{api}/healthz")).send().await.unwrap();
    let res = http.get(format!("{metrics}/metrics")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let m = Scrape::parse(&res.text().await.unwrap());
    assert_eq!(
        m.sum(
            "http_requests_total",
            &[("route", "/healthz"), ("status", "200")]
        ),
        1.0
    );
    // The metrics address serves nothing else.
    let res = http.get(format!("{metrics}/healthz")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
}
