//! What both HTTP services do alike, written once: the access log, request ids, metrics,
//! `/healthz` and `/readyz`, stopping without losing a request, and reading a request body within
//! a size limit and a time limit. Each service keeps its own errors and maps this crate's to them.

pub mod access_log;
pub mod bearer;
pub mod body;
pub mod health;
pub mod metrics;
pub mod observe;
pub mod request_id;
pub mod serving;
pub mod shutdown;
