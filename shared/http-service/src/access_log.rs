//! The access log both services write: one line per request at `info`.

use actix_web::middleware::{Condition, Logger};

/// The client address, method, path (never the query string, which could carry a secret someone
/// put there), status, body size, time taken and the request id (`X-Request-Id`, as answered:
/// see `observe`).
///
/// Switched off when `info` is not logged for the middleware: actix-web's `Logger` clones its
/// format and renders the request half of the line for every request, even when the line is then
/// dropped, and that costs a few allocations a request on the hot paths.
pub fn access_log() -> Condition<Logger> {
    let enabled = log::log_enabled!(target: "actix_web::middleware::logger", log::Level::Info);
    Condition::new(
        enabled,
        Logger::new(r#"%a "%{method}xi %U" %s %b %Dms request_id=%{x-request-id}o"#)
            .custom_request_replace("method", |req| req.method().to_string()),
    )
}
