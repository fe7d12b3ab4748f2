//! Introspection against a stand-in auth server: failures are 503 and never cached, answers are
//! cached for the TTL but never past the token's exp, and concurrent requests share one call.

use std::net::TcpListener;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use reqwest::StatusCode;
use serde_json::json;
use test_support::on_both_backends;
use test_support::TestDatabase;
use wiremock::matchers::{basic_auth, body_string_contains, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::helpers::*;

const TOKEN: &str = "tok-0123456789";

fn introspection() -> wiremock::MockBuilder {
    Mock::given(method("POST")).and(path("/o/introspect/"))
}

fn active(scope: &str, exp_in: i64) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(json!({
        "active": true, "scope": scope, "client_id": "demo", "username": "tue", "sub": "1",
        "token_type": "Bearer", "exp": oauth_core::time::now() + exp_in, "iat": oauth_core::time::now(),
    }))
}

async fn app_with_mock(db: TestDatabase, server: &MockServer, env: &[(&str, &str)]) -> TestApp {
    spawn_app_with(
        db,
        AuthServer::At(format!("{}/o/introspect/", server.uri())),
        env,
    )
    .await
}

async fn assert_unavailable(res: reqwest::Response) {
    let (status, challenge, body) = parts(res).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert_eq!(challenge, None);
    assert!(body["detail"].is_string());
}

async fn the_server_introspects_with_its_own_client_credentials(db: TestDatabase) {
    let server = MockServer::start().await;
    introspection()
        // RFC 6749 §2.3.1: form-urlencoded before base64.
        .and(basic_auth(
            RS_CLIENT_ID,
            "resource-server+secret%2B0123%2545%3A6789%2Fabcdef",
        ))
        .and(body_string_contains(format!("token={TOKEN}")))
        .respond_with(active("read", 3600))
        .expect(1)
        .mount(&server)
        .await;
    let app = app_with_mock(db, &server, &[]).await;
    assert_eq!(
        app.get("/users/", Some(TOKEN)).await.status(),
        StatusCode::OK
    );
    server.verify().await;
}

async fn garbage_answers_are_503_never_401(db: TestDatabase) {
    let server = MockServer::start().await;
    let app = app_with_mock(db, &server, &[]).await;
    let answers = [
        ResponseTemplate::new(200).set_body_string("<html>oops</html>"),
        ResponseTemplate::new(200).set_body_json(json!({"active": "yes"})),
        ResponseTemplate::new(200).set_body_json(json!([1, 2])),
        ResponseTemplate::new(200).set_body_string(""),
        ResponseTemplate::new(500).set_body_json(json!({"active": true, "scope": "read"})),
        ResponseTemplate::new(401).set_body_json(json!({"error": "invalid_client"})),
        ResponseTemplate::new(302).insert_header("Location", "/elsewhere"),
        ResponseTemplate::new(200).set_body_string(format!(
            "{{\"active\": true, \"scope\": \"{}\"}}",
            "r".repeat(70_000)
        )),
    ];
    for (i, answer) in answers.into_iter().enumerate() {
        server.reset().await;
        introspection().respond_with(answer).mount(&server).await;
        assert_unavailable(app.get("/users/", Some(&format!("garbage-{i}"))).await).await;
    }
}

async fn a_hanging_auth_server_is_503_after_the_timeout(db: TestDatabase) {
    let server = MockServer::start().await;
    introspection()
        .respond_with(active("read", 3600).set_delay(Duration::from_secs(5)))
        .mount(&server)
        .await;
    let app = app_with_mock(db, &server, &[("INTROSPECTION_TIMEOUT_MS", "300")]).await;
    assert_unavailable(app.get("/users/", Some(TOKEN)).await).await;
}

async fn an_unreachable_auth_server_is_503_and_the_service_recovers(db: TestDatabase) {
    let port = free_port();
    let url = format!("http://127.0.0.1:{port}/o/introspect/");
    let app = spawn_app_with(db, AuthServer::At(url), &[]).await;
    assert_unavailable(app.get("/users/", Some(TOKEN)).await).await;
    assert_unavailable(app.get("/users/", Some(TOKEN)).await).await;
    assert_eq!(
        app.get("/readyz", None).await.status(),
        StatusCode::SERVICE_UNAVAILABLE
    );

    // The auth server comes back on the same address; the failure was not cached.
    let listener = TcpListener::bind(("127.0.0.1", port)).unwrap();
    let server = MockServer::builder().listener(listener).start().await;
    introspection()
        .respond_with(active("read", 3600))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/healthz"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&server)
        .await;
    assert_eq!(
        app.get("/users/", Some(TOKEN)).await.status(),
        StatusCode::OK
    );
    assert_eq!(app.get("/readyz", None).await.status(), StatusCode::OK);
}

