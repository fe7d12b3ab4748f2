//! The rules for accounts that every way of creating one applies alike: the API and the CLI.

/// Django's `User.username` holds at most this many characters.
pub const USERNAME_MAX_CHARS: usize = 150;

/// Django's UnicodeUsernameValidator: letters, digits and @/./+/-/_ only.
pub fn is_valid_username(name: &str) -> bool {
    !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '@' | '.' | '+' | '-' | '_'))
}

pub const INVALID_USERNAME: &str =
    "Enter a valid username. This value may contain only letters, numbers, and @/./+/-/_ characters.";

/// Django's `User.email` holds at most this many characters.
pub const EMAIL_MAX_CHARS: usize = 254;

/// No username or e-mail address is longer, so a longer login names no account.
pub const LOGIN_MAX_CHARS: usize = if USERNAME_MAX_CHARS > EMAIL_MAX_CHARS {
    USERNAME_MAX_CHARS
} else {
    EMAIL_MAX_CHARS
};

/// Django's MinimumLengthValidator default.
pub const PASSWORD_MIN_CHARS: usize = 8;

/// bcrypt reads no further than this; a longer password is refused rather than silently cut,
/// since the cut-off tail would add nothing to its strength.
pub const PASSWORD_MAX_BYTES: usize = 72;

pub const PASSWORD_TOO_SHORT: &str =
    "This password is too short. It must contain at least 8 characters.";

pub const PASSWORD_TOO_LONG: &str =
    "This password is too long. It must be at most 72 bytes when encoded as UTF-8.";

/// What is wrong with a new password, if anything: the same rule for the API and the CLI.
pub fn password_problem(password: &str) -> Option<&'static str> {
    if password.chars().count() < PASSWORD_MIN_CHARS {
        Some(PASSWORD_TOO_SHORT)
    } else if password.len() > PASSWORD_MAX_BYTES {
        Some(PASSWORD_TOO_LONG)
    } else {
        None
    }
}

/// A pragmatic form of Django's EmailValidator: a dot-atom local part and a domain of at least
/// two labels of letters, digits and hyphens.
pub fn is_valid_email(email: &str) -> bool {
    let Some((local, domain)) = email.rsplit_once('@') else {
        return false;
    };
    let local_ok = !local.is_empty()
        && local.len() <= 64
        && local.split('.').all(|atom| {
            !atom.is_empty()
                && atom
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "!#$%&'*+/=?^_`{|}~-".contains(c))
        });
    let labels: Vec<&str> = domain.split('.').collect();
    let domain_ok = labels.len() >= 2
        && labels.iter().all(|label| {
            !label.is_empty()
                && label.chars().count() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label.chars().all(|c| c.is_alphanumeric() || c == '-')
        })
        && labels.last().is_some_and(|tld| {
            tld.chars().count() >= 2 && !tld.chars().all(|c| c.is_ascii_digit())
        });
    local_ok && domain_ok
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames_follow_djangos_charset() {
        for ok in ["tue", "a.b@c+d-e_f", "Zoë", "user123"] {
            assert!(is_valid_username(ok), "{ok}");
        }
        for bad in ["with space", "semi;colon", "slash/", ""] {
            assert!(!is_valid_username(bad), "{bad}");
        }
    }

    #[test]
    fn passwords_need_eight_characters_and_fit_in_72_bytes() {
        assert_eq!(password_problem("1234567"), Some(PASSWORD_TOO_SHORT));
        assert_eq!(password_problem("ééééééé"), Some(PASSWORD_TOO_SHORT));
        assert_eq!(password_problem("12345678"), None);
        assert_eq!(password_problem(&"x".repeat(72)), None);
        assert_eq!(password_problem(&"x".repeat(73)), Some(PASSWORD_TOO_LONG));
        // 36 two-byte characters are 72 bytes; one more byte is too many.
        assert_eq!(password_problem(&"é".repeat(36)), None);
        assert_eq!(
            password_problem(&format!("{}x", "é".repeat(36))),
            Some(PASSWORD_TOO_LONG)
        );
        assert!(PASSWORD_TOO_SHORT.contains(&PASSWORD_MIN_CHARS.to_string()));
        assert!(PASSWORD_TOO_LONG.contains(&PASSWORD_MAX_BYTES.to_string()));
    }

    #[test]
    fn emails_need_a_local_part_and_a_dotted_domain() {
        for ok in ["tue@example.com", "a.b+c@sub.example.org", "x@bücher.de"] {
            assert!(is_valid_email(ok), "{ok}");
        }
        for bad in [
            "plain",
            "@example.com",
            "a@localhost",
            "a@@b.com",
            "a b@c.com",
            "a@b..com",
            "a@-b.com",
            ".a@b.com",
            "a@b.c",
        ] {
            assert!(!is_valid_email(bad), "{bad}");
        }
    }
}
