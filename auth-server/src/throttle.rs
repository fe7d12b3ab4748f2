//! Throttling password guessing per account, counted in the database so that every replica sees
//! the same failures.

use auth_store::login_failures;
use store::models::User;
use store::DbConnection;
use store::StoreError;

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
    /// Records an attempt as a failure and tells whether the account is now over its limit
    /// within the window (this attempt included).
    pub fn register_attempt(
        &self,
        conn: &mut DbConnection,
        key: &str,
        now: i64,
    ) -> Result<bool, StoreError> {
        login_failures::record(conn, key, now)?;
        let failures = login_failures::count_since(conn, key, now - self.window_seconds)?;
        Ok(failures > self.limit)
    }

    /// A correct password while not locked: the account's failures are forgiven.
    pub fn record_success(&self, conn: &mut DbConnection, key: &str) -> Result<(), StoreError> {
        login_failures::clear(conn, key)
    }
}
