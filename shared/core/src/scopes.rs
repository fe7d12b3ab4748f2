//! Space-delimited OAuth scopes (RFC 6749 §3.3).

use std::collections::BTreeSet;
use std::fmt;

/// The scopes configured by default, with the descriptions the metadata and docs show.
pub const DEFAULT_SCOPES: [(&str, &str); 12] = [
    ("read", "Read scope"),
    ("write", "Write scope"),
    ("groups", "Access to your groups"),
    ("albums", "Access to albums"),
    ("music:read", "Read music"),
    ("music:write", "Write music"),
    ("update", "Update things"),
    ("delete", "Delete things"),
    ("introspection", "Introspect tokens"),
    ("openid", "Sign you in with your account (OpenID Connect)"),
    ("profile", "Your username"),
    ("email", "Your e-mail address"),
];

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ScopeSet(BTreeSet<String>);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not a valid scope")]
pub struct InvalidScope(pub String);

/// RFC 6749 §3.3: scope-token = 1*( %x21 / %x23-5B / %x5D-7E )
fn is_scope_char(c: char) -> bool {
    matches!(c, '\x21' | '\x23'..='\x5b' | '\x5d'..='\x7e')
}

impl ScopeSet {
    /// Parses a client-supplied scope string; any character outside the RFC's set is refused.
    pub fn parse(s: &str) -> Result<Self, InvalidScope> {
        let mut set = BTreeSet::new();
        for token in s.split(' ').filter(|t| !t.is_empty()) {
            if !token.chars().all(is_scope_char) {
                return Err(InvalidScope(token.to_string()));
            }
            set.insert(token.to_string());
        }
        Ok(Self(set))
    }

    /// Parses a stored value, which was validated when it was written.
    pub fn parse_lenient(s: &str) -> Self {
        Self(s.split_whitespace().map(str::to_string).collect())
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn contains(&self, scope: &str) -> bool {
        self.0.contains(scope)
    }

    pub fn contains_all<S: AsRef<str>>(&self, scopes: &[S]) -> bool {
        scopes.iter().all(|s| self.contains(s.as_ref()))
    }

    pub fn is_subset(&self, other: &ScopeSet) -> bool {
        self.0.is_subset(&other.0)
    }

    /// The scopes here that `other` lacks.
    pub fn missing_from(&self, other: &ScopeSet) -> Vec<String> {
        self.0.difference(&other.0).cloned().collect()
    }

    pub fn iter(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(String::as_str)
    }
}

impl<S: Into<String>> FromIterator<S> for ScopeSet {
    fn from_iter<I: IntoIterator<Item = S>>(items: I) -> Self {
        Self(items.into_iter().map(Into::into).collect())
    }
}

impl fmt::Display for ScopeSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut first = true;
        for s in &self.0 {
            if !first {
                f.write_str(" ")?;
            }
            f.write_str(s)?;
            first = false;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn any_string_parses_or_is_refused_and_a_parsed_set_round_trips(s in "\\PC{0,64}") {
            if let Ok(set) = ScopeSet::parse(&s) {
                prop_assert_eq!(ScopeSet::parse(&set.to_string()).unwrap(), set);
            }
        }

        #[test]
        fn every_well_formed_scope_token_is_kept(tokens in prop::collection::vec("[!#-\\[\\]-~]{1,12}", 0..6)) {
            let set = ScopeSet::parse(&tokens.join(" ")).unwrap();
            for t in &tokens {
                prop_assert!(set.contains(t));
            }
        }
    }

    #[test]
    fn parsing_splits_on_spaces_and_drops_duplicates() {
        let s = ScopeSet::parse("write read  read").unwrap();
        assert_eq!(s.to_string(), "read write");
    }

    #[test]
    fn quotes_backslashes_and_control_characters_are_not_scope_characters() {
        for bad in ["re\"ad", "a\\b", "tab\there", "caf\u{e9}", "nul\0"] {
            assert!(ScopeSet::parse(bad).is_err(), "{bad:?} was accepted");
        }
    }

    #[test]
    fn subset_and_missing() {
        let granted = ScopeSet::parse("read write").unwrap();
        let asked = ScopeSet::parse("read groups").unwrap();
        assert!(!asked.is_subset(&granted));
        assert_eq!(asked.missing_from(&granted), vec!["groups".to_string()]);
        assert!(ScopeSet::parse("read").unwrap().is_subset(&granted));
    }
}
