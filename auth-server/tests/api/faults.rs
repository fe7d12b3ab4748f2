//! Faults: the database restarting under load, and SIGTERM while a request is in flight.
//!
//! The PostgreSQL test runs only when `OAUTH_TEST_POSTGRES_URL` is set and PostgreSQL's server
//! binaries are installed: it starts a private server it may stop and restart.

use std::collections::{BTreeMap, HashSet};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use auth_store::schema::{access_tokens, refresh_tokens, token_families};
use auth_store::TokenHash;
use diesel::prelude::*;
use oauth_core::secrets::{sha256_hex, PasswordHasher};
use reqwest::StatusCode;
use serde_json::Value;
use store::establish_postgres;
use store::models::NewUser;
use test_support::{PostgresServer, TestDatabase};

use crate::helpers::*;

/// What the load saw that it must never see.
type Wrong = Arc<Mutex<Vec<String>>>;

fn note(wrong: &Wrong, what: String) {
    wrong.lock().unwrap().push(what);
}

/// One client of the load: it keeps a refresh-token chain going, logs in, introspects and asks
/// for client tokens, and checks every answer against what is allowed while the database may be
/// away: 200 or 503, and `invalid_grant` for a refresh only after an earlier attempt of the same
/// chain got no answer it could use (the rotation may have committed before the connection broke).
struct Worker {
    app: Arc<TestApp>,
    http: reqwest::Client,
    wrong: Wrong,
    /// A client_credentials token that is never revoked: it must always introspect as active.
    probe_token: String,
    /// Refresh tokens this worker received with a 200.
    issued: Vec<String>,
    /// Refresh tokens whose chain ended in `invalid_grant` (their family was revoked).
    ended: Vec<String>,
    /// Answers by status, to show the outage was felt.
    statuses: BTreeMap<u16, usize>,
}

impl Worker {
    async fn post(
        &mut self,
        path: &str,
        client: &Client,
        params: &[(&str, &str)],
    ) -> Option<(StatusCode, Value)> {
        let res = with_client(self.http.post(self.app.url(path)), client)
            .form(params)
            .send()
            .await;
        match res {
            Ok(res) => {
                let status = res.status();
                *self.statuses.entry(status.as_u16()).or_default() += 1;
                let body = res.json().await.unwrap_or(Value::Null);
                Some((status, body))
            }
            Err(e) => {
                note(&self.wrong, format!("{path}: no answer: {e}"));
                None
            }
        }
    }

    fn unexpected(&self, what: &str, status: StatusCode, body: &Value) {
        note(&self.wrong, format!("{what}: {status} {body}"));
    }

    async fn password_grant(&mut self) -> Option<String> {
        let demo = self.app.demo.clone();
        let params = [
            ("grant_type", "password"),
            ("username", "tue"),
            ("password", PASSWORD),
            ("scope", "read write"),
        ];
        match self.post("/o/token/", &demo, &params).await? {
            (StatusCode::OK, body) => {
                let refresh = body["refresh_token"].as_str()?.to_string();
                self.issued.push(refresh.clone());
                Some(refresh)
            }
            (StatusCode::SERVICE_UNAVAILABLE, _) => None,
            (status, body) => {
                self.unexpected("password grant", status, &body);
                None
            }
        }
    }

