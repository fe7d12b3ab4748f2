//! clap value parsers for settings. Every setting goes through [`Setting`], which gives them all
//! the same rules: blanks around a value are ignored, a blank value counts as unset (so the
//! default applies: `NAME=` in a shell or compose file usually means "not set"), and a bad value
//! becomes one line, `invalid configuration: NAME: reason`, naming the environment variable
//! rather than the flag, since that is what operators set.

use std::ffi::OsStr;
use std::fmt::Display;
use std::ops::RangeInclusive;
use std::str::FromStr;
use std::sync::Arc;

use crate::secrets::SecretString;
use clap::builder::TypedValueParser;
use clap::error::{ContextKind, ContextValue, ErrorKind};

use super::database::without_password;
use super::ConfigError;

type Parse<T> = dyn Fn(&str) -> Result<T, String> + Send + Sync;

/// A setting's value parser: the trimmed, non-blank text goes to `parse`, whose error is the
/// reason shown after the variable's name. The reason must never quote a secret.
#[derive(Clone)]
pub struct Setting<T> {
    parse: Arc<Parse<T>>,
}

impl<T> Setting<T> {
    pub fn new(parse: impl Fn(&str) -> Result<T, String> + Send + Sync + 'static) -> Self {
        Self {
            parse: Arc::new(parse),
        }
    }
}

impl<T: Clone + Send + Sync + 'static> TypedValueParser for Setting<T> {
    type Value = T;

    fn parse_ref(
        &self,
        cmd: &clap::Command,
        arg: Option<&clap::Arg>,
        value: &OsStr,
    ) -> Result<T, clap::Error> {
        let fail = |reason: String| invalid(cmd, arg, reason);
        let text = value
            .to_str()
            .ok_or_else(|| fail("is not valid UTF-8".into()))?
            .trim();
        if !text.is_empty() {
            return (self.parse)(text).map_err(fail);
        }
        match arg.and_then(|arg| arg.get_default_values().first()) {
            Some(default) => {
                let default = default.to_str().unwrap_or_default().trim();
                (self.parse)(default).map_err(fail)
            }
            None => Err(fail("is required but not set".into())),
        }
    }
}

/// The error as one line, and with the variable and reason in its context so that
/// [`super::from_pairs`] can give them back as a [`ConfigError`].
fn invalid(cmd: &clap::Command, arg: Option<&clap::Arg>, reason: String) -> clap::Error {
    let name = arg.map_or_else(String::new, |arg| match arg.get_env() {
        Some(env) => env.to_string_lossy().into_owned(),
        None => format!("--{}", arg.get_long().unwrap_or(arg.get_id().as_str())),
    });
    // A raw message is printed as `error: ` and the message, without usage or a hint to try
    // --help: the variable's name says what to fix.
    let line = format!("{}\n", ConfigError::new(&name, &reason));
    let mut error = clap::Error::raw(ErrorKind::ValueValidation, line).with_cmd(cmd);
    error.insert(ContextKind::InvalidArg, ContextValue::String(name));
    error.insert(ContextKind::Custom, ContextValue::String(reason));
    error
}

/// The variable and reason of an error raised by a [`Setting`].
pub(super) fn config_error(error: &clap::Error) -> ConfigError {
    match (
        error.get(ContextKind::InvalidArg),
        error.get(ContextKind::Custom),
    ) {
        (Some(ContextValue::String(name)), Some(ContextValue::String(reason))) => {
            ConfigError::new(name, reason)
        }
        _ => ConfigError::new("settings", error.kind().to_string()),
    }
}

/// A whole number within `range`.
pub fn number_in<T>(range: RangeInclusive<T>) -> Setting<T>
where
    T: FromStr + PartialOrd + Display + Copy + Send + Sync + 'static,
{
    Setting::new(move |raw| {
        let value = raw
            .parse::<T>()
            .map_err(|_| format!("{raw:?} is not a whole number"))?;
        if !range.contains(&value) {
            return Err(format!(
                "{value} is out of range ({}..={})",
                range.start(),
                range.end()
            ));
        }
        Ok(value)
    })
}

