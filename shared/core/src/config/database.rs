//! DATABASE_URL and DATABASE_POOL_SIZE, read the same way by both services. The URL may carry a
//! PostgreSQL password, so it is held as a secret whose `Debug` shows it redacted.

use std::fmt;

use crate::secrets::{ExposeSecret, SecretString};

use super::{number_in, Setting, HELP_HEADING};

pub const DEFAULT_DATABASE_URL: &str = "sqlite://data/oauth.sqlite3";

#[derive(Debug, Clone, clap::Args)]
#[command(next_help_heading = HELP_HEADING)]
pub struct DatabaseArgs {
    /// sqlite://path (relative to the working directory) or postgres://user:pass@host/db.
    #[arg(
        long,
        env = "DATABASE_URL",
        default_value = DEFAULT_DATABASE_URL,
        hide_env_values = true,
        value_parser = database_url(),
    )]
    pub database_url: SecretDatabaseUrl,
    /// Database connections per process.
    #[arg(long, env = "DATABASE_POOL_SIZE", default_value_t = 10, value_parser = number_in(1..=1000u32))]
    pub database_pool_size: u32,
}

/// Settings both services read the same way.
#[derive(Debug, Clone)]
pub struct DatabaseSettings {
    pub url: SecretDatabaseUrl,
    pub pool_size: u32,
}

impl From<DatabaseArgs> for DatabaseSettings {
    fn from(args: DatabaseArgs) -> Self {
        Self {
            url: args.database_url,
            pool_size: args.database_pool_size,
        }
    }
}

fn database_url() -> Setting<SecretDatabaseUrl> {
    Setting::new(|raw| {
        DatabaseUrl::parse(raw)?;
        Ok(SecretDatabaseUrl(SecretString::from(raw.to_string())))
    })
}

/// DATABASE_URL as configured, checked to name a backend. Only [`ExposeSecret`] gives the text,
/// to open connections with.
#[derive(Clone)]
pub struct SecretDatabaseUrl(SecretString);

impl ExposeSecret<str> for SecretDatabaseUrl {
    fn expose_secret(&self) -> &str {
        self.0.expose_secret()
    }
}

impl fmt::Debug for SecretDatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("SecretDatabaseUrl")
            .field(&without_password(self.0.expose_secret()))
            .finish()
    }
}

/// Which backend a `DATABASE_URL` names.
#[derive(Clone, PartialEq, Eq)]
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

/// By hand: the connection pool's manager holds one, and a PostgreSQL URL may carry a password.
impl fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Postgres(url) => f
                .debug_tuple("Postgres")
                .field(&without_password(url))
                .finish(),
            Self::Sqlite(path) => f.debug_tuple("Sqlite").field(path).finish(),
        }
    }
}

/// The URL with any password replaced by `[redacted]`: the one in the user information
/// (`postgres://user:pass@host/db` -> `postgres://user:[redacted]@host/db`) and libpq's
/// `password=` query parameter.
pub fn without_password(url: &str) -> String {
    let Some(scheme_end) = url.find("://").map(|i| i + 3) else {
        return url.to_string();
    };
    let authority_end = url[scheme_end..]
        .find(['/', '?', '#'])
        .map_or(url.len(), |i| scheme_end + i);
    let authority = &url[scheme_end..authority_end];
    let mut shown = match (authority.rfind('@'), authority.find(':')) {
        (Some(at), Some(colon)) if colon < at => format!(
            "{}{}:[redacted]{}",
            &url[..scheme_end],
            &authority[..colon],
            &url[scheme_end + at..]
        ),
        _ => url.to_string(),
    };
    if let Some(query_start) = shown.find('?') {
        let (head, query) = shown.split_at(query_start + 1);
        let query: Vec<String> = query
            .split('&')
            .map(|pair| match pair.split_once('=') {
                Some((key, _)) if key.eq_ignore_ascii_case("password") => {
                    format!("{key}=[redacted]")
                }
                _ => pair.to_string(),
            })
            .collect();
        shown = format!("{head}{}", query.join("&"));
    }
    shown
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::from_pairs;

    fn settings(pairs: &[(&str, &str)]) -> Result<DatabaseSettings, crate::config::ConfigError> {
        from_pairs::<DatabaseArgs>(pairs).map(DatabaseSettings::from)
    }

    #[test]
    fn a_number_outside_its_range_names_the_variable() {
        let err = settings(&[("DATABASE_POOL_SIZE", "0")]).unwrap_err();
        assert_eq!(err.name, "DATABASE_POOL_SIZE");
        assert!(settings(&[("DATABASE_POOL_SIZE", "1001")]).is_err());
    }

    #[test]
    fn defaults_apply_when_unset_or_blank() {
        for pairs in [
            &[][..],
            &[("DATABASE_URL", " "), ("DATABASE_POOL_SIZE", "")][..],
        ] {
            let db = settings(pairs).unwrap();
            assert_eq!(db.url.expose_secret(), DEFAULT_DATABASE_URL);
            assert_eq!(db.pool_size, 10);
        }
    }

    #[test]
    fn an_unknown_database_scheme_is_refused() {
        let err = settings(&[("DATABASE_URL", "mysql://app:pw0rd@localhost/x")]).unwrap_err();
        assert_eq!(err.name, "DATABASE_URL");
        assert!(!err.to_string().contains("pw0rd"), "{err}");
    }

    #[test]
    fn debug_shows_the_url_without_its_password() {
        let db = settings(&[("DATABASE_URL", "postgres://app:pw0rd@db:5432/x")]).unwrap();
        let shown = format!("{db:?}");
        assert!(!shown.contains("pw0rd"), "{shown}");
        assert!(
            shown.contains("postgres://app:[redacted]@db:5432/x"),
            "{shown}"
        );
        let backend = DatabaseUrl::parse(db.url.expose_secret()).unwrap();
        assert!(!format!("{backend:?}").contains("pw0rd"));
    }

    #[test]
    fn every_form_of_password_is_redacted() {
        for (url, shown) in [
            ("postgres://app:pw@db/x", "postgres://app:[redacted]@db/x"),
            (
                "postgres://app:p@ss:w@db/x",
                "postgres://app:[redacted]@db/x",
            ),
            ("postgres://app@db/x", "postgres://app@db/x"),
            (
                "postgres://db/x?user=app&password=pw&sslmode=require",
                "postgres://db/x?user=app&password=[redacted]&sslmode=require",
            ),
            ("sqlite://data/oauth.sqlite3", "sqlite://data/oauth.sqlite3"),
            ("postgres://db:5432/x?ssl=1", "postgres://db:5432/x?ssl=1"),
        ] {
            assert_eq!(without_password(url), shown, "{url}");
        }
    }
}
