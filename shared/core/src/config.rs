//! Reading configuration from environment variables. A bad value is reported with the variable's
//! name so that the process can stop at start with one clear line.

use std::collections::HashMap;
use std::fmt::Display;
use std::str::FromStr;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("invalid configuration: {name}: {reason}")]
pub struct ConfigError {
    pub name: &'static str,
    pub reason: String,
}

impl ConfigError {
    pub fn new(name: &'static str, reason: impl Into<String>) -> Self {
        Self {
            name,
            reason: reason.into(),
        }
    }
}

/// A snapshot of the variables, so that settings can be built from a map in tests without touching
/// the process environment.
#[derive(Debug, Clone, Default)]
pub struct Vars(HashMap<String, String>);

impl Vars {
    pub fn from_env() -> Self {
        Self(std::env::vars().collect())
    }

    pub fn from_pairs<K: Into<String>, V: Into<String>>(
        pairs: impl IntoIterator<Item = (K, V)>,
    ) -> Self {
        Self(
            pairs
                .into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
        )
    }

    pub fn set(&mut self, name: impl Into<String>, value: impl Into<String>) {
        self.0.insert(name.into(), value.into());
    }

    /// The value, or None when unset or blank.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(|v| v.trim()).filter(|v| !v.is_empty())
    }

    pub fn string_or(&self, name: &str, default: &str) -> String {
        self.get(name).unwrap_or(default).to_string()
    }

    pub fn required(&self, name: &'static str) -> Result<String, ConfigError> {
        self.get(name)
            .map(str::to_string)
            .ok_or_else(|| ConfigError::new(name, "is required but not set"))
    }

    /// Parses the value, or returns `default` when unset, and checks it lies in `range`.
    pub fn number_in<T>(
        &self,
        name: &'static str,
        default: T,
        range: std::ops::RangeInclusive<T>,
    ) -> Result<T, ConfigError>
    where
        T: FromStr + PartialOrd + Display + Copy,
    {
        let value = match self.get(name) {
            None => default,
            Some(raw) => raw
                .parse::<T>()
                .map_err(|_| ConfigError::new(name, format!("{raw:?} is not a whole number")))?,
        };
        if !range.contains(&value) {
            return Err(ConfigError::new(
                name,
                format!(
                    "{value} is out of range ({}..={})",
                    range.start(),
                    range.end()
                ),
            ));
        }
        Ok(value)
    }

    /// A `host:port` socket address.
    pub fn socket_addr(&self, name: &'static str, default: &str) -> Result<String, ConfigError> {
        let raw = self.string_or(name, default);
        raw.parse::<std::net::SocketAddr>().map_err(|_| {
            ConfigError::new(
                name,
                format!("{raw:?} is not a host:port address such as 127.0.0.1:8000"),
            )
        })?;
        Ok(raw)
    }

    /// An absolute http(s) URL.
    pub fn http_url(&self, name: &'static str, default: &str) -> Result<String, ConfigError> {
        let raw = self.string_or(name, default);
        if !(raw.starts_with("http://") || raw.starts_with("https://")) || raw.len() < 10 {
            return Err(ConfigError::new(
                name,
                format!("{raw:?} is not an http:// or https:// URL"),
            ));
        }
        Ok(raw)
    }
}

/// Which backend a `DATABASE_URL` names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DatabaseUrl {
    Postgres(String),
    /// A file path (relative to the working directory) or `:memory:`.
    Sqlite(String),
}

impl DatabaseUrl {
    pub fn parse(url: &str) -> Result<Self, String> {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(Self::Postgres(url.to_string()))
        } else if let Some(path) = url.strip_prefix("sqlite://") {
            if path.is_empty() {
                return Err("sqlite:// needs a file path, e.g. sqlite://data/oauth.sqlite3".into());
            }
            Ok(Self::Sqlite(path.to_string()))
        } else {
            Err("must start with sqlite:// or postgres://".into())
        }
    }
}

pub const DEFAULT_DATABASE_URL: &str = "sqlite://data/oauth.sqlite3";

/// Settings both services read the same way.
#[derive(Debug, Clone)]
pub struct DatabaseSettings {
    pub url: String,
    pub pool_size: u32,
}

impl DatabaseSettings {
    pub fn from_vars(vars: &Vars) -> Result<Self, ConfigError> {
        let url = vars.string_or("DATABASE_URL", DEFAULT_DATABASE_URL);
        DatabaseUrl::parse(&url).map_err(|reason| ConfigError::new("DATABASE_URL", reason))?;
        Ok(Self {
            url,
            pool_size: vars.number_in("DATABASE_POOL_SIZE", 10, 1..=1000)?,
        })
    }
}

pub fn bcrypt_cost(vars: &Vars) -> Result<u32, ConfigError> {
    vars.number_in("BCRYPT_COST", 12, 4..=31)
}

/// Starts env_logger at `RUST_LOG`, `info` when unset.
pub fn init_logging() {
    let _ = env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("info"))
        .try_init();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_number_outside_its_range_names_the_variable() {
        let vars = Vars::from_pairs([("DATABASE_POOL_SIZE", "0")]);
        let err = DatabaseSettings::from_vars(&vars).unwrap_err();
        assert_eq!(err.name, "DATABASE_POOL_SIZE");
    }

    #[test]
    fn a_word_where_a_number_belongs_is_refused() {
        let vars = Vars::from_pairs([("BCRYPT_COST", "twelve")]);
        assert_eq!(bcrypt_cost(&vars).unwrap_err().name, "BCRYPT_COST");
    }

    #[test]
    fn defaults_apply_when_unset_or_blank() {
        let vars = Vars::from_pairs([("BCRYPT_COST", " ")]);
        assert_eq!(bcrypt_cost(&vars).unwrap(), 12);
        let db = DatabaseSettings::from_vars(&vars).unwrap();
        assert_eq!(db.url, DEFAULT_DATABASE_URL);
        assert_eq!(db.pool_size, 10);
    }

    #[test]
    fn an_unknown_database_scheme_is_refused() {
        let vars = Vars::from_pairs([("DATABASE_URL", "mysql://localhost/x")]);
        assert_eq!(
            DatabaseSettings::from_vars(&vars).unwrap_err().name,
            "DATABASE_URL"
        );
    }

    #[test]
    fn a_bind_address_must_be_host_and_port() {
        let vars = Vars::from_pairs([("AUTH_BIND", "localhost")]);
        assert!(vars.socket_addr("AUTH_BIND", "127.0.0.1:8000").is_err());
        assert!(Vars::default()
            .socket_addr("AUTH_BIND", "127.0.0.1:8000")
            .is_ok());
    }
}