async fn a_failed_introspection_is_not_cached(db: TestDatabase) {
    let server = MockServer::start().await;
    introspection()
        .respond_with(ResponseTemplate::new(500))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    introspection()
        .respond_with(active("read", 3600))
        .mount(&server)
        .await;
    let app = app_with_mock(db, &server, &[]).await;
    assert_unavailable(app.get("/users/", Some(TOKEN)).await).await;
    assert_eq!(
        app.get("/users/", Some(TOKEN)).await.status(),
        StatusCode::OK
    );
}

/// A proxy in front of the auth servers answers 502-504 when the replica it chose went away
/// (a rolling restart) and, the request being a POST, does not try another: the resource server
/// asks once more, and only a second gateway error is a 503.
async fn a_gateway_error_is_asked_once_more(db: TestDatabase) {
    let server = MockServer::start().await;
    let app = app_with_mock(db, &server, &[("INTROSPECTION_CACHE_SECONDS", "0")]).await;
    for gateway_error in [502, 503, 504] {
        server.reset().await;
        introspection()
            .respond_with(ResponseTemplate::new(gateway_error))
            .up_to_n_times(1)
            .expect(1)
            .mount(&server)
            .await;
        introspection()
            .respond_with(active("read", 3600))
            .expect(1)
            .mount(&server)
            .await;
        assert_eq!(
            app.get("/users/", Some(TOKEN)).await.status(),
            StatusCode::OK,
            "{gateway_error}"
        );
        server.verify().await;
    }
    server.reset().await;
    introspection()
        .respond_with(ResponseTemplate::new(502))
        .expect(2)
        .mount(&server)
        .await;
    assert_unavailable(app.get("/users/", Some(TOKEN)).await).await;
    server.verify().await;
}

async fn concurrent_requests_with_one_new_token_share_one_introspection(db: TestDatabase) {
    let server = MockServer::start().await;
    introspection()
        .respond_with(active("read", 3600).set_delay(Duration::from_millis(300)))
        .expect(1)
        .mount(&server)
        .await;
    let app = app_with_mock(db, &server, &[]).await;
    let requests = (0..10).map(|_| app.get("/users/", Some(TOKEN)));
    for res in futures_util::future::join_all(requests).await {
        assert_eq!(res.status(), StatusCode::OK);
    }
    server.verify().await;
}

async fn answers_are_reused_within_the_ttl_and_asked_again_after(db: TestDatabase) {
    let server = MockServer::start().await;
    introspection()
        .respond_with(active("read", 3600))
        .expect(2)
        .mount(&server)
        .await;
    let app = app_with_mock(db, &server, &[("INTROSPECTION_CACHE_SECONDS", "1")]).await;
    for _ in 0..3 {
        assert_eq!(
            app.get("/users/", Some(TOKEN)).await.status(),
            StatusCode::OK
        );
    }
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(
        app.get("/users/", Some(TOKEN)).await.status(),
        StatusCode::OK
    );
    server.verify().await;
}

async fn a_ttl_of_zero_asks_every_time(db: TestDatabase) {
    let server = MockServer::start().await;
    introspection()
        .respond_with(active("read", 3600))
        .expect(3)
        .mount(&server)
        .await;
    let app = app_with_mock(db, &server, &[("INTROSPECTION_CACHE_SECONDS", "0")]).await;
    for _ in 0..3 {
        assert_eq!(
            app.get("/users/", Some(TOKEN)).await.status(),
            StatusCode::OK
        );
    }
    server.verify().await;
}

async fn an_inactive_answer_is_cached_for_the_ttl_only(db: TestDatabase) {
    let server = MockServer::start().await;
    introspection()
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"active": false})))
        .up_to_n_times(1)
        .expect(1)
        .mount(&server)
        .await;
    introspection()
        .respond_with(active("read", 3600))
        .mount(&server)
        .await;
    let app = app_with_mock(db, &server, &[("INTROSPECTION_CACHE_SECONDS", "1")]).await;
    assert_invalid_token(app.get("/users/", Some(TOKEN)).await).await;
    assert_invalid_token(app.get("/users/", Some(TOKEN)).await).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(
        app.get("/users/", Some(TOKEN)).await.status(),
        StatusCode::OK
    );
}

