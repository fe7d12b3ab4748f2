//! Typed settings, read once from the environment and validated before anything starts.

use std::fmt;
use std::time::Duration;

use oauth_core::config::{bcrypt_cost, ConfigError, DatabaseSettings, Vars};

pub const DEFAULT_BIND: &str = "127.0.0.1:8001";
pub const DEFAULT_INTROSPECTION_URL: &str = "http://127.0.0.1:8000/o/introspect/";

/// A value that must not end up in a log line: `Debug` shows a placeholder.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(\"[redacted]\")")
    }
}

#[derive(Clone)]
pub struct Settings {
    /// `host:port`; port 0 lets the system choose (tests).
    pub bind: String,
    pub database: DatabaseSettings,
    pub bcrypt_cost: u32,
    pub introspection: IntrospectionSettings,
}

#[derive(Debug, Clone)]
pub struct IntrospectionSettings {
    /// Parsed once here: the introspection client would otherwise parse it on every call.
    pub url: reqwest::Url,
    pub client_id: String,
    pub client_secret: Secret,
    /// How long an answer may be reused; zero turns the cache off.
    pub cache_ttl: Duration,
    pub cache_capacity: u64,
    /// Bounds connecting and the whole exchange with the auth server.
    pub timeout: Duration,
}

/// By hand, because a PostgreSQL URL may carry a password.
impl fmt::Debug for Settings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Settings")
            .field("bind", &self.bind)
            .field("database_url", &without_password(&self.database.url))
            .field("database_pool_size", &self.database.pool_size)
            .field("bcrypt_cost", &self.bcrypt_cost)
            .field("introspection", &self.introspection)
            .finish()
    }
}

/// `postgres://user:pass@host/db` -> `postgres://user:[redacted]@host/db`.
fn without_password(url: &str) -> String {
    let Some(scheme_end) = url.find("://").map(|i| i + 3) else {
        return url.to_string();
    };
    let authority_end = url[scheme_end..]
        .find('/')
        .map_or(url.len(), |i| scheme_end + i);
    let authority = &url[scheme_end..authority_end];
    match (authority.rfind('@'), authority.find(':')) {
        (Some(at), Some(colon)) if colon < at => format!(
            "{}{}:[redacted]{}",
            &url[..scheme_end],
            &authority[..colon],
            &url[scheme_end + at..]
        ),
        _ => url.to_string(),
    }
}

impl Settings {
    /// Settings from these variables alone, as if they were the whole environment (tests).
    pub fn from_pairs(pairs: &[(&str, &str)]) -> Result<Self, ConfigError> {
        Self::from_vars(&Vars::from_pairs(pairs.iter().copied()))
    }

    pub fn from_vars(vars: &Vars) -> Result<Self, ConfigError> {
        Ok(Self {
            bind: vars.socket_addr("RESOURCE_BIND", DEFAULT_BIND)?,
            database: DatabaseSettings::from_vars(vars)?,
            bcrypt_cost: bcrypt_cost(vars)?,
            introspection: IntrospectionSettings::from_vars(vars)?,
        })
    }
}

impl IntrospectionSettings {
    pub fn from_vars(vars: &Vars) -> Result<Self, ConfigError> {
        let raw = vars.http_url("INTROSPECTION_URL", DEFAULT_INTROSPECTION_URL)?;
        let url = reqwest::Url::parse(&raw)
            .map_err(|e| ConfigError::new("INTROSPECTION_URL", format!("{raw:?}: {e}")))?;
        // The WHATWG parser reads "http:///o/introspect/" as host "o": refuse an empty
        // authority in the text itself.
        let authority = raw.split_once("://").map_or("", |(_, rest)| rest);
        if !url.has_host() || authority.starts_with(['/', '?', '#']) {
            return Err(ConfigError::new(
                "INTROSPECTION_URL",
                format!("{raw:?} has no host"),
            ));
        }
        Ok(Self {
            url,
            client_id: vars.required("INTROSPECTION_CLIENT_ID")?,
            client_secret: Secret::new(vars.required("INTROSPECTION_CLIENT_SECRET")?),
            cache_ttl: Duration::from_secs(vars.number_in(
                "INTROSPECTION_CACHE_SECONDS",
                5,
                0..=3600,
            )?),
            cache_capacity: vars.number_in(
                "INTROSPECTION_CACHE_CAPACITY",
                100_000,
                1..=10_000_000,
            )?,
            timeout: Duration::from_millis(vars.number_in(
                "INTROSPECTION_TIMEOUT_MS",
                2000,
                1..=60_000,
            )?),
        })
    }

