//! Building and running the server: the pool, migrations, the periodic clean-up and the routes.

use std::net::TcpListener;
use std::sync::Arc;
use std::time::Duration;

use actix_web::dev::Server;
use actix_web::{web, App, HttpServer};
use shared::access_log::access_log;
use shared::db::{self, Database};
use shared::secrets::PasswordHasher;

use crate::client_auth::ClientAuthenticator;
use crate::configuration::Settings;
use crate::routes;
use crate::throttle::LoginThrottle;

/// What every handler shares.
pub struct AppState {
    pub db: Database,
    pub settings: Settings,
    pub hasher: PasswordHasher,
    pub throttle: LoginThrottle,
    pub clients: ClientAuthenticator,
    pub issuer: String,
}

pub struct Application {
    port: u16,
    server: Server,
}

impl Application {
    pub async fn build(settings: Settings) -> anyhow::Result<Self> {
        let database = settings.database.clone();
        let pool = web::block(move || db::connect_and_migrate(&database.url, database.pool_size))
            .await??;
        let listener = TcpListener::bind(&settings.bind)
            .map_err(|e| anyhow::anyhow!("cannot listen on {}: {e}", settings.bind))?;
        let addr = listener.local_addr()?;
        let cost = settings.bcrypt_cost;
        let hasher = web::block(move || PasswordHasher::new(cost)).await??;
        let state = web::Data::new(AppState {
            db: Database::new(pool),
            issuer: settings.issuer_for(addr),
            throttle: LoginThrottle {
                limit: settings.login_failure_limit,
                window_seconds: settings.login_failure_window_seconds,
            },
            clients: ClientAuthenticator::new(settings.client_cache_seconds),
            hasher,
            settings,
        });
        spawn_cleanup(state.clone().into_inner());
        let server = HttpServer::new(move || {
            App::new()
                .wrap(access_log())
                .app_data(state.clone())
                .configure(routes::configure)
        })
        .listen(listener)?
        .run();
        log::info!("auth-server listening on http://{addr}");
        Ok(Self {
            port: addr.port(),
            server,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Stops the server from elsewhere (tests stop an auth server under load this way).
    pub fn handle(&self) -> actix_web::dev::ServerHandle {
        self.server.handle()
    }

    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.server.await
    }
}

/// Deletes expired and revoked tokens, and old login failures, every interval.
fn spawn_cleanup(state: Arc<AppState>) {
    let every = state.settings.cleanup_interval_seconds;
    if every == 0 {
        return;
    }
    actix_web::rt::spawn(async move {
        let mut ticker = actix_web::rt::time::interval(Duration::from_secs(every));
        loop {
            ticker.tick().await;
            let state = state.clone();
            let work = move || -> Result<db::tokens::Cleared, shared::error::StoreError> {
                let mut conn = state.db.pool().get()?;
                clear_dead_rows(
                    &mut conn,
                    state.settings.token_retention_seconds,
                    state.settings.login_failure_window_seconds,
                )
            };
            match web::block(work).await {
                Ok(Ok(n)) => log::info!(
                    "clean-up deleted {} access and {} refresh tokens",
                    n.access_tokens,
                    n.refresh_tokens
                ),
                Ok(Err(e)) => log::warn!("token clean-up failed: {e}"),
                Err(_) => log::warn!("token clean-up was cancelled"),
            }
        }
    });
}

/// Deletes tokens dead for longer than `retention_seconds` and login failures older than the
/// throttling window: the periodic task and `clear-tokens` both do exactly this.
pub fn clear_dead_rows(
    conn: &mut db::DbConnection,
    retention_seconds: i64,
    login_window_seconds: i64,
) -> Result<db::tokens::Cleared, shared::error::StoreError> {
    let now = shared::time::now();
    let cleared = db::tokens::delete_dead(conn, now - retention_seconds)?;
    db::login_failures::delete_older_than(conn, now - login_window_seconds)?;
    Ok(cleared)
}
