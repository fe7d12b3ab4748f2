//! Building and running the server: the same code serves production and the tests.

use std::net::TcpListener;
use std::sync::Arc;
use std::time::Duration;

use crate::error::ApiError;
use actix_web::middleware::from_fn;
use actix_web::{web, App, HttpResponse, HttpServer};
use anyhow::Context;
use http_service::access_log::access_log;
use http_service::health::Check;
use http_service::metrics::{self, HttpMetrics};
use http_service::observe::observe;
use http_service::serving::{Plumbing, Running};
use http_service::shutdown::IN_FLIGHT_GRACE;
use oauth_core::secrets::{ExposeSecret, PasswordHasher};

use crate::configuration::Settings;
use crate::docs::{self, DocsPage};
use crate::introspection::{auth_server_check, http_client, Introspector};
use crate::metrics::ResourceMetrics;
use crate::name_lookup::RememberingResolver;
use crate::openapi::OpenApiDocument;
use crate::route_table;

/// How long the start waits to learn the auth server's address: a lost DNS answer is asked again by
/// glibc after 5 s.
const LEARN_AUTH_SERVER_WITHIN: Duration = Duration::from_secs(6);

pub struct Application {
    port: u16,
    metrics_port: Option<u16>,
    running: Running,
}

impl Application {
    /// Connects and migrates the database, binds the listener, and prepares the server.
    pub async fn build(settings: Settings) -> anyhow::Result<Self> {
        let database = settings.database.clone();
        let pool = tokio::task::spawn_blocking(move || {
            store::connect_and_migrate(database.url.expose_secret(), database.pool_size)
        })
        .await
        .context("the migration task failed")??;
        let cost = settings.bcrypt_cost;
        let hasher = tokio::task::spawn_blocking(move || PasswordHasher::new(cost))
            .await
            .context("the hasher task failed")??;
        let resolver = Arc::new(RememberingResolver::system());
        // Before the listener opens, so that the first requests need no lookup of their own.
        if let Some(host) = settings.introspection.url.host_str() {
            resolver.learn(host, LEARN_AUTH_SERVER_WITHIN).await;
        }
        let http = http_client(settings.introspection.timeout, &resolver)
            .context("cannot build the HTTP client")?;
        let mut registry = metrics::registry("resource-server", env!("CARGO_PKG_VERSION"));
        let http_metrics = HttpMetrics::register(&mut registry);
        let resource_metrics = ResourceMetrics::register(&mut registry);
        let introspector = Introspector::new(&settings.introspection, http.clone())
            .with_metrics(resource_metrics, &mut registry);
        let auth_server = auth_server_check(
            http,
            format!("{}/healthz", settings.introspection.auth_server_origin()),
        );
        let openapi =
            OpenApiDocument::new(&settings.docs).context("cannot render the OpenAPI document")?;
        let docs_page = DocsPage::new(&settings.docs).context("cannot prepare the docs page")?;

        let listener = TcpListener::bind(&settings.bind)
            .with_context(|| format!("cannot bind {}", settings.bind))?;
        let port = listener.local_addr()?.port();

        let db = store::Database::new(pool);
        db.register_metrics(&mut registry);
        let plumbing = Plumbing::new(
            registry,
            http_metrics,
            vec![Check::database(db.clone()), auth_server],
            &settings.serving,
        );
        let pool = web::Data::new(db);
        let hasher = web::Data::new(hasher);
        let openapi = web::Data::new(openapi);
        let docs_page = web::Data::new(docs_page);
        let timeout = settings.introspection.timeout;
        let app_plumbing = plumbing.clone();
        let server = HttpServer::new(move || {
            let http = http_client(timeout, &resolver).expect("the same client was built at start");
            let introspector = web::Data::new(introspector.with_client(http));
            App::new()
                .wrap(from_fn(observe))
                .wrap(access_log())
                // A path segment that is not UTF-8 is a missing object, in the contract's shape.
                .app_data(
                    web::PathConfig::default().error_handler(|_, _| ApiError::NotFound.into()),
                )
                .configure(|cfg| app_plumbing.configure(cfg))
                .app_data(pool.clone())
                .app_data(introspector)
                .app_data(hasher.clone())
                .app_data(openapi.clone())
                .app_data(docs_page.clone())
                .configure(route_table::mount)
                .configure(docs::configure)
                .default_service(web::to(|| async {
                    Err::<HttpResponse, _>(ApiError::NotFound)
                }))
        })
        .disable_signals()
        .shutdown_timeout(IN_FLIGHT_GRACE.as_secs())
        .listen(listener)?
        .run();
        log::info!("resource server listening on port {port}");
        let (running, metrics_port) = plumbing.run(server)?;
        Ok(Self {
            port,
            metrics_port,
            running,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// The port of `METRICS_BIND`, when set.
    pub fn metrics_port(&self) -> Option<u16> {
        self.metrics_port
    }

    /// Drains and stops on SIGTERM, stops on SIGINT (the binary; see `Running::stop_on_signals`).
    pub fn stop_on_signals(&self) {
        self.running.stop_on_signals();
    }

    /// Serves until stopped, then finishes the requests in flight.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.running.until_stopped().await
    }
}