    async fn run(mut self, stop: Arc<AtomicBool>, max_requests: usize) -> Self {
        let mut chain: Option<String> = None;
        // The chain's last refresh attempt got no usable answer.
        let mut ambiguous = false;
        for i in 0..max_requests {
            if stop.load(Ordering::Relaxed) {
                break;
            }
            // A steady load, not a flood: the other tests of this binary run meanwhile.
            actix_web::rt::time::sleep(Duration::from_millis(5)).await;
            match i % 4 {
                0 | 2 => match chain.clone() {
                    None => {
                        chain = self.password_grant().await;
                        ambiguous = false;
                    }
                    Some(refresh) => {
                        let demo = self.app.demo.clone();
                        let params = [
                            ("grant_type", "refresh_token"),
                            ("refresh_token", refresh.as_str()),
                        ];
                        match self.post("/o/token/", &demo, &params).await {
                            Some((StatusCode::OK, body)) => {
                                let next = body["refresh_token"]
                                    .as_str()
                                    .unwrap_or_default()
                                    .to_string();
                                self.issued.push(next.clone());
                                chain = Some(next);
                                ambiguous = false;
                            }
                            Some((StatusCode::SERVICE_UNAVAILABLE, _)) | None => ambiguous = true,
                            Some((StatusCode::BAD_REQUEST, body))
                                if ambiguous && body["error"] == "invalid_grant" =>
                            {
                                self.ended.push(refresh);
                                chain = None;
                            }
                            Some((status, body)) => {
                                self.unexpected("refresh", status, &body);
                                chain = None;
                            }
                        }
                    }
                },
                1 => {
                    let introspector = self.app.introspector.clone();
                    let probe = self.probe_token.clone();
                    let params = [("token", probe.as_str())];
                    match self.post("/o/introspect/", &introspector, &params).await {
                        Some((StatusCode::OK, body)) if body["active"] == true => {}
                        Some((StatusCode::SERVICE_UNAVAILABLE, _)) | None => {}
                        Some((status, body)) => self.unexpected("introspection", status, &body),
                    }
                }
                _ => {
                    let machine = self.app.machine.clone();
                    match self
                        .post(
                            "/o/token/",
                            &machine,
                            &[("grant_type", "client_credentials")],
                        )
                        .await
                    {
                        Some((StatusCode::OK, _))
                        | Some((StatusCode::SERVICE_UNAVAILABLE, _))
                        | None => {}
                        Some((status, body)) => {
                            self.unexpected("client_credentials", status, &body)
                        }
                    }
                }
            }
        }
        self
    }
}

/// Every request kind once; true when all of them succeed.
async fn fully_served(app: &TestApp, probe_token: &str) -> bool {
    let grant = app
        .token(
            &app.demo,
            &[
                ("grant_type", "password"),
                ("username", "tue"),
                ("password", PASSWORD),
            ],
        )
        .await;
    if grant.status() != StatusCode::OK {
        return false;
    }
    let body: Value = grant.json().await.unwrap();
    let refreshed = app
        .refresh(&app.demo, body["refresh_token"].as_str().unwrap())
        .await;
    let introspected = app
        .post_form(
            "/o/introspect/",
            Some(&app.introspector),
            &[("token", probe_token)],
        )
        .await;
    let ready = app.http.get(app.url("/readyz")).send().await.unwrap();
    refreshed.status() == StatusCode::OK
        && introspected.status() == StatusCode::OK
        && ready.status() == StatusCode::OK
}

#[derive(Debug, Queryable)]
struct RefreshRow {
    id: i64,
    family_id: String,
    token_hash: TokenHash,
    revoked: Option<i64>,
    access_token_hash: Option<TokenHash>,
}

/// Checks the token tables after the storm: per grant family at most one live refresh token (the
/// family's current one, unrevoked), every refresh token with its access token, every rotated
/// one dead with its access token revoked, and a family whose newest refresh token is dead only
/// where the load saw the family end.
fn assert_no_half_written_rotation(url: &str, workers: &[Worker]) {
    let mut conn = establish_postgres(url).expect("connect after the restart");
    let rows: Vec<RefreshRow> = refresh_tokens::table
        .select((
            refresh_tokens::id,
            refresh_tokens::family_id,
            refresh_tokens::token_hash,
            refresh_tokens::revoked_at,
            refresh_tokens::access_token_hash,
        ))
        .order(refresh_tokens::id)
        .load(&mut conn)
        .unwrap();
    // Per family: its current token's hash, and whether it was revoked.
    let current: BTreeMap<String, (Option<TokenHash>, bool)> = token_families::table
        .select((
            token_families::id,
            token_families::current_hash,
            token_families::revoked_at,
        ))
        .load::<(String, Option<TokenHash>, Option<i64>)>(&mut conn)
        .unwrap()
        .into_iter()
        .map(|(id, hash, revoked)| (id, (hash, revoked.is_some())))
        .collect();
    let is_live = |row: &RefreshRow| {
        let (hash, family_revoked) = &current[&row.family_id];
        row.revoked.is_none() && !family_revoked && *hash == Some(row.token_hash)
    };
    let access: BTreeMap<[u8; 32], Option<i64>> = access_tokens::table
        .select((access_tokens::token_hash, access_tokens::revoked_at))
        .load::<(TokenHash, Option<i64>)>(&mut conn)
        .unwrap()
        .into_iter()
        .map(|(hash, revoked)| (*hash.as_bytes(), revoked))
        .collect();
    let family_of: BTreeMap<[u8; 32], &str> = rows
        .iter()
        .map(|r| (*r.token_hash.as_bytes(), r.family_id.as_str()))
        .collect();
    let mut families: BTreeMap<&str, Vec<&RefreshRow>> = BTreeMap::new();
    for row in &rows {
        families
            .entry(row.family_id.as_str())
            .or_default()
            .push(row);
    }
    // A refresh token answered with 200 was committed.
    for worker in workers {
        for token in &worker.issued {
            assert!(
                family_of.contains_key(TokenHash::of(token).as_bytes()),
                "an issued refresh token was lost"
            );
        }
    }
    let ended: HashSet<&str> = workers
        .iter()
        .flat_map(|w| &w.ended)
        .filter_map(|t| family_of.get(TokenHash::of(t).as_bytes()).copied())
        .collect();
    for (family, members) in &families {
        let live = members.iter().filter(|r| is_live(r)).count();
        assert!(live <= 1, "family {family} has {live} live refresh tokens");
        for row in members {
            let access_hash = row
                .access_token_hash
                .expect("a refresh token without its access token");
            assert!(
                access.contains_key(access_hash.as_bytes()),
                "refresh token {} lost its access token",
                row.id
            );
        }
        let (newest, rotated) = members.split_last().unwrap();
        for row in rotated {
            assert!(
                !is_live(row),
                "a rotated refresh token {} is still live",
                row.id
            );
            assert!(
                access[row.access_token_hash.unwrap().as_bytes()].is_some(),
                "rotation left the old access token of {} live",
                row.id
            );
        }
        if !is_live(newest) {
            assert!(
                ended.contains(family),
                "family {family}: its newest refresh token was claimed but no successor written"
            );
            for row in members.iter() {
                assert!(
                    access[row.access_token_hash.unwrap().as_bytes()].is_some(),
                    "family {family} half revoked"
                );
            }
        }
    }
}

