//! How a service serves, beside what it serves: where `/metrics` is, and how long it drains on
//! SIGTERM. The same variables in both services.

use std::time::Duration;

use super::{check_socket_addr, number_in, Setting, HELP_HEADING};

#[derive(Debug, Clone, clap::Args)]
#[command(next_help_heading = HELP_HEADING)]
pub struct ServingArgs {
    /// A separate address for GET /metrics, e.g. 0.0.0.0:9100, so that it need not be reachable
    /// where the API is [default: none: /metrics is served on the service's own address].
    #[arg(long, env = "METRICS_BIND", default_value = "", hide_default_value = true, value_parser = optional_socket_addr())]
    pub metrics_bind: OptionalAddr,
    /// On SIGTERM: seconds during which /readyz fails but requests are still served (with
    /// `Connection: close`), before the server stops accepting; SIGINT skips it.
    #[arg(long, env = "SHUTDOWN_DRAIN_SECONDS", default_value_t = 5, value_parser = number_in(0..=600u64))]
    pub shutdown_drain_seconds: u64,
}

#[derive(Debug, Clone)]
pub struct ServingSettings {
    pub metrics_bind: Option<String>,
    pub drain: Duration,
}

impl From<ServingArgs> for ServingSettings {
    fn from(args: ServingArgs) -> Self {
        Self {
            metrics_bind: args.metrics_bind.0,
            drain: Duration::from_secs(args.shutdown_drain_seconds),
        }
    }
}

/// An address that may be unset (blank). A newtype, as clap reads an `Option` field as an
/// optional argument of the inner type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OptionalAddr(pub Option<String>);

fn optional_socket_addr() -> Setting<OptionalAddr> {
    Setting::new(|raw| {
        if raw.is_empty() {
            Ok(OptionalAddr(None))
        } else {
            check_socket_addr(raw).map(|addr| OptionalAddr(Some(addr)))
        }
    })
}
