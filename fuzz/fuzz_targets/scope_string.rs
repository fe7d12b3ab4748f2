//! Scope strings (RFC 6749 §3.3): a parsed set holds only scope-token characters and survives a
//! round trip; the lenient parser for stored values never panics.
#![no_main]

use libfuzzer_sys::fuzz_target;
use oauth_core::scopes::ScopeSet;

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };
    let _ = ScopeSet::parse_lenient(s);
    if let Ok(set) = ScopeSet::parse(s) {
        for token in set.iter() {
            assert!(!token.is_empty());
            assert!(token
                .chars()
                .all(|c| matches!(c, '\x21' | '\x23'..='\x5b' | '\x5d'..='\x7e')));
        }
        assert_eq!(ScopeSet::parse(&set.to_string()).unwrap(), set);
        assert!(set.is_subset(&set));
    }
});
