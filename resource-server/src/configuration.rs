//! The resource server's settings: declared once as clap arguments read from the environment (so
//! `resource-server --help` lists them), validated at start, then held as typed [`Settings`].

use std::fmt;
use std::time::Duration;

use oauth_core::config::{
    check_http_url, from_pairs, number_in, secret, socket_addr, text, without_password,
    ConfigError, DatabaseArgs, DatabaseSettings, PasswordHashingArgs, ServingArgs, ServingSettings,
    Setting, HELP_HEADING,
};
use oauth_core::secrets::SecretString;

pub const DEFAULT_BIND: &str = "127.0.0.1:8001";
pub const DEFAULT_INTROSPECTION_URL: &str = "http://127.0.0.1:8000/o/introspect/";

/// The resource server's variables, flattened into its command line.
#[derive(Debug, Clone, clap::Args)]
#[command(next_help_heading = HELP_HEADING)]
pub struct ResourceArgs {
    /// Address to serve on; port 0 lets the system choose.
    #[arg(long, env = "RESOURCE_BIND", default_value = DEFAULT_BIND, value_parser = socket_addr())]
    pub resource_bind: String,
    #[command(flatten)]
    pub serving: ServingArgs,
    #[command(flatten)]
    pub database: DatabaseArgs,
    #[command(flatten)]
    pub password_hashing: PasswordHashingArgs,
    #[command(flatten)]
    pub introspection: IntrospectionArgs,
    #[command(flatten)]
    pub docs: DocsArgs,
}

#[derive(Debug, Clone, clap::Args)]
#[command(next_help_heading = HELP_HEADING)]
pub struct IntrospectionArgs {
    /// The auth server's introspection endpoint.
    #[arg(long, env = "INTROSPECTION_URL", default_value = DEFAULT_INTROSPECTION_URL, value_parser = introspection_url())]
    pub introspection_url: reqwest::Url,
    /// This server's client at the auth server, created with --can-introspect [required].
    #[arg(long, env = "INTROSPECTION_CLIENT_ID", value_parser = text())]
    pub introspection_client_id: Option<String>,
    /// Its secret [required]; prefer the variable, as a flag shows in the process list.
    #[arg(long, env = "INTROSPECTION_CLIENT_SECRET", hide_env_values = true, value_parser = secret())]
    pub introspection_client_secret: Option<SecretString>,
    /// How long an answer is reused, never past the token's expiry; 0 turns the cache off.
    #[arg(long, env = "INTROSPECTION_CACHE_SECONDS", default_value_t = 5, value_parser = number_in(0..=3600u64))]
    pub introspection_cache_seconds: u64,
    /// Answers kept at most.
    #[arg(long, env = "INTROSPECTION_CACHE_CAPACITY", default_value_t = 100_000, value_parser = number_in(1..=10_000_000u64))]
    pub introspection_cache_capacity: u64,
    /// Bound on connecting to and hearing from the auth server; past it the request answers 503.
    #[arg(long, env = "INTROSPECTION_TIMEOUT_MS", default_value_t = 2000, value_parser = number_in(1..=60_000u64))]
    pub introspection_timeout_ms: u64,
}

/// What the API documentation tells a browser: where the auth server is and which client signs in.
#[derive(Debug, Clone, clap::Args)]
#[command(next_help_heading = HELP_HEADING)]
pub struct DocsArgs {
    /// The public client /docs/ signs in with (authorization code with PKCE); register it with
    /// the redirect URI <this server>/docs/oauth2-redirect [default: none: /docs/ works, without
    /// sign-in].
    #[arg(long, env = "DOCS_CLIENT_ID", default_value = "", hide_default_value = true, value_parser = client_id())]
    pub docs_client_id: String,
    /// The auth server's base URL as a browser reaches it, for the sign-in and the OpenAPI
    /// document's authorizationUrl and tokenUrl [default: the scheme, host and port of
    /// INTROSPECTION_URL].
    #[arg(long, env = "AUTH_PUBLIC_URL", default_value = "", hide_default_value = true, value_parser = public_url())]
    pub auth_public_url: String,
}

