//! What both HTTP services do alike, written once: the access log, `/healthz` and `/readyz`, and
//! reading a request body within a size limit and a time limit. Each service keeps its own errors
//! and maps this crate's to them.

pub mod access_log;
pub mod bearer;
pub mod body;
pub mod health;
