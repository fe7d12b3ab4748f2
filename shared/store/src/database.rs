//! Running data-access work, one pooled connection per task, without stalling the async workers.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;
use std::time::Instant;

use prometheus_client::registry::Registry;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::batch_metrics::BatchMetrics;
use crate::pool_metrics::PoolMetrics;
use crate::{DbConnection, Pool, StoreError};

/// The connection pool, and one permit per connection in it. A request waits for a permit on its
/// async worker, in arrival order, and only then takes a blocking thread and a connection. Without
/// the permits, every request in flight parks a blocking thread on the pool's lock: under load
/// that is dozens of threads woken for ten connections and requests served out of order, which
/// shows in the p99 latency (docs/benchmarks.md).
#[derive(Clone)]
pub struct Database {
    pool: Pool,
    permits: Arc<Semaphore>,
    /// Whether `read` may run on the calling worker: true for SQLite only (see `read`).
    reads_in_place: bool,
    metrics: Arc<PoolMetrics>,
    /// Filled by the batchers (`crate::batch`) writing through this database.
    batches: BatchMetrics,
}

impl Database {
    /// Takes one connection to learn the backend; a pool that cannot give one now is treated as
    /// PostgreSQL, whose reads always go to the blocking threads.
    pub fn new(pool: Pool) -> Self {
        let permits = Arc::new(Semaphore::new(pool.max_size() as usize));
        let reads_in_place = pool
            .get()
            .is_ok_and(|conn| matches!(*conn, DbConnection::Sqlite(_)));
        Self {
            pool,
            permits,
            reads_in_place,
            metrics: Arc::default(),
            batches: BatchMetrics::default(),
        }
    }

    pub fn pool(&self) -> &Pool {
        &self.pool
    }

    /// Adds the pool's metrics (`db_pool_*`) to `registry`.
    pub fn register_metrics(&self, registry: &mut Registry) {
        self.metrics.register(registry, self.pool.clone());
    }

    /// Adds group commit's metrics (`db_batch_*`) to `registry`: for a service that writes
    /// through `crate::batch`, so that the others export no empty families.
    pub fn register_batch_metrics(&self, registry: &mut Registry) {
        self.batches.register(registry);
    }

    pub(crate) fn batch_metrics(&self) -> &BatchMetrics {
        &self.batches
    }

    /// Runs `f` with a pooled connection on the runtime's blocking thread pool. A pool that
    /// cannot hand out a connection is `StoreError::Unavailable` (a 503), not a 500. Any tokio
    /// runtime will do: actix-web's workers are tokio runtimes, and so are the CLI's and tests'.
    pub async fn run<T, E, F>(&self, f: F) -> Result<T, E>
    where
        F: FnOnce(&mut DbConnection) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<StoreError> + Send + 'static,
    {
        let asked = Instant::now();
        let permit = self.permit().await;
        self.on_blocking_thread(asked, permit, f).await
    }

    /// Runs `f`, a short read by key that writes nothing, like `run`; on SQLite, when a
    /// connection is idle, on the calling worker itself.
    ///
    /// Such a read takes a few microseconds on SQLite, fewer than handing it to a blocking thread
    /// and waking the worker again (two context switches; docs/benchmarks.md has the A/B). It cannot
    /// stall the worker on a lock: in WAL mode a reader never waits for the writer, and a
    /// write, which may wait for another (busy_timeout), always goes through `run`. What it may
    /// wait for is the disk, when the page is not in the OS cache. PostgreSQL reads are network
    /// round trips and always take a blocking thread; so does a read when no connection is idle,
    /// since the pool would make it wait.
    pub async fn read<T, E, F>(&self, f: F) -> Result<T, E>
    where
        F: FnOnce(&mut DbConnection) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<StoreError> + Send + 'static,
    {
        let asked = Instant::now();
        let permit = self.permit().await;
        let idle = if self.reads_in_place {
            self.pool.try_get()
        } else {
            None
        };
        match idle {
            Some(mut conn) => {
                let _permit = permit;
                self.metrics.waited(asked.elapsed());
                // As on a blocking thread, a panic fails this request and not the worker, whose
                // other connections would go with it.
                catch_unwind(AssertUnwindSafe(|| f(&mut conn)))
                    .unwrap_or_else(|_| Err(StoreError::Panicked.into()))
            }
            None => self.on_blocking_thread(asked, permit, f).await,
        }
    }

    /// The semaphore is never closed, so acquiring cannot fail.
    async fn permit(&self) -> Option<OwnedSemaphorePermit> {
        let _waiting = self.metrics.waiting();
        self.permits.clone().acquire_owned().await.ok()
    }

    /// The permit lives until the blocking work is done, even if the request is dropped meanwhile.
    async fn on_blocking_thread<T, E, F>(
        &self,
        asked: Instant,
        permit: Option<OwnedSemaphorePermit>,
        f: F,
    ) -> Result<T, E>
    where
        F: FnOnce(&mut DbConnection) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<StoreError> + Send + 'static,
    {
        let pool = self.pool.clone();
        let metrics = self.metrics.clone();
        tokio::task::spawn_blocking(move || {
            let _permit = permit;
            let conn = pool.get();
            metrics.waited(asked.elapsed());
            let mut conn = conn.map_err(|e| {
                metrics.failed();
                StoreError::from(e)
            })?;
            f(&mut conn)
        })
        .await
        .unwrap_or_else(|_| Err(StoreError::Panicked.into()))
    }
}
