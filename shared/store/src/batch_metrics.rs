//! Group commit (`crate::batch`), as Prometheus sees it: how many rows each batch carried, how
//! long a write waited for its batch to be taken, and how long a batch took to be written and
//! committed. A write's time in the database layer is its wait plus its batch's write; the
//! split tells an operator whether the writers or the database are the slow part.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

/// Up to `batch::MAX_BATCH` (64) rows.
const ROWS_BUCKETS: [f64; 7] = [1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0];

/// From a write taken at once (tens of microseconds) to one that waited out a stalled database.
const SECONDS_BUCKETS: [f64; 13] = [
    0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 1.0, 10.0,
];

/// A batcher's name, chosen in code (`"access_tokens"`, `"refresh_rotations"`), never by a client.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct BatchLabels {
    batch: &'static str,
}

type Histograms = Family<BatchLabels, Histogram, fn() -> Histogram>;

#[derive(Debug, Clone)]
pub struct BatchMetrics {
    rows: Histograms,
    queued: Histograms,
    written: Histograms,
}

impl Default for BatchMetrics {
    fn default() -> Self {
        Self {
            rows: Family::new_with_constructor(|| Histogram::new(ROWS_BUCKETS)),
            queued: Family::new_with_constructor(|| Histogram::new(SECONDS_BUCKETS)),
            written: Family::new_with_constructor(|| Histogram::new(SECONDS_BUCKETS)),
        }
    }
}

impl BatchMetrics {
    pub(crate) fn register(&self, registry: &mut Registry) {
        registry.register(
            "db_batch_rows",
            "Writes carried by each group-commit batch",
            self.rows.clone(),
        );
        registry.register(
            "db_batch_queue_seconds",
            "Time a write waited for a group-commit writer to take its batch",
            self.queued.clone(),
        );
        registry.register(
            "db_batch_write_seconds",
            "Time a group-commit batch took to be written and committed, connection included",
            self.written.clone(),
        );
    }

    /// One batcher's histograms, looked up once so that each batch costs no map lookup.
    pub(crate) fn of(&self, batch: &'static str) -> BatcherMetrics {
        let labels = BatchLabels { batch };
        BatcherMetrics {
            rows: self.rows.get_or_create(&labels).clone(),
            queued: self.queued.get_or_create(&labels).clone(),
            written: self.written.get_or_create(&labels).clone(),
        }
    }
}

/// The histograms of one batcher (clones share their counts with the registered family).
#[derive(Debug, Clone)]
pub(crate) struct BatcherMetrics {
    pub rows: Histogram,
    pub queued: Histogram,
    pub written: Histogram,
}