/// A `host:port` socket address, kept as written.
pub fn socket_addr() -> Setting<String> {
    Setting::new(check_socket_addr)
}

/// The check behind [`socket_addr`]: the text, when it is an IP address and port.
pub fn check_socket_addr(raw: &str) -> Result<String, String> {
    raw.parse::<std::net::SocketAddr>()
        .map(|_| raw.to_string())
        .map_err(|_| format!("{raw:?} is not a host:port address such as 127.0.0.1:8000"))
}

/// An absolute http:// or https:// URL with a host, kept as written.
pub fn http_url() -> Setting<String> {
    Setting::new(|raw| check_http_url(raw).map(|()| raw.to_string()))
}

/// The check behind [`http_url`], for parsers that go on to parse the URL further.
pub fn check_http_url(raw: &str) -> Result<(), String> {
    // Quoted without any password the URL may carry.
    let shown = without_password(raw);
    let Some(rest) = raw
        .strip_prefix("http://")
        .or_else(|| raw.strip_prefix("https://"))
    else {
        return Err(format!("{shown:?} is not an http:// or https:// URL"));
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host_and_port = authority.rsplit('@').next().unwrap_or_default();
    let host = match host_and_port.strip_prefix('[') {
        Some(ipv6) => ipv6.split(']').next().unwrap_or_default(),
        None => host_and_port.split(':').next().unwrap_or_default(),
    };
    if host.is_empty() {
        return Err(format!("{shown:?} has no host"));
    }
    Ok(())
}

/// Any text; only a blank value is refused (it counts as unset).
pub fn text() -> Setting<String> {
    Setting::new(|raw| Ok(raw.to_string()))
}

/// A secret: held so that no `Debug` or log line can show it.
pub fn secret() -> Setting<SecretString> {
    Setting::new(|raw| Ok(SecretString::from(raw.to_string())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bind_address_must_be_host_and_port() {
        assert!(check(&socket_addr(), "localhost").is_err());
        assert!(check(&socket_addr(), "8000").is_err());
        assert_eq!(
            check(&socket_addr(), "127.0.0.1:8000").unwrap(),
            "127.0.0.1:8000"
        );
        assert!(check(&socket_addr(), "[::1]:8000").is_ok());
    }

    #[test]
    fn a_url_must_be_http_or_https_with_a_host() {
        for bad in [
            "ftp://x",
            "auth-server",
            "http://",
            "http:///o/introspect/",
            "https://:8000/",
            "http://user:pw@/x",
        ] {
            assert!(check(&http_url(), bad).is_err(), "{bad}");
        }
        for good in [
            "http://a",
            "https://auth.example.com:8443/o/",
            "http://[::1]:8000/",
            "http://user:pw@auth/",
        ] {
            assert!(check(&http_url(), good).is_ok(), "{good}");
        }
    }

    #[test]
    fn a_refused_url_is_quoted_without_its_password() {
        let reason = check(&http_url(), "ftp://user:hunter2@host/").unwrap_err();
        assert!(!reason.contains("hunter2"), "{reason}");
        assert!(reason.contains("ftp://user:[redacted]@host/"), "{reason}");
    }

    #[test]
    fn numbers_are_checked_against_their_range() {
        let parser = number_in(1..=1000u32);
        assert_eq!(check(&parser, "1000").unwrap(), 1000);
        assert_eq!(
            check(&parser, "0").unwrap_err(),
            "0 is out of range (1..=1000)"
        );
        assert_eq!(
            check(&parser, "-1").unwrap_err(),
            "\"-1\" is not a whole number"
        );
    }

    /// The parser alone, on a value that is neither blank nor a default.
    fn check<T: Clone + Send + Sync + 'static>(
        parser: &Setting<T>,
        raw: &str,
    ) -> Result<T, String> {
        (parser.parse)(raw)
    }
}
