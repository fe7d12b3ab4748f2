//! What both services agree on without a database or HTTP: scopes, token and secret primitives,
//! settings types and the bodies that cross the wire. Neither actix nor diesel is a dependency,
//! so nothing here can reach a table or a request.

pub mod accounts;
pub mod audit;
pub mod config;
pub mod memory;
pub mod scopes;
pub mod secrets;
pub mod time;
pub mod wire;