/// The auth server's PostgreSQL stops (fast shutdown, as for a restart) and comes back while
/// six clients keep calling: every answer is 200 or 503, full service returns within a bounded
/// time, and the token tables hold no half-done rotation.
#[actix_web::test]
async fn a_postgresql_restart_under_load_is_503_then_full_service_with_no_half_written_rows() {
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
            &[("DATABASE_POOL_SIZE", "4"), ("CLIENT_CACHE_SECONDS", "0")],
        )
        .await,
    );
    let probe: Value = app
        .token(&app.machine, &[("grant_type", "client_credentials")])
        .await
        .json()
        .await
        .unwrap();
    let probe_token = probe["access_token"].as_str().unwrap().to_string();
    assert!(fully_served(&app, &probe_token).await);

    let wrong: Wrong = Arc::default();
    let stop = Arc::new(AtomicBool::new(false));
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap();
    let workers: Vec<_> = (0..6)
        .map(|_| {
            let worker = Worker {
                app: app.clone(),
                http: http.clone(),
                wrong: wrong.clone(),
                probe_token: probe_token.clone(),
                issued: Vec::new(),
                ended: Vec::new(),
                statuses: BTreeMap::new(),
            };
            actix_web::rt::spawn(worker.run(stop.clone(), 400))
        })
        .collect();

    actix_web::rt::time::sleep(Duration::from_millis(1500)).await;
    let pg = Arc::new(pg);
    let server = pg.clone();
    actix_web::rt::task::spawn_blocking(move || server.stop())
        .await
        .unwrap();
    actix_web::rt::time::sleep(Duration::from_secs(3)).await;
    let ready = app.http.get(app.url("/readyz")).send().await.unwrap();
    assert_eq!(ready.status(), StatusCode::SERVICE_UNAVAILABLE);
    let server = pg.clone();
    actix_web::rt::task::spawn_blocking(move || server.start())
        .await
        .unwrap();

    let restarted = Instant::now();
    let mut recovered = false;
    while restarted.elapsed() < Duration::from_secs(30) {
        if fully_served(&app, &probe_token).await {
            recovered = true;
            break;
        }
        actix_web::rt::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(recovered, "no full service 30 s after PostgreSQL came back");
    actix_web::rt::time::sleep(Duration::from_secs(1)).await;
    stop.store(true, Ordering::Relaxed);
    let mut done = Vec::new();
    for worker in workers {
        done.push(worker.await.unwrap());
    }
    let wrong = wrong.lock().unwrap().clone();
    assert!(
        wrong.is_empty(),
        "answers that must never happen: {wrong:#?}"
    );
    let mut statuses: BTreeMap<u16, usize> = BTreeMap::new();
    for (status, n) in done.iter().flat_map(|w| &w.statuses) {
        *statuses.entry(*status).or_default() += n;
    }
    eprintln!("answers during the restart: {statuses:?}");
    assert!(statuses.contains_key(&503), "the load never met the outage");
    assert!(
        done.iter().map(|w| w.issued.len()).sum::<usize>() > 6,
        "the load did too little"
    );
    assert!(fully_served(&app, &probe_token).await);
    assert_no_half_written_rotation(&url, &done);
}