async fn a_cached_answer_is_never_used_past_the_tokens_exp(db: TestDatabase) {
    let server = MockServer::start().await;
    let app = app_with_mock(db, &server, &[("INTROSPECTION_CACHE_SECONDS", "3600")]).await;
    introspection()
        .respond_with(active("read", 2))
        .mount(&server)
        .await;
    assert_eq!(
        app.get("/users/", Some(TOKEN)).await.status(),
        StatusCode::OK
    );
    tokio::time::sleep(Duration::from_millis(3100)).await;
    assert_invalid_token(app.get("/users/", Some(TOKEN)).await).await;
}

async fn scopes_come_from_the_introspection_answer(db: TestDatabase) {
    let server = MockServer::start().await;
    introspection()
        .and(body_string_contains("token=reader"))
        .respond_with(active("read", 3600))
        .mount(&server)
        .await;
    introspection()
        .and(body_string_contains("token=machine"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "active": true, "scope": "groups write", "client_id": "demo", "token_type": "Bearer",
            "exp": oauth_core::time::now() + 3600,
        })))
        .mount(&server)
        .await;
    let app = app_with_mock(db, &server, &[]).await;
    assert_insufficient_scope(app.get("/albums/", Some("reader")).await, "read albums").await;
    // A token without `sub` acts for no user, so it holds no model permission.
    let res = app
        .post_json("/groups/", Some("machine"), &json!({"name": "x"}))
        .await;
    assert_permission_denied(res).await;
}

/// A stand-in auth server that answers the first request on each connection and closes the
/// connection when the next request arrives on it: what a client sees when the server's
/// keep-alive runs out, or the server restarts, just as a request goes out on an idle connection.
/// Returns its URL and how many connections it accepted.
fn auth_server_closing_after_one_answer() -> (String, Arc<AtomicUsize>) {
    use std::io::{BufRead, BufReader, Read, Write};

    fn read_request(reader: &mut BufReader<std::net::TcpStream>) -> bool {
        let mut length = 0;
        loop {
            let mut line = String::new();
            if reader.read_line(&mut line).unwrap_or(0) == 0 {
                return false;
            }
            let line = line.trim_end().to_ascii_lowercase();
            if line.is_empty() {
                break;
            }
            if let Some(value) = line.strip_prefix("content-length:") {
                length = value.trim().parse().unwrap_or(0);
            }
        }
        let mut body = vec![0; length];
        reader.read_exact(&mut body).is_ok()
    }

    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/o/introspect/", listener.local_addr().unwrap());
    let accepted = Arc::new(AtomicUsize::new(0));
    let counter = accepted.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            counter.fetch_add(1, Ordering::SeqCst);
            std::thread::spawn(move || {
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                if !read_request(&mut reader) {
                    return;
                }
                let body = json!({
                    "active": true, "scope": "read", "client_id": "demo", "sub": "1",
                    "exp": oauth_core::time::now() + 3600,
                })
                .to_string();
                let mut stream = stream;
                let answer = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
                    body.len()
                );
                stream.write_all(answer.as_bytes()).unwrap();
                // The next request is read, then the connection closes unanswered.
                read_request(&mut reader);
            });
        }
    });
    (url, accepted)
}

async fn a_kept_alive_connection_closed_by_the_auth_server_costs_no_request(db: TestDatabase) {
    let (url, accepted) = auth_server_closing_after_one_answer();
    let app = spawn_app_with(
        db,
        AuthServer::At(url),
        &[("INTROSPECTION_CACHE_SECONDS", "0")],
    )
    .await;
    for _ in 0..3 {
        let res = app.get("/users/", Some(TOKEN)).await;
        assert_eq!(
            res.status(),
            StatusCode::OK,
            "{}",
            res.text().await.unwrap()
        );
    }
    // Each later request found its connection closed and was asked again on a new one.
    assert_eq!(accepted.load(Ordering::SeqCst), 3);
}

on_both_backends!(
    a_gateway_error_is_asked_once_more,
    the_server_introspects_with_its_own_client_credentials,
    garbage_answers_are_503_never_401,
    a_hanging_auth_server_is_503_after_the_timeout,
    an_unreachable_auth_server_is_503_and_the_service_recovers,
    a_failed_introspection_is_not_cached,
    concurrent_requests_with_one_new_token_share_one_introspection,
    answers_are_reused_within_the_ttl_and_asked_again_after,
    a_ttl_of_zero_asks_every_time,
    an_inactive_answer_is_cached_for_the_ttl_only,
    a_cached_answer_is_never_used_past_the_tokens_exp,
    scopes_come_from_the_introspection_answer,
    a_kept_alive_connection_closed_by_the_auth_server_costs_no_request,
);
