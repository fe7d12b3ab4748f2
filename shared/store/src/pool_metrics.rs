//! The connection pool, as Prometheus sees it: connections in use and idle (read at each
//! scrape), the time a request waits for one, how many wait, and the failures to get one.

use std::time::Duration;

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeLabelSet, EncodeMetric};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::gauge::{ConstGauge, Gauge};
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

use crate::Pool;

/// From ten microseconds (an idle connection) to the pool's own 30 s timeout.
const WAIT_BUCKETS: [f64; 12] = [
    0.00001, 0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1.0, 5.0, 30.0,
];

#[derive(Debug, Clone)]
pub struct PoolMetrics {
    wait: Histogram,
    waiting: Gauge,
    errors: Counter,
}

impl Default for PoolMetrics {
    fn default() -> Self {
        Self {
            wait: Histogram::new(WAIT_BUCKETS),
            waiting: Gauge::default(),
            errors: Counter::default(),
        }
    }
}

impl PoolMetrics {
    pub(crate) fn register(&self, registry: &mut Registry, pool: Pool) {
        registry.register(
            "db_pool_wait_seconds",
            "Time a database task waited for a pooled connection",
            self.wait.clone(),
        );
        registry.register(
            "db_pool_waiting",
            "Database tasks waiting for a pooled connection now",
            self.waiting.clone(),
        );
        registry.register(
            "db_pool_errors",
            "Failures to get a pooled connection (the database unreachable, or the pool's timeout)",
            self.errors.clone(),
        );
        registry.register_collector(Box::new(PoolState(pool)));
    }

    pub(crate) fn waiting(&self) -> WaitGuard<'_> {
        self.waiting.inc();
        WaitGuard(&self.waiting)
    }

    pub(crate) fn waited(&self, took: Duration) {
        self.wait.observe(took.as_secs_f64());
    }

    pub(crate) fn failed(&self) {
        self.errors.inc();
    }
}

/// Counts a waiter until dropped, however its wait ends (a connection, an error, a dropped
/// request).
pub(crate) struct WaitGuard<'a>(&'a Gauge);

impl Drop for WaitGuard<'_> {
    fn drop(&mut self) {
        self.0.dec();
    }
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StateLabels {
    state: &'static str,
}

/// Read from r2d2 at each scrape rather than kept up to date on every checkout.
struct PoolState(Pool);

impl std::fmt::Debug for PoolState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PoolState")
    }
}

impl Collector for PoolState {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let state = self.0.state();
        let idle = i64::from(state.idle_connections);
        let open = i64::from(state.connections);
        let connections = ConstGauge::new(0i64);
        let mut family = encoder.encode_descriptor(
            "db_pool_connections",
            "Open pooled database connections, in use or idle",
            None,
            connections.metric_type(),
        )?;
        for (name, value) in [("in_use", open - idle), ("idle", idle)] {
            ConstGauge::new(value).encode(family.encode_family(&StateLabels { state: name })?)?;
        }
        let max = ConstGauge::new(i64::from(self.0.max_size()));
        max.encode(encoder.encode_descriptor(
            "db_pool_max_connections",
            "The pool's size (DATABASE_POOL_SIZE)",
            None,
            max.metric_type(),
        )?)?;
        Ok(())
    }
}
