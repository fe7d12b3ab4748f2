//! Settings from environment variables, declared once as clap arguments (`#[arg(long, env = …)]`)
//! so that parsing, defaults, validation and each binary's `--help` come from the same
//! definitions. A bad value is reported as one line naming the variable, so that a process can
//! stop at start with a clear message.

mod database;
mod logging;
mod password_hashing;
mod serving;
mod source;
mod values;

pub use database::{
    without_password, DatabaseArgs, DatabaseSettings, DatabaseUrl, SecretDatabaseUrl,
    DEFAULT_DATABASE_URL,
};
pub use logging::{init_logging, LogFormat, LoggingArgs};
pub use password_hashing::PasswordHashingArgs;
pub use serving::{ServingArgs, ServingSettings};
pub use source::{from_env, from_pairs};
pub use values::{
    check_http_url, check_socket_addr, http_url, number_in, secret, socket_addr, text, Setting,
};

/// The help heading under which both binaries list their settings.
pub const HELP_HEADING: &str = "Settings (each from its environment variable, or the flag)";

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("invalid configuration: {name}: {reason}")]
pub struct ConfigError {
    /// The environment variable.
    pub name: String,
    pub reason: String,
}

impl ConfigError {
    pub fn new(name: impl Into<String>, reason: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            reason: reason.into(),
        }
    }
}
