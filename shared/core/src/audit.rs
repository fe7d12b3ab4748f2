//! Security events, one logfmt line each under their own log target, so that an operator can
//! route them apart from the access log (`RUST_LOG=audit=info`, or a collector that filters on
//! the target). A line names accounts and clients by id and never carries a password, a token, a
//! secret or a login name as typed (people type passwords into the username field).

use std::fmt::{Display, Write};

/// The log target of every security event.
pub const TARGET: &str = "audit";

/// What happened. The names are the `event=` values operators filter on: keep them stable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    LoginSucceeded,
    LoginFailed,
    LoginLocked,
    RefreshTokenReuse,
    AuthorizationCodeReuse,
    ConsentGranted,
    Logout,
    PasswordChanged,
    PasswordReset,
    UserDeactivated,
    UserActivated,
    ClientCreated,
    ClientSecretRotated,
    ClientDeleted,
    SigningKeyCreated,
    SigningKeyRotated,
}

impl Event {
    pub fn name(self) -> &'static str {
        match self {
            Self::LoginSucceeded => "login.success",
            Self::LoginFailed => "login.failure",
            Self::LoginLocked => "login.lockout",
            Self::RefreshTokenReuse => "refresh_token.reuse",
            Self::AuthorizationCodeReuse => "authorization_code.reuse",
            Self::ConsentGranted => "consent.grant",
            Self::Logout => "logout",
            Self::PasswordChanged => "password.change",
            Self::PasswordReset => "password.reset",
            Self::UserDeactivated => "user.deactivate",
            Self::UserActivated => "user.activate",
            Self::ClientCreated => "client.create",
            Self::ClientSecretRotated => "client.rotate_secret",
            Self::ClientDeleted => "client.delete",
            Self::SigningKeyCreated => "signing_key.create",
            Self::SigningKeyRotated => "signing_key.rotate",
        }
    }
}

/// One event being described; [`Record::emit`] writes it.
#[must_use = "an audit record is written only by emit()"]
pub struct Record {
    line: String,
}

pub fn record(event: Event) -> Record {
    Record {
        line: format!("event={}", event.name()),
    }
}

impl Record {
    /// Adds `key=value`; a value with spaces, quotes or `=` is quoted, so a line always parses.
    pub fn field(mut self, key: &str, value: impl Display) -> Self {
        let value = value.to_string();
        let plain = !value.is_empty()
            && value
                .chars()
                .all(|c| !c.is_whitespace() && !c.is_control() && c != '"' && c != '=');
        if plain {
            let _ = write!(self.line, " {key}={value}");
        } else {
            let _ = write!(self.line, " {key}={value:?}");
        }
        self
    }

    /// A field only when there is a value: `-` stands for none.
    pub fn optional(self, key: &str, value: Option<impl Display>) -> Self {
        match value {
            Some(v) => self.field(key, v),
            None => self.field(key, "-"),
        }
    }

    pub fn line(&self) -> &str {
        &self.line
    }

    pub fn emit(self) {
        log::info!(target: TARGET, "{}", self.line);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_record_is_one_logfmt_line() {
        let r = record(Event::LoginFailed)
            .field("user_id", 3)
            .field("client_id", "demo")
            .optional("peer", None::<&str>)
            .field("note", "two words \"quoted\"");
        assert_eq!(
            r.line(),
            r#"event=login.failure user_id=3 client_id=demo peer=- note="two words \"quoted\"""#
        );
    }
}
