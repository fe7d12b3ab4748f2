//! Running a service's servers: its API and, with `METRICS_BIND`, a second one for `/metrics`
//! alone; stopping them together as [`crate::shutdown`] describes.

use std::net::{SocketAddr, TcpListener};
use std::time::Duration;

use actix_web::dev::Server;
use actix_web::{web, App, HttpServer};
use futures_util::future::try_join_all;

use crate::metrics::{self, Exporter};
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
