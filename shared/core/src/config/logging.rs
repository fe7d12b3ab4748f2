//! The log filter and format, settings like the others so that `--help` lists them.

use std::io::Write;

use serde::Serialize;

use super::{text, HELP_HEADING};

#[derive(Debug, Clone, clap::Args)]
#[command(next_help_heading = HELP_HEADING)]
pub struct LoggingArgs {
    /// Log filter, in env_logger's syntax (e.g. `info,actix_web=warn`).
    #[arg(long = "log", env = "RUST_LOG", default_value = "info", value_parser = text())]
    pub rust_log: String,
    /// `text` (a line for people) or `json` (one JSON object a line, for log collectors).
    #[arg(long, env = "LOG_FORMAT", default_value = "text", value_parser = log_format())]
    pub log_format: LogFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

fn log_format() -> super::Setting<LogFormat> {
    super::Setting::new(|raw| match raw {
        "text" => Ok(LogFormat::Text),
        "json" => Ok(LogFormat::Json),
        _ => Err(format!("{raw:?} is neither text nor json")),
    })
}

/// One line of `LOG_FORMAT=json`.
#[derive(Serialize)]
struct JsonLine<'a> {
    time: String,
    level: &'a str,
    target: &'a str,
    message: String,
}

/// Starts env_logger with this filter and format; a second call (tests) is a no-op. Either
/// way the lines go through the log facade and env_logger's filters; only their shape differs.
pub fn init_logging(args: &LoggingArgs) {
    let mut builder = env_logger::Builder::new();
    builder.parse_filters(&args.rust_log);
    if args.log_format == LogFormat::Json {
        builder.format(|buf, record| {
            let line = JsonLine {
                time: buf.timestamp_millis().to_string(),
                level: record.level().as_str(),
                target: record.target(),
                message: record.args().to_string(),
            };
            serde_json::to_writer(&mut *buf, &line)?;
            writeln!(buf)
        });
    }
    let _ = builder.try_init();
}
