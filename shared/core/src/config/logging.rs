//! The log filter, a setting like the others so that `--help` lists it.

use super::{text, HELP_HEADING};

#[derive(Debug, Clone, clap::Args)]
#[command(next_help_heading = HELP_HEADING)]
pub struct LoggingArgs {
    /// Log filter, in env_logger's syntax (e.g. `info,actix_web=warn`).
    #[arg(long = "log", env = "RUST_LOG", default_value = "info", value_parser = text())]
    pub rust_log: String,
}

/// Starts env_logger with this filter; a second call (tests) is a no-op.
pub fn init_logging(args: &LoggingArgs) {
    let _ = env_logger::Builder::new()
        .parse_filters(&args.rust_log)
        .try_init();
}
