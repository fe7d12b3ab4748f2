//! Building and running the server: the pool, migrations, the first signing key, the services,
//! the periodic clean-up and the routes.

use std::net::TcpListener;
use std::sync::Arc;
use std::time::Duration;

use actix_web::middleware::from_fn;
use actix_web::{web, App, HttpServer};
use anyhow::Context;
use http_service::access_log::access_log;
use http_service::health::Check;
use http_service::metrics::{self, HttpMetrics};
use http_service::observe::observe;
use http_service::serving::{Plumbing, Running};
use http_service::shutdown::IN_FLIGHT_GRACE;
use oauth_core::secrets::{ExposeSecret, PasswordHasher};
use store::Database;

use crate::clean_up::{self, Schedule};
use crate::clients::ClientAuthenticator;
use crate::configuration::Settings;
use crate::http::cors::{self, AllowedOrigins};
use crate::http::{self, cookies::CookiePolicy, metadata::Metadata};
use crate::metrics::AuthMetrics;
use crate::oidc::key_ring::KeyRing;
use crate::oidc::keys;
use crate::services::{Clock, Services, TokenWrites};
use crate::throttle::LoginThrottle;
use crate::token_strategy::TokenStrategy;

pub struct Application {
    port: u16,
    metrics_port: Option<u16>,
    running: Running,
    handle: actix_web::dev::ServerHandle,
    services: Arc<Services>,
}

impl Application {
    pub async fn build(settings: Settings) -> anyhow::Result<Self> {
        let database = settings.database.clone();
        let pool = tokio::task::spawn_blocking(move || {
            // Every query of the token path is a lookup by key (see `Planning::KeyLookups`).
            store::connect_and_migrate_with(
                database.url.expose_secret(),
                database.pool_size,
                store::Planning::KeyLookups,
            )
        })
        .await
        .context("the migration task failed")??;
        let listener = TcpListener::bind(&settings.bind)
            .map_err(|e| anyhow::anyhow!("cannot listen on {}: {e}", settings.bind))?;
        let addr = listener.local_addr()?;
        let cost = settings.bcrypt_cost;
        let hasher = tokio::task::spawn_blocking(move || PasswordHasher::new(cost))
            .await
            .context("the hasher task failed")??;
        let db = Database::new(pool);
        let mut registry = metrics::registry("auth-server", env!("CARGO_PKG_VERSION"));
        let http_metrics = HttpMetrics::register(&mut registry);
        db.register_metrics(&mut registry);
        db.register_batch_metrics(&mut registry);
        let auth_metrics = AuthMetrics::register(&mut registry);
        keys::ensure_one(&db).await?;
        let policy = settings.key_policy();
        let keys = db
            .run(move |conn| KeyRing::load(conn, policy, oauth_core::time::now()))
            .await?;
        let issuer = settings.issuer_for(addr);
        let services = Arc::new(Services {
            db: db.clone(),
            writes: TokenWrites::new(&db),
            issuer: issuer.clone(),
            clock: Clock::System,
            hasher,
            throttle: LoginThrottle {
                limit: settings.login_failure_limit,
                window_seconds: settings.login_failure_window_seconds,
            },
            tokens: TokenStrategy {
                access_seconds: settings.access_token_seconds,
                refresh_seconds: settings.refresh_token_seconds,
                family_seconds: settings.refresh_token_max_lifetime_seconds,
                code_seconds: settings.authorization_code_seconds,
            },
            session_seconds: settings.session_seconds,
            clients: ClientAuthenticator::new(settings.client_cache_seconds),
            scopes: settings.scopes.clone(),
            keys,
            metrics: auth_metrics,
        });
        clean_up::spawn(
            services.clone(),
            Schedule {
                every_seconds: settings.cleanup_interval_seconds,
                retention_seconds: settings.token_retention_seconds,
                login_window_seconds: settings.login_failure_window_seconds,
                keys: policy,
            },
        );
        let metadata = web::Data::new(Metadata::new(&issuer, &services));
        let cookies = web::Data::new(CookiePolicy::new(&issuer, settings.session_seconds));
        let origins = Arc::new(AllowedOrigins::load(&db).await?);
        cors::spawn_refresh(
            origins.clone(),
            db.clone(),
            Duration::from_secs(settings.cors_origins_cache_seconds),
        );
        let plumbing = Plumbing::new(
            registry,
            http_metrics,
            vec![Check::database(db)],
            &settings.serving,
        );
        let handle = services.clone();
        let services = web::Data::from(services);
        let app_plumbing = plumbing.clone();
        let server = HttpServer::new(move || {
            App::new()
                .wrap(from_fn(observe))
                .wrap(access_log())
                .configure(|cfg| app_plumbing.configure(cfg))
                .app_data(services.clone())
                .app_data(metadata.clone())
                .app_data(cookies.clone())
                .configure(|cfg| http::configure(cfg, &origins))
        })
        .disable_signals()
        .shutdown_timeout(IN_FLIGHT_GRACE.as_secs())
        .listen(listener)?
        .run();
        log::info!("auth-server listening on http://{addr}");
        let api_handle = server.handle();
        let (running, metrics_port) = plumbing.run(server)?;
        Ok(Self {
            port: addr.port(),
            metrics_port,
            running,
            handle: api_handle,
            services: handle,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// The services the handlers share (tests mint ID tokens with them).
    pub fn services(&self) -> Arc<Services> {
        self.services.clone()
    }

    /// The port of `METRICS_BIND`, when set.
    pub fn metrics_port(&self) -> Option<u16> {
        self.metrics_port
    }

    /// Stops the server from elsewhere (tests stop an auth server under load this way).
    pub fn handle(&self) -> actix_web::dev::ServerHandle {
        self.handle.clone()
    }

    /// Drains and stops on SIGTERM, stops on SIGINT (the binary; see `Running::stop_on_signals`).
    pub fn stop_on_signals(&self) {
        self.running.stop_on_signals();
    }

    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.running.until_stopped().await
    }
}
