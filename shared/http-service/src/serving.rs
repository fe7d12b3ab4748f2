//! Running a service's servers: its API and, with `METRICS_BIND`, a second one for `/metrics`
//! alone; stopping them together as [`crate::shutdown`] describes.

use std::net::{SocketAddr, TcpListener};
use std::time::Duration;

use actix_web::dev::Server;
use actix_web::{web, App, HttpServer};
use futures_util::future::try_join_all;

use oauth_core::config::ServingSettings;
use prometheus_client::registry::Registry;

use crate::health::{Check, Readiness};
use crate::metrics::{self, Exporter, HttpMetrics};
use crate::observe::Observed;
use crate::shutdown::{self, Draining, IN_FLIGHT_GRACE};

/// A one-worker server for `GET /metrics` on `bind`.
pub fn metrics_server(
    bind: &str,
    exporter: web::Data<Exporter>,
) -> std::io::Result<(Server, SocketAddr)> {
    let listener = TcpListener::bind(bind)?;
    let addr = listener.local_addr()?;
    let server = HttpServer::new(move || {
        App::new()
            .app_data(exporter.clone())
            .configure(metrics::configure)
    })
    .workers(1)
    .disable_signals()
    .shutdown_timeout(IN_FLIGHT_GRACE.as_secs())
    .listen(listener)?
    .run();
    Ok((server, addr))
}

/// The servers of one process, stopped together.
pub struct Running {
    servers: Vec<Server>,
    draining: Draining,
    drain: Duration,
}

impl Running {
    pub fn new(servers: Vec<Server>, draining: Draining, drain: Duration) -> Self {
        Self {
            servers,
            draining,
            drain,
        }
    }

    /// Drains and stops on SIGTERM, stops on SIGINT. Only the binaries call it: once
    /// registered, a SIGINT handler replaces the default of ending the process, which a test
    /// process must keep.
    pub fn stop_on_signals(&self) {
        shutdown::spawn_signal_handler(
            self.draining.clone(),
            self.drain,
            self.servers.iter().map(Server::handle).collect(),
        );
    }

    pub async fn until_stopped(self) -> std::io::Result<()> {
        try_join_all(self.servers).await.map(|_| ())
    }
}

/// What both services mount beside their own routes (`/readyz`'s checks, the data of
/// [`observe`](crate::observe::observe), `/metrics` unless `METRICS_BIND` moves it), and how
/// their servers stop. Cheap to clone into each worker's `App`.
#[derive(Clone)]
pub struct Plumbing {
    readiness: web::Data<Readiness>,
    observed: web::Data<Observed>,
    exporter: web::Data<Exporter>,
    serving: ServingSettings,
    draining: Draining,
}

impl Plumbing {
    /// `registry` holds every metric the service registered, `http` among them.
    pub fn new(
        registry: Registry,
        http: HttpMetrics,
        checks: Vec<Check>,
        serving: &ServingSettings,
    ) -> Self {
        let draining = Draining::default();
        Self {
            readiness: web::Data::new(Readiness {
                checks,
                draining: draining.clone(),
            }),
            observed: web::Data::new(Observed {
                metrics: http,
                draining: draining.clone(),
            }),
            exporter: web::Data::new(Exporter::new(registry)),
            serving: serving.clone(),
            draining,
        }
    }

    /// For `App::configure`, next to `.wrap(from_fn(observe)).wrap(access_log())`.
    pub fn configure(&self, cfg: &mut web::ServiceConfig) {
        cfg.app_data(self.readiness.clone())
            .app_data(self.observed.clone());
        if self.serving.metrics_bind.is_none() {
            cfg.app_data(self.exporter.clone());
            metrics::configure(cfg);
        }
    }

    /// Starts the `/metrics` server when `METRICS_BIND` is set (its port is returned), and
    /// bundles it with `api` to run and stop together.
    pub fn run(self, api: Server) -> std::io::Result<(Running, Option<u16>)> {
        let mut servers = vec![api];
        let mut metrics_port = None;
        if let Some(bind) = &self.serving.metrics_bind {
            let (server, addr) = metrics_server(bind, self.exporter)
                .map_err(|e| std::io::Error::new(e.kind(), format!("METRICS_BIND {bind}: {e}")))?;
            log::info!("metrics at http://{addr}/metrics");
            metrics_port = Some(addr.port());
            servers.push(server);
        }
        Ok((
            Running::new(servers, self.draining, self.serving.drain),
            metrics_port,
        ))
    }
}
