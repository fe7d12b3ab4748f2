//! Throttling password guessing per account, counted in the database so that every replica sees
//! the same failures.

use shared::db::models::User;
use shared::db::{login_failures, DbConnection};
use shared::error::StoreError;

#[derive(Debug, Clone, Copy)]
pub struct LoginThrottle {
    pub limit: i64,
    pub window_seconds: i64,
}

/// The key failures are counted under: the account when it exists (so its username and e-mail
/// share one count), else the login as typed, so that unknown names are throttled alike.
pub fn account_key(user: Option<&User>, login: &str) -> String {
    match user {
        Some(u) => format!("user:{}", u.id),
        None => format!("login:{}", login.to_lowercase()),
    }
}

impl LoginThrottle {
    pub fn is_locked(
        &self,
        conn: &mut DbConnection,
        key: &str,
        now: i64,
    ) -> Result<bool, StoreError> {
        let failures = login_failures::count_since(conn, key, now - self.window_seconds)?;
        Ok(failures >= self.limit)
    }

    pub fn record_failure(
        &self,
        conn: &mut DbConnection,
        key: &str,
        now: i64,
    ) -> Result<(), StoreError> {
        Ok(login_failures::record(conn, key, now)?)
    }

    pub fn record_success(&self, conn: &mut DbConnection, key: &str) -> Result<(), StoreError> {
        Ok(login_failures::clear(conn, key)?)
    }
}
