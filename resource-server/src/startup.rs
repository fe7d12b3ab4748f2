//! Building and running the server: the same code serves production and the tests.

use std::net::TcpListener;

use crate::error::ApiError;
use actix_web::dev::Server;
use actix_web::{web, App, HttpResponse, HttpServer};
use anyhow::Context;
use http_service::access_log::access_log;
use http_service::health::{Check, Readiness};
use oauth_core::secrets::{ExposeSecret, PasswordHasher};

use crate::configuration::Settings;
use crate::docs::{self, DocsPage};
use crate::introspection::{auth_server_check, http_client, Introspector};
use crate::openapi::OpenApiDocument;
use crate::route_table;

/// The access log: method, path, status, size, time. Never the query string (a client may put a
/// token there, though it is not accepted) nor the Authorization header.
pub struct Application {
    port: u16,
    server: Server,
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
        let http =
            http_client(settings.introspection.timeout).context("cannot build the HTTP client")?;
        let introspector = Introspector::new(&settings.introspection, http.clone());
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
        let readiness = web::Data::new(Readiness(vec![Check::database(db.clone()), auth_server]));
        let pool = web::Data::new(db);
        let hasher = web::Data::new(hasher);
        let openapi = web::Data::new(openapi);
        let docs_page = web::Data::new(docs_page);
        let timeout = settings.introspection.timeout;
        let server = HttpServer::new(move || {
            let http = http_client(timeout).expect("the same client was built at start");
            let introspector = web::Data::new(introspector.with_client(http));
            App::new()
                .wrap(access_log())
                // A path segment that is not UTF-8 is a missing object, in the contract's shape.
                .app_data(
                    web::PathConfig::default().error_handler(|_, _| ApiError::NotFound.into()),
                )
                .app_data(pool.clone())
                .app_data(introspector)
                .app_data(hasher.clone())
                .app_data(readiness.clone())
                .app_data(openapi.clone())
                .app_data(docs_page.clone())
                .configure(route_table::mount)
                .configure(docs::configure)
                .default_service(web::to(|| async {
                    Err::<HttpResponse, _>(ApiError::NotFound)
                }))
        })
        .listen(listener)?
        .run();
        log::info!("resource server listening on port {port}");
        Ok(Self { port, server })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Serves until SIGTERM or SIGINT, then finishes the requests in flight.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.server.await
    }
}
