//! The auth server's settings: declared once as clap arguments read from the environment (so
//! `auth-server --help` lists them), validated at start, then held as typed [`Settings`].

use oauth_core::config::{
    check_http_url, from_pairs, number_in, socket_addr, ConfigError, DatabaseArgs,
    DatabaseSettings, PasswordHashingArgs, ServingArgs, ServingSettings, Setting, HELP_HEADING,
};
use oauth_core::scopes::{ScopeSet, DEFAULT_SCOPES};

use crate::oidc::key_ring::KeyPolicy;

const DAY: i64 = 86_400;

/// The auth server's variables, flattened into its command line.
#[derive(Debug, Clone, clap::Args)]
#[command(next_help_heading = HELP_HEADING)]
pub struct AuthArgs {
    /// Address to serve on; port 0 lets the system choose.
    #[arg(long, env = "AUTH_BIND", default_value = "127.0.0.1:8000", value_parser = socket_addr())]
    pub auth_bind: String,
    #[command(flatten)]
    pub serving: ServingArgs,
    #[command(flatten)]
    pub database: DatabaseArgs,
    /// Access token lifetime.
    #[arg(long, env = "ACCESS_TOKEN_EXPIRE_SECONDS", default_value_t = 36_000, value_parser = number_in(1..=365 * DAY))]
    pub access_token_expire_seconds: i64,
    /// Refresh token lifetime (30 days by default).
    #[arg(long, env = "REFRESH_TOKEN_EXPIRE_SECONDS", default_value_t = 30 * DAY, value_parser = number_in(1..=3650 * DAY))]
    pub refresh_token_expire_seconds: i64,
    /// A grant's absolute lifetime (90 days by default): rotation hands out new refresh tokens
    /// but never past this, counted from the password grant.
    #[arg(long, env = "REFRESH_TOKEN_MAX_LIFETIME_SECONDS", default_value_t = 90 * DAY, value_parser = number_in(1..=3650 * DAY))]
    pub refresh_token_max_lifetime_seconds: i64,
    /// An authorization code's lifetime (RFC 6749 §4.1.2 recommends at most 10 minutes).
    #[arg(long, env = "AUTHORIZATION_CODE_EXPIRE_SECONDS", default_value_t = 60, value_parser = number_in(1..=600i64))]
    pub authorization_code_expire_seconds: i64,
    /// How long a browser stays signed in at the auth server (its login page session).
    #[arg(long, env = "SESSION_EXPIRE_SECONDS", default_value_t = DAY, value_parser = number_in(60..=90 * DAY))]
    pub session_expire_seconds: i64,
    #[command(flatten)]
    pub password_hashing: PasswordHashingArgs,
    /// Every scope a client may be granted, space-separated.
    #[arg(long, env = "OAUTH_SCOPES", default_value_t = default_scopes(), value_parser = scopes())]
    pub oauth_scopes: ScopeSet,
    /// Issuer and base of the endpoint URLs in the metadata; set it behind a proxy
    /// [default: http://<AUTH_BIND>].
    #[arg(long, env = "AUTH_ISSUER", default_value = "", hide_default_value = true, value_parser = issuer())]
    pub auth_issuer: String,
    /// Failed password grants for one account within the window before it is throttled.
    #[arg(long, env = "LOGIN_FAILURE_LIMIT", default_value_t = 10, value_parser = number_in(1..=1_000_000i64))]
    pub login_failure_limit: i64,
    /// The throttling window.
    #[arg(long, env = "LOGIN_FAILURE_WINDOW_SECONDS", default_value_t = 900, value_parser = number_in(1..=30 * DAY))]
    pub login_failure_window_seconds: i64,
    /// How long a successful client authentication is remembered per process; 0 turns it off.
    #[arg(long, env = "CLIENT_CACHE_SECONDS", default_value_t = 5, value_parser = number_in(0..=300u64))]
    pub client_cache_seconds: u64,
    /// How often the server deletes dead tokens; 0 turns it off.
    #[arg(long, env = "TOKEN_CLEANUP_INTERVAL_SECONDS", default_value_t = 3600, value_parser = number_in(0..=30 * 86_400u64))]
    pub token_cleanup_interval_seconds: u64,
    /// How long expired or revoked tokens are kept before they are deleted.
    #[arg(long, env = "TOKEN_RETENTION_SECONDS", default_value_t = DAY, value_parser = number_in(0..=3650 * DAY))]
    pub token_retention_seconds: i64,
    /// OpenID Connect ID token lifetime.
    #[arg(long, env = "ID_TOKEN_EXPIRE_SECONDS", default_value_t = 3600, value_parser = number_in(1..=DAY))]
    pub id_token_expire_seconds: i64,
    /// How old each server's copy of the signing keys, and clients' cached JWKS, may be; a new
    /// key signs twice this (and a second) after rotate-signing-key. 0 reads them on every use.
    #[arg(long, env = "SIGNING_KEY_CACHE_SECONDS", default_value_t = 60, value_parser = number_in(0..=3600u64))]
    pub signing_key_cache_seconds: u64,
    /// How often each server re-reads the origins allowed cross-origin calls (those of the
    /// registered redirect URIs): a new client's origin works everywhere within this.
    #[arg(long, env = "CORS_ORIGINS_CACHE_SECONDS", default_value_t = 60, value_parser = number_in(1..=3600u64))]
    pub cors_origins_cache_seconds: u64,
}

