//! Running data-access functions off the async workers.

use actix_web::web;
use shared::db::{DbConnection, Pool};
use shared::error::ApiError;

/// Runs `f` with a pooled connection on the blocking thread pool. A pool that cannot hand out a
/// connection is a 503 (`StoreError::Unavailable`), not a 500.
pub async fn run<T, F>(pool: &web::Data<Pool>, f: F) -> Result<T, ApiError>
where
    F: FnOnce(&mut DbConnection) -> Result<T, ApiError> + Send + 'static,
    T: Send + 'static,
{
    let pool = pool.clone();
    web::block(move || {
        let mut conn = pool.get()?;
        f(&mut conn)
    })
    .await?
}
