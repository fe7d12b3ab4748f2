//! What both services share: configuration, the database layer, secrets, scopes, the scope policies,
//! the wire types and the contract's error bodies. No handlers live here.

pub mod access_log;
pub mod config;
pub mod db;
pub mod error;
pub mod memory;
pub mod policy;
pub mod scopes;
pub mod secrets;
pub mod time;
pub mod wire;

#[cfg(any(test, feature = "test-util"))]
pub mod testing;