/// A bcrypt hash whose check takes a second or more on this machine and build: the cost is
/// chosen from how long one hash at cost 8 takes, so the test means the same everywhere.
fn slow_hash(password: &str) -> String {
    let started = Instant::now();
    PasswordHasher::new(8).unwrap();
    let at_8 = started.elapsed().as_secs_f64().max(1e-4);
    let cost = (8.0 + (1.5 / at_8).log2().ceil()).clamp(8.0, 16.0) as u32;
    PasswordHasher::new(cost).unwrap().hash(password).unwrap()
}

/// SIGTERM while a slow password grant is in flight: the grant still gets its 200 and the
/// process exits 0.
#[actix_web::test]
async fn sigterm_lets_a_request_in_flight_finish_and_the_process_exits_zero() {
    let db = TestDatabase::sqlite();
    let pool = store::connect_and_migrate(&db.url, 1).unwrap();
    let app_settings = [
        ("DATABASE_URL", db.url.as_str()),
        ("BCRYPT_COST", "4"),
        ("TOKEN_CLEANUP_INTERVAL_SECONDS", "0"),
        ("RUST_LOG", "warn"),
        // No drain: what is checked is that a request in flight when it stops accepting finishes.
        ("SHUTDOWN_DRAIN_SECONDS", "0"),
    ];
    {
        let mut conn = pool.get().unwrap();
        let slow_hash = actix_web::rt::task::spawn_blocking(|| slow_hash("slow"))
            .await
            .unwrap();
        store::users::create(
            &mut conn,
            &NewUser {
                username: "slow".into(),
                email: String::new(),
                first_name: String::new(),
                last_name: String::new(),
                password_hash: slow_hash,
                is_active: true,
                is_superuser: false,
                date_joined: 0,
            },
        )
        .unwrap();
        auth_store::applications::create(
            &mut conn,
            &auth_store::models::NewApplication {
                client_id: "demo".into(),
                client_secret_hash: Some(sha256_hex("demo-secret")),
                name: "demo".into(),
                client_type: "confidential".into(),
                grant_types: "password".into(),
                allowed_scopes: "read".into(),
                default_scopes: "read".into(),
                can_introspect: false,
                owner_id: 1,
                created_at: 0,
                redirect_uris: String::new(),
                post_logout_redirect_uris: String::new(),
                skip_consent: false,
            },
        )
        .unwrap();
    }
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut child = Command::new(env!("CARGO_BIN_EXE_auth-server"))
        .envs(app_settings)
        .env("AUTH_BIND", format!("127.0.0.1:{port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let base = format!("http://127.0.0.1:{port}");
    let http = reqwest::Client::new();
    let started = Instant::now();
    while http.get(format!("{base}/healthz")).send().await.is_err() {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the server did not start"
        );
        actix_web::rt::time::sleep(Duration::from_millis(50)).await;
    }
    let grant = actix_web::rt::spawn({
        let http = http.clone();
        let base = base.clone();
        async move {
            http.post(format!("{base}/o/token/"))
                .basic_auth("demo", Some("demo-secret"))
                .form(&[
                    ("grant_type", "password"),
                    ("username", "slow"),
                    ("password", "slow"),
                ])
                .send()
                .await
        }
    });
    // Long enough for the request to be read and its hash check to have started.
    actix_web::rt::time::sleep(Duration::from_millis(300)).await;
    assert!(
        !grant.is_finished(),
        "the grant finished before SIGTERM: raise the cost"
    );
    let sent = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(sent.success());
    let res = grant
        .await
        .unwrap()
        .expect("an answer to the request in flight");
    assert_eq!(res.status(), StatusCode::OK);
    let body: Value = res.json().await.unwrap();
    assert!(body["access_token"].is_string());
    let waited = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        assert!(
            waited.elapsed() < Duration::from_secs(30),
            "the server did not exit after SIGTERM"
        );
        actix_web::rt::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(status.code(), Some(0));
}

/// The auth server binary on a free port against `db_url`, its log (RUST_LOG=info) in `log`.
/// `extra` adds or overrides variables.
async fn start_binary(
    db_url: &str,
    log: Stdio,
    extra: &[(&str, &str)],
) -> (std::process::Child, String) {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = Command::new(env!("CARGO_BIN_EXE_auth-server"))
        .env("DATABASE_URL", db_url)
        .env("BCRYPT_COST", "4")
        .env("TOKEN_CLEANUP_INTERVAL_SECONDS", "0")
        .env("RUST_LOG", "info")
        .env("SHUTDOWN_DRAIN_SECONDS", "0")
        .env("AUTH_BIND", format!("127.0.0.1:{port}"))
        .envs(extra.iter().copied())
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .unwrap();
    let base = format!("http://127.0.0.1:{port}");
    let http = reqwest::Client::new();
    let started = Instant::now();
    while http.get(format!("{base}/healthz")).send().await.is_err() {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the server did not start"
        );
        actix_web::rt::time::sleep(Duration::from_millis(50)).await;
    }
    (child, base)
}

