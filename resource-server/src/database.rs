//! Running data-access functions off the async workers.

use crate::error::ApiError;
use actix_web::web;
use store::{Database, DbConnection};

/// `Database::run` with the API's errors, so that handlers' closures need no annotations.
pub async fn run<T, F>(db: &web::Data<Database>, f: F) -> Result<T, ApiError>
where
    F: FnOnce(&mut DbConnection) -> Result<T, ApiError> + Send + 'static,
    T: Send + 'static,
{
    db.run(f).await
}

/// `Database::read` with the API's errors: for a short read by key that writes nothing.
pub async fn read<T, F>(db: &web::Data<Database>, f: F) -> Result<T, ApiError>
where
    F: FnOnce(&mut DbConnection) -> Result<T, ApiError> + Send + 'static,
    T: Send + 'static,
{
    db.read(f).await
}
