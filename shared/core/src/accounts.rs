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
