//! Faults under load: the database restarting (PostgreSQL only, with a private server the test
//! may stop), and the auth server going away and coming back on the same port.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::{json, Value};

use test_support::{row_counts, spawn_auth_server, PostgresServer, TestDatabase};

use crate::helpers::*;

type Seen = Arc<Mutex<Vec<String>>>;

/// The resource server's PostgreSQL stops and comes back while clients list, read and create
/// albums with a token whose introspection answer is cached: every answer is 200, 201 or 503,
/// full service returns within a bounded time, and every album answered 201 is stored.
#[actix_web::test]
async fn a_postgresql_restart_under_load_is_503_then_full_service() {
    let Some(pg) = PostgresServer::start_new() else {
        eprintln!(
            "skipped: needs OAUTH_TEST_POSTGRES_URL and PostgreSQL under /usr/lib/postgresql"
        );
        return;
    };
    let url = pg.url();
    let app = Arc::new(
        spawn_app_with(
            TestDatabase::external(&url),
            AuthServer::Real,
            // Answers stay cached through the outage, so what is tested is the resource
            // server's own database access.
            &[("INTROSPECTION_CACHE_SECONDS", "600")],
        )
        .await,
    );
    let token = app.token("read write albums").await;
    let album = app.create_album(&token, "Before").await;
    let detail = format!("/albums/{}/", album["id"]);
    let before = row_counts(&app.pool)["albums"];

    let wrong: Seen = Arc::default();
    let created = Arc::new(AtomicUsize::new(0));
    let unanswered_writes = Arc::new(AtomicUsize::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let outage_felt = Arc::new(AtomicBool::new(false));
    let workers: Vec<_> = (0..4)
        .map(|w| {
            let outage_felt = outage_felt.clone();
            let (app, token, detail) = (app.clone(), token.clone(), detail.clone());
            let (wrong, created, unanswered, stop) = (
                wrong.clone(),
                created.clone(),
                unanswered_writes.clone(),
                stop.clone(),
            );
            actix_web::rt::spawn(async move {
                for i in 0..500 {
                    if stop.load(Ordering::Relaxed) {
                        break;
                    }
                    let res = match (w + i) % 3 {
                        0 => app.get("/albums/", Some(&token)).await,
                        1 => app.get(&detail, Some(&token)).await,
                        _ => {
                            app.post_json(
                                "/albums/",
                                Some(&token),
                                &json!({"artist": app.user_id, "name": format!("w{w}-{i}"),
                                    "release_date": "2021-06-15", "num_stars": 1}),
                            )
                            .await
                        }
                    };
                    let write = (w + i) % 3 == 2;
                    let (status, _, body) = parts(res).await;
                    match status {
                        StatusCode::OK if !write => {}
                        StatusCode::CREATED if write => {
                            created.fetch_add(1, Ordering::Relaxed);
                        }
                        StatusCode::SERVICE_UNAVAILABLE if body["detail"].is_string() => {
                            outage_felt.store(true, Ordering::Relaxed);
                            if write {
                                unanswered.fetch_add(1, Ordering::Relaxed);
                            }
                        }
                        other => wrong.lock().unwrap().push(format!("{other} {body}")),
                    }
                    // A steady load, not a flood: the other tests of this binary run meanwhile.
                    actix_web::rt::time::sleep(Duration::from_millis(5)).await;
                }
            })
        })
        .collect();

    actix_web::rt::time::sleep(Duration::from_millis(1500)).await;
    let pg = Arc::new(pg);
    let server = pg.clone();
    actix_web::rt::task::spawn_blocking(move || server.stop())
        .await
        .unwrap();
    actix_web::rt::time::sleep(Duration::from_secs(3)).await;
    let server = pg.clone();
    actix_web::rt::task::spawn_blocking(move || server.start())
        .await
        .unwrap();
    let restarted = Instant::now();
    loop {
        let listed = app.get("/albums/", Some(&token)).await.status();
        let read = app.get(&detail, Some(&token)).await.status();
        if listed == StatusCode::OK && read == StatusCode::OK {
            break;
        }
        assert!(
            restarted.elapsed() < Duration::from_secs(30),
            "no full service 30 s after PostgreSQL came back"
        );
        actix_web::rt::time::sleep(Duration::from_millis(200)).await;
    }
    actix_web::rt::time::sleep(Duration::from_secs(1)).await;
    stop.store(true, Ordering::Relaxed);
    for worker in workers {
        worker.await.unwrap();
    }
    let wrong = wrong.lock().unwrap().clone();
    assert!(
        wrong.is_empty(),
        "answers that must never happen: {wrong:#?}"
    );
    let stored = row_counts(&app.pool)["albums"] - before;
    let created = created.load(Ordering::Relaxed) as i64;
    let unanswered = unanswered_writes.load(Ordering::Relaxed) as i64;
    assert!(
        stored >= created && stored <= created + unanswered,
        "{stored} albums stored for {created} answered 201 and {unanswered} answered 503"
    );
    let res = app
        .post_json(
            "/albums/",
            Some(&token),
            &json!({"artist": app.user_id, "name": "After", "release_date": "2021-06-15", "num_stars": 1}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
}

/// An auth server of the test's own on a fixed port, so that it can be stopped and started again
/// where the resource server expects it.
async fn start_auth_server(db_url: &str, port: u16) -> actix_web::dev::ServerHandle {
    let bind = format!("127.0.0.1:{port}");
    spawn_auth_server(db_url, &bind, &[]).await.handle
}

async fn client_token(http: &reqwest::Client, auth: &str) -> String {
    let res = http
        .post(format!("{auth}/o/token/"))
        .basic_auth(DEMO_ID, Some(DEMO_SECRET))
        .form(&[
            ("grant_type", "client_credentials"),
            ("scope", "read albums"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let body: Value = res.json().await.unwrap();
    body["access_token"].as_str().unwrap().to_string()
}

/// The auth server stops while clients keep calling with tokens the resource server has not
/// seen yet: every answer is 200 while it runs and 503 while it is away (never 401, never a
/// 2xx), and service returns once an auth server listens on the same port again.
#[actix_web::test]
async fn an_auth_server_stopped_under_load_is_503_never_401_and_service_returns() {
    let db = TestDatabase::sqlite();
    let db_url = db.url.clone();
    let port = free_port();
    let auth = format!("http://127.0.0.1:{port}");
    let app = Arc::new(
        spawn_app_with(
            db,
            AuthServer::At(format!("{auth}/o/introspect/")),
            &[("INTROSPECTION_TIMEOUT_MS", "1000")],
        )
        .await,
    );
    let handle = start_auth_server(&db_url, port).await;
    // Fresh tokens, each used once, so no answer comes from the cache.
    let mut fresh = Vec::new();
    for _ in 0..400 {
        fresh.push(client_token(&app.http, &auth).await);
    }
    let unseen = fresh.pop().unwrap();
    let fresh = Arc::new(Mutex::new(fresh));

    let answers: Seen = Arc::default();
    let wrong: Seen = Arc::default();
    let down = Arc::new(AtomicBool::new(false));
    let stop = Arc::new(AtomicBool::new(false));
    let workers: Vec<_> = (0..4)
        .map(|_| {
            let (app, fresh, answers, wrong, stop, down) = (
                app.clone(),
                fresh.clone(),
                answers.clone(),
                wrong.clone(),
                stop.clone(),
                down.clone(),
            );
            actix_web::rt::spawn(async move {
                for _ in 0..100 {
                    let Some(token) = fresh.lock().unwrap().pop() else {
                        break;
                    };
                    if stop.load(Ordering::Relaxed) {
                        break;
                    }
                    let was_down = down.load(Ordering::Relaxed);
                    let (status, challenge, body) =
                        parts(app.get("/albums/", Some(&token)).await).await;
                    let is_down = down.load(Ordering::Relaxed);
                    answers.lock().unwrap().push(status.to_string());
                    let fine = match status {
                        // A request sent entirely while the server was away cannot succeed.
                        StatusCode::OK => !(was_down && is_down),
                        StatusCode::SERVICE_UNAVAILABLE => {
                            challenge.is_none() && body["detail"].is_string()
                        }
                        _ => false,
                    };
                    if !fine {
                        wrong.lock().unwrap().push(format!(
                            "{status} {challenge:?} {body} (down: {was_down}/{is_down})"
                        ));
                    }
                    actix_web::rt::time::sleep(Duration::from_millis(10)).await;
                }
            })
        })
        .collect();

    actix_web::rt::time::sleep(Duration::from_millis(500)).await;
    handle.stop(false).await;
    down.store(true, Ordering::Relaxed);
    actix_web::rt::time::sleep(Duration::from_millis(1500)).await;
    let ready = app.get("/readyz", None).await;
    assert_eq!(ready.status(), StatusCode::SERVICE_UNAVAILABLE);
    let (status, challenge, _) = parts(app.get("/albums/", Some(&unseen)).await).await;
    assert_eq!((status, challenge), (StatusCode::SERVICE_UNAVAILABLE, None));

    down.store(false, Ordering::Relaxed);
    let handle = start_auth_server(&db_url, port).await;
    let restarted = Instant::now();
    loop {
        let token = client_token(&app.http, &auth).await;
        if app.get("/albums/", Some(&token)).await.status() == StatusCode::OK {
            break;
        }
        assert!(
            restarted.elapsed() < Duration::from_secs(15),
            "no service 15 s after the auth server came back"
        );
        actix_web::rt::time::sleep(Duration::from_millis(100)).await;
    }
    stop.store(true, Ordering::Relaxed);
    for worker in workers {
        worker.await.unwrap();
    }
    handle.stop(true).await;
    let wrong = wrong.lock().unwrap().clone();
    assert!(
        wrong.is_empty(),
        "answers that must never happen: {wrong:#?}"
    );
    let answers = answers.lock().unwrap();
    assert!(answers.iter().any(|s| s.starts_with("200")));
    assert!(answers.iter().any(|s| s.starts_with("503")));
}
