//! Stopping without losing a request. On SIGTERM (what Kubernetes, docker and systemd send) a
//! replica first fails `/readyz`, so that load balancers take it out; keeps serving for
//! `SHUTDOWN_DRAIN_SECONDS`, answering each request with `Connection: close` so that kept-alive
//! connections move to other replicas; then stops accepting and gives the requests in flight up
//! to [`IN_FLIGHT_GRACE`] to finish. SIGINT (Ctrl-C at a terminal) skips the drain.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use actix_web::dev::ServerHandle;

/// How long the requests in flight get once the server stops accepting (actix-web's
/// `shutdown_timeout`). Kubernetes' `terminationGracePeriodSeconds` must exceed the drain plus
/// this.
pub const IN_FLIGHT_GRACE: Duration = Duration::from_secs(10);

/// Whether this replica is on its way out; shared by `/readyz` and the response middleware.
#[derive(Debug, Clone, Default)]
pub struct Draining(Arc<AtomicBool>);

impl Draining {
    pub fn is_set(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }

    pub fn set(&self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

/// Waits for SIGTERM or SIGINT on the current runtime, then stops `servers` as described above.
/// The servers must have been built with `disable_signals()`, so that this is the only handler.
pub fn spawn_signal_handler(draining: Draining, drain: Duration, servers: Vec<ServerHandle>) {
    actix_web::rt::spawn(async move {
        let drain = match wait_for_signal().await {
            Signal::Terminate => drain,
            Signal::Interrupt => Duration::ZERO,
        };
        draining.set();
        if !drain.is_zero() {
            log::info!(
                "SIGTERM: not ready any more; serving for {} s before stopping",
                drain.as_secs()
            );
            tokio::time::sleep(drain).await;
        }
        log::info!("stopping: no new connections; the requests in flight finish");
        for server in servers {
            server.stop(true).await;
        }
    });
}

enum Signal {
    Terminate,
    Interrupt,
}

async fn wait_for_signal() -> Signal {
    use tokio::signal::unix::{signal, SignalKind};
    match signal(SignalKind::terminate()) {
        Ok(mut term) => tokio::select! {
            _ = term.recv() => Signal::Terminate,
            _ = tokio::signal::ctrl_c() => Signal::Interrupt,
        },
        Err(e) => {
            log::warn!("cannot listen for SIGTERM ({e}); only SIGINT stops the server");
            let _ = tokio::signal::ctrl_c().await;
            Signal::Interrupt
        }
    }
}
