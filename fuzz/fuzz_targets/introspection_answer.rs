//! The resource server reading the auth server's introspection answer: garbage is an error (503),
//! never a panic, and an answer past its exp is never active.
#![no_main]

use libfuzzer_sys::fuzz_target;
use resource_server::introspection::TokenStatus;

fuzz_target!(|data: &[u8]| {
    // The first eight bytes choose "now", so expiry edges (0, negative, i64::MAX) are reached.
    let (now, body) = match data.get(..8) {
        Some(head) => (i64::from_le_bytes(head.try_into().unwrap()), &data[8..]),
        None => (1_700_000_000, data),
    };
    if let Ok(status) = TokenStatus::parse_answer(body, now) {
        if let TokenStatus::Active(t) = &status {
            if let Some(exp) = t.exp {
                assert!(exp > now);
                assert_eq!(status.as_of(exp), TokenStatus::Inactive);
            }
        }
        let _ = status.as_of(now);
    }
});