    /// `scheme://host[:port]` of the introspection endpoint: the auth server's base URL, from
    /// which its token endpoint (for the OpenAPI document) and health check are derived.
    pub fn auth_server_origin(&self) -> String {
        self.url.origin().ascii_serialization()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(extra: &[(&str, &str)]) -> Vars {
        let mut v = Vars::from_pairs([
            ("INTROSPECTION_CLIENT_ID", "rs"),
            ("INTROSPECTION_CLIENT_SECRET", "hunter2"),
        ]);
        for (k, val) in extra {
            v.set(*k, *val);
        }
        v
    }

    #[test]
    fn defaults_follow_the_contract() {
        let s = Settings::from_vars(&vars(&[])).unwrap();
        assert_eq!(s.bind, "127.0.0.1:8001");
        assert_eq!(s.introspection.url.as_str(), DEFAULT_INTROSPECTION_URL);
        assert_eq!(s.introspection.cache_ttl, Duration::from_secs(5));
        assert_eq!(s.introspection.timeout, Duration::from_millis(2000));
        assert_eq!(s.introspection.cache_capacity, 100_000);
        assert_eq!(s.bcrypt_cost, 12);
    }

    #[test]
    fn the_client_credentials_are_required() {
        let err = Settings::from_vars(&Vars::default()).unwrap_err();
        assert_eq!(err.name, "INTROSPECTION_CLIENT_ID");
        let err =
            Settings::from_vars(&Vars::from_pairs([("INTROSPECTION_CLIENT_ID", "x")])).unwrap_err();
        assert_eq!(err.name, "INTROSPECTION_CLIENT_SECRET");
    }

    #[test]
    fn a_bad_value_names_its_variable() {
        for (name, value) in [
            ("INTROSPECTION_CACHE_SECONDS", "3601"),
            ("INTROSPECTION_CACHE_SECONDS", "-1"),
            ("INTROSPECTION_TIMEOUT_MS", "soon"),
            ("INTROSPECTION_CACHE_CAPACITY", "0"),
            ("INTROSPECTION_URL", "ftp://auth/o/introspect/"),
            ("INTROSPECTION_URL", "http:///o/introspect/"),
            ("RESOURCE_BIND", "8001"),
            ("BCRYPT_COST", "3"),
        ] {
            let err = Settings::from_vars(&vars(&[(name, value)])).unwrap_err();
            assert_eq!(err.name, name, "{value}");
        }
    }

    #[test]
    fn zero_turns_the_cache_off() {
        let s = Settings::from_vars(&vars(&[("INTROSPECTION_CACHE_SECONDS", "0")])).unwrap();
        assert_eq!(s.introspection.cache_ttl, Duration::ZERO);
    }

    #[test]
    fn the_secret_never_shows_in_debug_output() {
        let s = Settings::from_vars(&vars(&[])).unwrap();
        assert!(!format!("{s:?}").contains("hunter2"));
        let s = Settings::from_vars(&vars(&[("DATABASE_URL", "postgres://app:pw0rd@db:5432/x")]))
            .unwrap();
        let shown = format!("{s:?}");
        assert!(!shown.contains("pw0rd"), "{shown}");
        assert!(
            shown.contains("postgres://app:[redacted]@db:5432/x"),
            "{shown}"
        );
    }

    #[test]
    fn the_auth_server_origin_never_carries_credentials_from_the_url() {
        let s = Settings::from_vars(&vars(&[(
            "INTROSPECTION_URL",
            "http://user:pass@auth:8000/o/introspect/",
        )]))
        .unwrap();
        assert_eq!(s.introspection.auth_server_origin(), "http://auth:8000");
    }

    #[test]
    fn the_auth_server_origin_drops_the_path() {
        let s = Settings::from_vars(&vars(&[(
            "INTROSPECTION_URL",
            "https://auth.example.com:8443/o/introspect/",
        )]))
        .unwrap();
        assert_eq!(
            s.introspection.auth_server_origin(),
            "https://auth.example.com:8443"
        );
    }
}