fn default_scopes() -> ScopeSet {
    ScopeSet::parse(&DEFAULT_SCOPES.map(|(name, _)| name).join(" ")).unwrap_or_default()
}

fn scopes() -> Setting<ScopeSet> {
    Setting::new(|raw| {
        let scopes = ScopeSet::parse(raw).map_err(|e| e.to_string())?;
        if scopes.is_empty() {
            return Err("names no scope".into());
        }
        Ok(scopes)
    })
}

/// An http(s) URL without its trailing slashes, or "" for the default (derived from the address
/// bound, which is only known once bound).
fn issuer() -> Setting<String> {
    Setting::new(|raw| {
        if raw.is_empty() {
            return Ok(String::new());
        }
        check_http_url(raw)?;
        Ok(raw.trim_end_matches('/').to_string())
    })
}

#[derive(Debug, Clone)]
pub struct Settings {
    pub bind: String,
    pub serving: ServingSettings,
    pub database: DatabaseSettings,
    pub access_token_seconds: i64,
    pub refresh_token_seconds: i64,
    pub refresh_token_max_lifetime_seconds: i64,
    pub authorization_code_seconds: i64,
    pub session_seconds: i64,
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
    pub id_token_seconds: i64,
    /// How old a copy of the signing keys may be; 0 turns the copy off.
    pub signing_key_cache_seconds: u64,
    /// How often the CORS origins are re-read.
    pub cors_origins_cache_seconds: u64,
}

impl Settings {
    /// Settings from these variables alone, as if they were the whole environment (tests).
    pub fn from_pairs(pairs: &[(&str, &str)]) -> Result<Self, ConfigError> {
        from_pairs::<AuthArgs>(pairs).map(Self::from_args)
    }

    /// Every value was checked as it was parsed.
    pub fn from_args(args: AuthArgs) -> Self {
        Self {
            bind: args.auth_bind,
            serving: args.serving.into(),
            database: args.database.into(),
            access_token_seconds: args.access_token_expire_seconds,
            refresh_token_seconds: args.refresh_token_expire_seconds,
            refresh_token_max_lifetime_seconds: args.refresh_token_max_lifetime_seconds,
            authorization_code_seconds: args.authorization_code_expire_seconds,
            session_seconds: args.session_expire_seconds,
            bcrypt_cost: args.password_hashing.bcrypt_cost,
            scopes: args.oauth_scopes,
            issuer: Some(args.auth_issuer).filter(|issuer| !issuer.is_empty()),
            login_failure_limit: args.login_failure_limit,
            login_failure_window_seconds: args.login_failure_window_seconds,
            cleanup_interval_seconds: args.token_cleanup_interval_seconds,
            client_cache_seconds: args.client_cache_seconds,
            token_retention_seconds: args.token_retention_seconds,
            id_token_seconds: args.id_token_expire_seconds,
            signing_key_cache_seconds: args.signing_key_cache_seconds,
            cors_origins_cache_seconds: args.cors_origins_cache_seconds,
        }
    }

