//! The real auth server, in-process on the test's runtime, for the resource server's tests: the
//! same `Application` its own binary runs, on the test's database.

use std::time::{Duration, Instant};

use actix_web::dev::ServerHandle;
use auth_server::configuration::Settings;
use auth_server::startup::Application;

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