/// The access log names method, path and status, and never a query string, a header or a
/// body: secrets put in any of them do not reach the log.
#[actix_web::test]
async fn the_access_log_shows_method_path_and_status_but_never_a_secret() {
    let db = TestDatabase::sqlite();
    let log_path = std::env::temp_dir().join(format!("auth-log-{}.txt", uuid::Uuid::new_v4()));
    let log = std::fs::File::create(&log_path).unwrap();
    let (mut child, base) = start_binary(&db.url, Stdio::from(log), &[]).await;
    let http = reqwest::Client::new();
    let res = http
        .get(format!("{base}/healthz?access_token=SECRET-IN-QUERY"))
        .bearer_auth("SECRET-IN-HEADER")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let res = http
        .post(format!("{base}/o/token/?client_secret=SECRET-IN-QUERY-2"))
        .basic_auth("SECRET-CLIENT-ID", Some("SECRET-IN-BASIC"))
        .form(&[
            ("grant_type", "password"),
            ("username", "SECRET-USERNAME"),
            ("password", "SECRET-PASSWORD"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    let waited = Instant::now();
    while child.try_wait().unwrap().is_none() {
        assert!(
            waited.elapsed() < Duration::from_secs(30),
            "the server did not exit"
        );
        actix_web::rt::time::sleep(Duration::from_millis(50)).await;
    }
    let log = std::fs::read_to_string(&log_path).unwrap();
    let _ = std::fs::remove_file(&log_path);
    assert!(log.contains(r#""GET /healthz" 200"#), "{log}");
    assert!(log.contains(r#""POST /o/token/" 401"#), "{log}");
    assert!(!log.contains("SECRET"), "{log}");
}

/// A rolling restart's SIGTERM: /readyz fails at once, so load balancers stop sending; requests
/// are still served for SHUTDOWN_DRAIN_SECONDS, each with `Connection: close` so kept-alive
/// connections move elsewhere; then the process exits cleanly.
#[actix_web::test]
async fn sigterm_fails_readiness_then_serves_through_the_drain_then_exits() {
    let db = TestDatabase::sqlite();
    let (mut child, base) = start_binary(
        &db.url,
        Stdio::null(),
        &[("SHUTDOWN_DRAIN_SECONDS", "2"), ("RUST_LOG", "warn")],
    )
    .await;
    let http = reqwest::Client::new();
    let res = http.get(format!("{base}/readyz")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert!(res.headers().get("connection").is_none());

    let signalled = Instant::now();
    let sent = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(sent.success());
    actix_web::rt::time::sleep(Duration::from_millis(300)).await;
    let res = http.get(format!("{base}/readyz")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["shutdown"], "draining");
    let res = http
        .get(format!("{base}/.well-known/openid-configuration"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["connection"], "close");
    assert!(
        child.try_wait().unwrap().is_none(),
        "exited during the drain"
    );

    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        assert!(
            signalled.elapsed() < Duration::from_secs(20),
            "the server did not exit after its drain"
        );
        actix_web::rt::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(status.code(), Some(0));
    assert!(signalled.elapsed() >= Duration::from_secs(2), "no drain");
    assert!(http.get(format!("{base}/healthz")).send().await.is_err());
}