    /// When signing keys sign and how long they stay published.
    pub fn key_policy(&self) -> KeyPolicy {
        KeyPolicy {
            cache_seconds: self.signing_key_cache_seconds,
            id_token_seconds: self.id_token_seconds,
        }
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
    use oauth_core::secrets::ExposeSecret as _;

    use super::*;

    #[test]
    fn defaults_follow_the_contract() {
        let s = Settings::from_pairs(&[]).unwrap();
        assert_eq!(s.bind, "127.0.0.1:8000");
        assert_eq!(
            s.database.url.expose_secret(),
            "sqlite://data/oauth.sqlite3"
        );
        assert_eq!(s.database.pool_size, 10);
        assert_eq!(s.access_token_seconds, 36_000);
        assert_eq!(s.refresh_token_seconds, 2_592_000);
        assert_eq!(s.refresh_token_max_lifetime_seconds, 7_776_000);
        assert_eq!(s.authorization_code_seconds, 60);
        assert_eq!(s.session_seconds, 86_400);
        assert_eq!(s.bcrypt_cost, 12);
        assert_eq!(s.scopes, default_scopes());
        assert_eq!(s.scopes.iter().count(), 12);
        assert_eq!(s.login_failure_limit, 10);
        assert_eq!(s.login_failure_window_seconds, 900);
        assert_eq!(s.cleanup_interval_seconds, 3600);
        assert_eq!(s.client_cache_seconds, 5);
        assert_eq!(s.token_retention_seconds, 86_400);
        assert_eq!(s.id_token_seconds, 3600);
        assert_eq!(s.signing_key_cache_seconds, 60);
        assert_eq!(s.cors_origins_cache_seconds, 60);
        assert_eq!(
            s.issuer_for("127.0.0.1:8000".parse().unwrap()),
            "http://127.0.0.1:8000"
        );
    }

    #[test]
    fn blank_values_count_as_unset() {
        let s = Settings::from_pairs(&[
            ("AUTH_ISSUER", " "),
            ("OAUTH_SCOPES", ""),
            ("AUTH_BIND", "\t"),
        ])
        .unwrap();
        assert_eq!(s.issuer, None);
        assert_eq!(s.scopes, default_scopes());
        assert_eq!(s.bind, "127.0.0.1:8000");
    }

    #[test]
    fn zero_turns_the_key_copy_off() {
        let s = Settings::from_pairs(&[
            ("SIGNING_KEY_CACHE_SECONDS", "0"),
            ("CORS_ORIGINS_CACHE_SECONDS", "1"),
            ("ID_TOKEN_EXPIRE_SECONDS", "5"),
        ])
        .unwrap();
        assert_eq!(
            s.key_policy(),
            KeyPolicy {
                cache_seconds: 0,
                id_token_seconds: 5
            }
        );
        assert_eq!(s.cors_origins_cache_seconds, 1);
    }

    #[test]
    fn the_issuer_loses_its_trailing_slash() {
        let s = Settings::from_pairs(&[("AUTH_ISSUER", "https://auth.example.com/")]).unwrap();
        assert_eq!(s.issuer.as_deref(), Some("https://auth.example.com"));
    }

    #[test]
    fn each_bad_value_names_its_variable() {
        for (name, value) in [
            ("AUTH_BIND", "nowhere"),
            ("ACCESS_TOKEN_EXPIRE_SECONDS", "-1"),
            ("REFRESH_TOKEN_EXPIRE_SECONDS", "soon"),
            ("REFRESH_TOKEN_MAX_LIFETIME_SECONDS", "0"),
            ("AUTHORIZATION_CODE_EXPIRE_SECONDS", "601"),
            ("SESSION_EXPIRE_SECONDS", "59"),
            ("OAUTH_SCOPES", "read \"write\""),
            ("AUTH_ISSUER", "ftp://x"),
            ("AUTH_ISSUER", "http:///x"),
            ("LOGIN_FAILURE_LIMIT", "0"),
            ("LOGIN_FAILURE_WINDOW_SECONDS", "x"),
            ("DATABASE_URL", "mysql://x"),
            ("DATABASE_POOL_SIZE", "1001"),
            ("BCRYPT_COST", "32"),
            ("CLIENT_CACHE_SECONDS", "301"),
            ("TOKEN_CLEANUP_INTERVAL_SECONDS", "-1"),
            ("TOKEN_RETENTION_SECONDS", "x"),
            ("ID_TOKEN_EXPIRE_SECONDS", "0"),
            ("ID_TOKEN_EXPIRE_SECONDS", "86401"),
            ("SIGNING_KEY_CACHE_SECONDS", "-1"),
            ("SIGNING_KEY_CACHE_SECONDS", "3601"),
            ("CORS_ORIGINS_CACHE_SECONDS", "soon"),
            ("CORS_ORIGINS_CACHE_SECONDS", "0"),
        ] {
            let err = Settings::from_pairs(&[(name, value)]).unwrap_err();
            assert_eq!(err.name, name, "{value}");
        }
    }

    #[test]
    fn the_database_password_never_shows_in_debug_output() {
        let s =
            Settings::from_pairs(&[("DATABASE_URL", "postgres://app:pw0rd@db:5432/x")]).unwrap();
        let shown = format!("{s:?}");
        assert!(!shown.contains("pw0rd"), "{shown}");
        assert!(
            shown.contains("postgres://app:[redacted]@db:5432/x"),
            "{shown}"
        );
    }
}
