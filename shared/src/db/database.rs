//! Running data-access work off the async workers, one connection per task.

use std::sync::Arc;

use actix_web::error::BlockingError;
use tokio::sync::Semaphore;

use super::{DbConnection, Pool};
use crate::error::StoreError;

/// The connection pool, and one permit per connection in it. A request waits for a permit on its
/// async worker, in arrival order, and only then takes a blocking thread and a connection. Without
/// the permits, every request in flight parks a blocking thread on the pool's lock: under load
/// that is dozens of threads woken for ten connections, requests served out of order, and (as
/// measured by `scripts/bench`) a p99 latency of hundreds of milliseconds.
#[derive(Clone)]
pub struct Database {
    pool: Pool,
    permits: Arc<Semaphore>,
}

impl Database {
    pub fn new(pool: Pool) -> Self {
        let permits = Arc::new(Semaphore::new(pool.max_size() as usize));
        Self { pool, permits }
    }

    pub fn pool(&self) -> &Pool {
        &self.pool
    }

    /// Runs `f` with a pooled connection on the blocking thread pool. A pool that cannot hand out
    /// a connection is `StoreError::Unavailable` (a 503), not a 500.
    pub async fn run<T, E, F>(&self, f: F) -> Result<T, E>
    where
        F: FnOnce(&mut DbConnection) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<StoreError> + From<BlockingError> + Send + 'static,
    {
        // The semaphore is never closed, so acquiring cannot fail; the permit lives until the
        // blocking work is done, even if the request is dropped meanwhile.
        let permit = self.permits.clone().acquire_owned().await.ok();
        let pool = self.pool.clone();
        actix_web::web::block(move || {
            let _permit = permit;
            let mut conn = pool.get().map_err(StoreError::from)?;
            f(&mut conn)
        })
        .await?
    }
}
