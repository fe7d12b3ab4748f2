//! The audit lines a test binary's process logs, captured: a test that checks them calls
//! [`capture`] first, which installs this as the process's one logger (so such tests live in a
//! test binary of their own), and reads them with [`lines`].

use std::sync::Mutex;

static LINES: Mutex<Vec<String>> = Mutex::new(Vec::new());

struct Capture;

impl log::Log for Capture {
    fn enabled(&self, metadata: &log::Metadata) -> bool {
        metadata.target() == oauth_core::audit::TARGET
    }

    fn log(&self, record: &log::Record) {
        if self.enabled(record.metadata()) {
            LINES
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push(record.args().to_string());
        }
    }

    fn flush(&self) {}
}

/// Starts capturing; whichever test of the binary comes first installs the logger.
pub fn capture() {
    if log::set_logger(&Capture).is_ok() {
        log::set_max_level(log::LevelFilter::Info);
    }
}

/// Every audit line captured so far, by every test of the binary (tests run at once: tell yours
/// apart by what they name).
pub fn lines() -> Vec<String> {
    LINES.lock().unwrap_or_else(|e| e.into_inner()).clone()
}
