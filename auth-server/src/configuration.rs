//! The auth server's settings, read from the environment and validated at start.

use oauth_core::config::{bcrypt_cost, ConfigError, DatabaseSettings, Vars};
use oauth_core::scopes::{ScopeSet, DEFAULT_SCOPES};

#[derive(Debug, Clone)]
pub struct Settings {
    pub bind: String,
    pub database: DatabaseSettings,
    pub access_token_seconds: i64,
    pub refresh_token_seconds: i64,
    pub bcrypt_cost: u32,
    /// Every scope a client may ever be granted.
    pub scopes: ScopeSet,
    /// `None`: derived from the address actually bound (`http://host:port`).
    pub issuer: Option<String>,
    pub login_failure_limit: i64,
    pub login_failure_window_seconds: i64,
    /// How often the server deletes dead tokens; 0 turns the task off.
    pub cleanup_interval_seconds: u64,
    /// How long a successful client authentication is remembered; 0 turns the cache off.
    pub client_cache_seconds: u64,
    /// How long an expired or revoked token is kept before it is deleted.
    pub token_retention_seconds: i64,
}

const DAY: i64 = 86_400;

impl Settings {
    /// Settings from these variables alone, as if they were the whole environment (tests).
    pub fn from_pairs(pairs: &[(&str, &str)]) -> Result<Self, ConfigError> {
        Self::from_vars(&Vars::from_pairs(pairs.iter().copied()))
    }

    pub fn from_vars(vars: &Vars) -> Result<Self, ConfigError> {
        let default_scopes: Vec<&str> = DEFAULT_SCOPES.iter().map(|(name, _)| *name).collect();
        let raw_scopes = vars.string_or("OAUTH_SCOPES", &default_scopes.join(" "));
        let scopes = ScopeSet::parse(&raw_scopes)
            .map_err(|e| ConfigError::new("OAUTH_SCOPES", e.to_string()))?;
        if scopes.is_empty() {
            return Err(ConfigError::new("OAUTH_SCOPES", "names no scope"));
        }
        let issuer = match vars.get("AUTH_ISSUER") {
            None => None,
            Some(_) => Some(
                vars.http_url("AUTH_ISSUER", "")?
                    .trim_end_matches('/')
                    .to_string(),
            ),
        };
        Ok(Self {
            bind: vars.socket_addr("AUTH_BIND", "127.0.0.1:8000")?,
            database: DatabaseSettings::from_vars(vars)?,
            access_token_seconds: vars.number_in(
                "ACCESS_TOKEN_EXPIRE_SECONDS",
                36_000,
                1..=365 * DAY,
            )?,
            refresh_token_seconds: vars.number_in(
                "REFRESH_TOKEN_EXPIRE_SECONDS",
                30 * DAY,
                1..=3650 * DAY,
            )?,
            bcrypt_cost: bcrypt_cost(vars)?,
            scopes,
            issuer,
            login_failure_limit: vars.number_in("LOGIN_FAILURE_LIMIT", 10, 1..=1_000_000)?,
            login_failure_window_seconds: vars.number_in(
                "LOGIN_FAILURE_WINDOW_SECONDS",
                900,
                1..=30 * DAY,
            )?,
            cleanup_interval_seconds: vars.number_in(
                "TOKEN_CLEANUP_INTERVAL_SECONDS",
                3600,
                0..=30 * 86_400,
            )?,
            client_cache_seconds: vars.number_in("CLIENT_CACHE_SECONDS", 5, 0..=300)?,
            token_retention_seconds: vars.number_in(
                "TOKEN_RETENTION_SECONDS",
                DAY,
                0..=3650 * DAY,
            )?,
        })
    }

    /// The issuer for a server bound to `addr`.
    pub fn issuer_for(&self, addr: std::net::SocketAddr) -> String {
        self.issuer
            .clone()
            .unwrap_or_else(|| format!("http://{addr}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_follow_the_contract() {
        let s = Settings::from_vars(&Vars::default()).unwrap();
        assert_eq!(s.bind, "127.0.0.1:8000");
        assert_eq!(s.access_token_seconds, 36_000);
        assert_eq!(s.refresh_token_seconds, 2_592_000);
        assert_eq!(s.bcrypt_cost, 12);
        assert_eq!(s.login_failure_limit, 10);
        assert_eq!(s.login_failure_window_seconds, 900);
        assert_eq!(s.scopes.iter().count(), 9);
        assert_eq!(
            s.issuer_for("127.0.0.1:8000".parse().unwrap()),
            "http://127.0.0.1:8000"
        );
    }

    #[test]
    fn each_bad_value_names_its_variable() {
        for (name, value) in [
            ("AUTH_BIND", "nowhere"),
            ("ACCESS_TOKEN_EXPIRE_SECONDS", "-1"),
            ("REFRESH_TOKEN_EXPIRE_SECONDS", "soon"),
            ("OAUTH_SCOPES", "read \"write\""),
            ("AUTH_ISSUER", "ftp://x"),
            ("LOGIN_FAILURE_LIMIT", "0"),
            ("LOGIN_FAILURE_WINDOW_SECONDS", "x"),
            ("DATABASE_URL", "mysql://x"),
        ] {
            let err = Settings::from_vars(&Vars::from_pairs([(name, value)])).unwrap_err();
            assert_eq!(err.name, name);
        }
    }
}
