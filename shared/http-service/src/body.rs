//! Reading a request body whole, within a size limit and a time limit.

use std::time::Duration;

use actix_web::error::PayloadError;
use actix_web::web::{Bytes, BytesMut};
use futures_util::{Stream, StreamExt};

/// A client that stops sending its body part-way would otherwise hold its connection and request
/// for ever (actix-web bounds the wait for the head, not for the body).
pub const BODY_READ_TIMEOUT: Duration = Duration::from_secs(10);

/// Why a body could not be read; each service words these in its own error format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyError {
    /// Declared or sent larger than the limit.
    TooLarge,
    /// The connection failed while the body was being sent.
    Unreadable,
    /// Not all of it arrived within [`BODY_READ_TIMEOUT`].
    TimedOut,
}

/// Reads at most `limit` bytes of a request's payload (`web::Payload` or `dev::Payload`). A `Content-Length` over the limit is refused before
/// anything is read.
pub async fn read_body<S>(
    payload: &mut S,
    declared_length: Option<u64>,
    limit: usize,
) -> Result<BytesMut, BodyError>
where
    S: Stream<Item = Result<Bytes, PayloadError>> + Unpin,
{
    if declared_length.is_some_and(|n| n > limit as u64) {
        return Err(BodyError::TooLarge);
    }
    let read = async {
        let mut body = BytesMut::new();
        while let Some(chunk) = payload.next().await {
            let chunk = chunk.map_err(|_| BodyError::Unreadable)?;
            if body.len() + chunk.len() > limit {
                return Err(BodyError::TooLarge);
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body)
    };
    tokio::time::timeout(BODY_READ_TIMEOUT, read)
        .await
        .map_err(|_| BodyError::TimedOut)?
}

/// The request's `Content-Length`, when it states one that parses.
pub fn declared_length(req: &actix_web::HttpRequest) -> Option<u64> {
    req.headers()
        .get(actix_web::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
}