/// RFC 6749 Appendix A.1: a client_id is printable ASCII. "" stands for unset.
fn client_id() -> Setting<String> {
    Setting::new(|raw| {
        if raw.chars().all(|c| matches!(c, ' '..='~')) {
            Ok(raw.to_string())
        } else {
            Err("holds a character outside printable ASCII".into())
        }
    })
}

/// An http(s) base URL without a trailing slash, to which `/o/authorize/` and `/o/token/` are
/// appended; it may carry a path (an auth server behind a proxy's prefix) but nothing a base
/// URL cannot: credentials, a query or a fragment. "" stands for the default.
fn public_url() -> Setting<String> {
    Setting::new(|raw| {
        if raw.is_empty() {
            return Ok(String::new());
        }
        check_http_url(raw)?;
        let url = reqwest::Url::parse(raw).map_err(|e| e.to_string())?;
        if !url.username().is_empty() || url.password().is_some() {
            return Err("must not carry credentials".into());
        }
        if url.query().is_some() || url.fragment().is_some() {
            return Err(format!("{raw:?} must not have a query or a fragment"));
        }
        Ok(url.as_str().trim_end_matches('/').to_string())
    })
}

/// Parsed once here: the introspection client would otherwise parse it on every call.
fn introspection_url() -> Setting<reqwest::Url> {
    Setting::new(|raw| {
        // The WHATWG parser reads "http:///o/introspect/" as host "o": the text itself is
        // checked for a host first.
        check_http_url(raw)?;
        let url = reqwest::Url::parse(raw).map_err(|e| e.to_string())?;
        if !url.has_host() {
            return Err("has no host".into());
        }
        Ok(url)
    })
}

#[derive(Debug, Clone)]
pub struct Settings {
    /// `host:port`; port 0 lets the system choose (tests).
    pub bind: String,
    pub serving: ServingSettings,
    pub database: DatabaseSettings,
    pub bcrypt_cost: u32,
    pub introspection: IntrospectionSettings,
    pub docs: DocsSettings,
}

/// What `/docs/` and `/openapi.json` tell a browser.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DocsSettings {
    /// The public client the docs page signs in with; `None`: no sign-in is offered.
    pub client_id: Option<String>,
    /// The auth server as a browser reaches it, without a trailing slash: in docker-compose the
    /// resource server introspects at `http://auth-server:8000` while a browser signs in at
    /// `http://localhost:8000`.
    pub auth_public_url: String,
}

impl DocsSettings {
    pub fn authorization_url(&self) -> String {
        format!("{}/o/authorize/", self.auth_public_url)
    }

    pub fn token_url(&self) -> String {
        format!("{}/o/token/", self.auth_public_url)
    }

    /// `scheme://host[:port]` of the auth server as a browser reaches it: the docs page's
    /// script calls its token endpoint from there.
    pub fn auth_public_origin(&self) -> String {
        reqwest::Url::parse(&self.auth_public_url)
            .map(|url| url.origin().ascii_serialization())
            .unwrap_or_default()
    }
}

#[derive(Clone)]
pub struct IntrospectionSettings {
    pub url: reqwest::Url,
    pub client_id: String,
    pub client_secret: SecretString,
    /// How long an answer may be reused; zero turns the cache off.
    pub cache_ttl: Duration,
    pub cache_capacity: u64,
    /// Bounds connecting and the whole exchange with the auth server.
    pub timeout: Duration,
}

impl Settings {
    /// Settings from these variables alone, as if they were the whole environment (tests).
    pub fn from_pairs(pairs: &[(&str, &str)]) -> Result<Self, ConfigError> {
        Self::from_args(from_pairs::<ResourceArgs>(pairs)?)
    }

    /// Each value was checked as it was parsed; what is left is what only serving needs, so that
    /// `resource-server routes` runs without it.
    pub fn from_args(args: ResourceArgs) -> Result<Self, ConfigError> {
        let introspection = IntrospectionSettings::from_args(args.introspection)?;
        let docs = DocsSettings {
            client_id: Some(args.docs.docs_client_id).filter(|id| !id.is_empty()),
            auth_public_url: match args.docs.auth_public_url {
                url if url.is_empty() => introspection.auth_server_origin(),
                url => url,
            },
        };
        Ok(Self {
            bind: args.resource_bind,
            serving: args.serving.into(),
            database: args.database.into(),
            bcrypt_cost: args.password_hashing.bcrypt_cost,
            introspection,
            docs,
        })
    }
}

