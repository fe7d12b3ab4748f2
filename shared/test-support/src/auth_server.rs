//! The real auth server, in-process on the test's runtime, for the resource server's tests: the
//! same `Application` its own binary runs, on the test's database.

use std::sync::OnceLock;
use std::time::{Duration, Instant};

use actix_web::dev::ServerHandle;
use auth_server::configuration::Settings;
use auth_server::oidc::keys;
use auth_server::startup::Application;
use auth_store::models::NewSigningKey;
use auth_store::signing_keys;

pub struct SpawnedAuthServer {
    /// `http://127.0.0.1:port`.
    pub base: String,
    /// Stops the server from the test (a fault test stops it under load).
    pub handle: ServerHandle,
}

/// Starts an auth server on `bind` (`127.0.0.1:0` for any free port) with fast hashing and no
/// clean-up task; `extra` adds or overrides variables. A fixed port may take a moment to be free
/// again after a stop, so binding is retried for a few seconds.
pub async fn spawn_auth_server(
    database_url: &str,
    bind: &str,
    extra: &[(&str, &str)],
) -> SpawnedAuthServer {
    let mut vars = vec![
        ("AUTH_BIND", bind),
        ("DATABASE_URL", database_url),
        ("DATABASE_POOL_SIZE", "4"),
        ("BCRYPT_COST", "4"),
        ("TOKEN_CLEANUP_INTERVAL_SECONDS", "0"),
    ];
    vars.extend_from_slice(extra);
    let settings = Settings::from_pairs(&vars).expect("auth server settings");
    store_signing_key(database_url);
    let started = Instant::now();
    let app = loop {
        match Application::build(settings.clone()).await {
            Ok(app) => break app,
            Err(e) => {
                assert!(
                    started.elapsed() < Duration::from_secs(10),
                    "cannot start the auth server: {e:#}"
                );
                actix_web::rt::time::sleep(Duration::from_millis(100)).await;
            }
        }
    };
    let base = format!("http://127.0.0.1:{}", app.port());
    let handle = app.handle();
    actix_web::rt::spawn(app.run_until_stopped());
    SpawnedAuthServer { base, handle }
}

/// Stores one RSA key, made once per test process, as the database's signing key unless it has
/// one: the server would otherwise make its own at start, a few tenths of a second per test.
pub fn store_signing_key(database_url: &str) {
    static KEY: OnceLock<NewSigningKey> = OnceLock::new();
    let key = KEY.get_or_init(|| keys::generate().expect("generate a signing key").row(0));
    let pool = store::connect_and_migrate(database_url, 1).expect("migrate the test database");
    let mut conn = pool.get().expect("a connection");
    signing_keys::insert_first(&mut conn, key).expect("store the signing key");
}
