/// Seconds since the Unix epoch: the one clock every timestamp column uses.
pub fn now() -> i64 {
    chrono::Utc::now().timestamp()
}
