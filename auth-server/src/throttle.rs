//! Throttling password guessing per account, counted in the database so that every replica sees
//! the same failures.

use auth_store::login_failures;
use oauth_core::secrets::sha256_hex;
use store::models::User;
use store::DbConnection;
use store::StoreError;

#[derive(Debug, Clone, Copy)]
pub struct LoginThrottle {
    pub limit: i64,
    pub window_seconds: i64,
}

/// The key failures are counted under: the account when it exists (so its username and e-mail
/// share one count), else a hash of the login as typed, so that unknown names are throttled
/// alike. The hash keeps the key within its column whatever length was sent, and keeps what
/// people type into the username field (sometimes a password) out of the table.
pub fn account_key(user: Option<&User>, login: &str) -> String {
    match user {
        Some(u) => format!("user:{}", u.id),
        None => format!("login:{}", sha256_hex(&login.to_lowercase())),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unknown_login_is_keyed_by_a_bounded_hash_whatever_its_case_or_length() {
        let long = "x".repeat(10_000);
        let key = account_key(None, &long);
        assert_eq!(key.len(), "login:".len() + 64);
        assert!(!key.contains("xxx"));
        assert_eq!(
            account_key(None, "Ann@Example.com"),
            account_key(None, "ann@example.COM")
        );
        assert_ne!(account_key(None, "ann"), account_key(None, "bob"));
    }
}