/// By hand: the URL may carry a password, which `Url`'s own `Debug` shows.
impl fmt::Debug for IntrospectionSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IntrospectionSettings")
            .field("url", &without_password(self.url.as_str()))
            .field("client_id", &self.client_id)
            .field("client_secret", &self.client_secret)
            .field("cache_ttl", &self.cache_ttl)
            .field("cache_capacity", &self.cache_capacity)
            .field("timeout", &self.timeout)
            .finish()
    }
}

impl IntrospectionSettings {
    pub fn from_args(args: IntrospectionArgs) -> Result<Self, ConfigError> {
        let required = |name| ConfigError::new(name, "is required but not set");
        Ok(Self {
            url: args.introspection_url,
            client_id: args
                .introspection_client_id
                .ok_or_else(|| required("INTROSPECTION_CLIENT_ID"))?,
            client_secret: args
                .introspection_client_secret
                .ok_or_else(|| required("INTROSPECTION_CLIENT_SECRET"))?,
            cache_ttl: Duration::from_secs(args.introspection_cache_seconds),
            cache_capacity: args.introspection_cache_capacity,
            timeout: Duration::from_millis(args.introspection_timeout_ms),
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
    use oauth_core::secrets::ExposeSecret as _;

    use super::*;

    fn settings(extra: &[(&str, &str)]) -> Result<Settings, ConfigError> {
        let mut pairs = vec![
            ("INTROSPECTION_CLIENT_ID", "rs"),
            ("INTROSPECTION_CLIENT_SECRET", "hunter2"),
        ];
        pairs.extend_from_slice(extra);
        Settings::from_pairs(&pairs)
    }

    #[test]
    fn defaults_follow_the_contract() {
        let s = settings(&[]).unwrap();
        assert_eq!(s.bind, "127.0.0.1:8001");
        assert_eq!(
            s.database.url.expose_secret(),
            "sqlite://data/oauth.sqlite3"
        );
        assert_eq!(s.database.pool_size, 10);
        assert_eq!(s.introspection.url.as_str(), DEFAULT_INTROSPECTION_URL);
        assert_eq!(s.introspection.client_id, "rs");
        assert_eq!(s.introspection.client_secret.expose_secret(), "hunter2");
        assert_eq!(s.introspection.cache_ttl, Duration::from_secs(5));
        assert_eq!(s.introspection.timeout, Duration::from_millis(2000));
        assert_eq!(s.introspection.cache_capacity, 100_000);
        assert_eq!(s.bcrypt_cost, 12);
        assert_eq!(s.docs.client_id, None);
        assert_eq!(s.docs.auth_public_url, "http://127.0.0.1:8000");
    }

    #[test]
    fn the_auth_servers_public_url_defaults_to_the_introspection_origin() {
        let s =
            settings(&[("INTROSPECTION_URL", "http://auth-server:8000/o/introspect/")]).unwrap();
        assert_eq!(
            s.docs.authorization_url(),
            "http://auth-server:8000/o/authorize/"
        );
        assert_eq!(s.docs.token_url(), "http://auth-server:8000/o/token/");
        // Blank counts as unset.
        let s = settings(&[("AUTH_PUBLIC_URL", " ")]).unwrap();
        assert_eq!(s.docs.auth_public_url, "http://127.0.0.1:8000");
    }

    #[test]
    fn the_auth_servers_public_url_may_differ_and_carry_a_prefix() {
        let s = settings(&[
            ("INTROSPECTION_URL", "http://auth-server:8000/o/introspect/"),
            ("AUTH_PUBLIC_URL", "http://localhost:8000/"),
        ])
        .unwrap();
        assert_eq!(s.docs.token_url(), "http://localhost:8000/o/token/");
        assert_eq!(s.docs.auth_public_origin(), "http://localhost:8000");
        let s = settings(&[("AUTH_PUBLIC_URL", "https://example.com:443/auth//")]).unwrap();
        assert_eq!(
            s.docs.authorization_url(),
            "https://example.com/auth/o/authorize/"
        );
        assert_eq!(s.docs.auth_public_origin(), "https://example.com");
    }

    #[test]
    fn the_docs_client_is_optional() {
        let s = settings(&[("DOCS_CLIENT_ID", "api-docs")]).unwrap();
        assert_eq!(s.docs.client_id.as_deref(), Some("api-docs"));
        let s = settings(&[("DOCS_CLIENT_ID", "  ")]).unwrap();
        assert_eq!(s.docs.client_id, None);
    }

    #[test]
    fn the_client_credentials_are_required() {
        let err = Settings::from_pairs(&[]).unwrap_err();
        assert_eq!(err.name, "INTROSPECTION_CLIENT_ID");
        let err = Settings::from_pairs(&[("INTROSPECTION_CLIENT_ID", "x")]).unwrap_err();
        assert_eq!(err.name, "INTROSPECTION_CLIENT_SECRET");
        // Blank counts as unset.
        let err = settings(&[("INTROSPECTION_CLIENT_SECRET", " ")]).unwrap_err();
        assert_eq!(err.name, "INTROSPECTION_CLIENT_SECRET");
        assert_eq!(err.reason, "is required but not set");
    }

    #[test]
    fn a_bad_value_names_its_variable() {
        for (name, value) in [
            ("INTROSPECTION_CACHE_SECONDS", "3601"),
            ("INTROSPECTION_CACHE_SECONDS", "-1"),
            ("INTROSPECTION_TIMEOUT_MS", "soon"),
            ("INTROSPECTION_TIMEOUT_MS", "0"),
            ("INTROSPECTION_CACHE_CAPACITY", "0"),
            ("INTROSPECTION_URL", "ftp://auth/o/introspect/"),
            ("INTROSPECTION_URL", "http:///o/introspect/"),
            ("INTROSPECTION_URL", "auth-server"),
            ("RESOURCE_BIND", "8001"),
            ("AUTH_PUBLIC_URL", "ftp://auth/"),
            ("AUTH_PUBLIC_URL", "localhost:8000"),
            ("AUTH_PUBLIC_URL", "http://user:pw@auth/"),
            ("AUTH_PUBLIC_URL", "http://auth/?next=x"),
            ("AUTH_PUBLIC_URL", "http://auth/#top"),
            ("DOCS_CLIENT_ID", "api-d\u{f6}cs"),
            ("DOCS_CLIENT_ID", "api\tdocs"),
            ("BCRYPT_COST", "3"),
            ("DATABASE_POOL_SIZE", "0"),
        ] {
            let err = settings(&[(name, value)]).unwrap_err();
            assert_eq!(err.name, name, "{value}");
        }
    }

    #[test]
    fn zero_turns_the_cache_off() {
        let s = settings(&[("INTROSPECTION_CACHE_SECONDS", "0")]).unwrap();
        assert_eq!(s.introspection.cache_ttl, Duration::ZERO);
    }

    #[test]
    fn the_secret_never_shows_in_debug_output() {
        let s = settings(&[]).unwrap();
        assert!(!format!("{s:?}").contains("hunter2"));
        let s = settings(&[("DATABASE_URL", "postgres://app:pw0rd@db:5432/x")]).unwrap();
        let shown = format!("{s:?}");
        assert!(!shown.contains("pw0rd"), "{shown}");
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(
            shown.contains("postgres://app:[redacted]@db:5432/x"),
            "{shown}"
        );
    }

    #[test]
    fn the_auth_server_origin_never_carries_credentials_from_the_url() {
        let s = settings(&[(
            "INTROSPECTION_URL",
            "http://user:pass@auth:8000/o/introspect/",
        )])
        .unwrap();
        assert_eq!(s.introspection.auth_server_origin(), "http://auth:8000");
        let shown = format!("{s:?}");
        assert!(!shown.contains("pass@"), "{shown}");
    }

    #[test]
    fn the_auth_server_origin_drops_the_path() {
        let s = settings(&[(
            "INTROSPECTION_URL",
            "https://auth.example.com:8443/o/introspect/",
        )])
        .unwrap();
        assert_eq!(
            s.introspection.auth_server_origin(),
            "https://auth.example.com:8443"
        );
    }
}
