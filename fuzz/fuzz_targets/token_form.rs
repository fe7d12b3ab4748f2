//! The token, introspection and revocation endpoints' form parser: any body is either a form
//! whose values are never empty, or `invalid_request`; and a form is either a typed token
//! request or `invalid_request` / `unsupported_grant_type`.
#![no_main]

use auth_server::flows::TokenRequest;
use auth_server::http::form::Form;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|body: &[u8]| {
    match Form::parse(body) {
        Ok(form) => {
            for name in ["grant_type", "username", "password", "scope", "token", "client_id"] {
                if let Some(v) = form.get(name) {
                    assert!(!v.is_empty());
                }
            }
            let _ = format!("{form:?}");
            if let Err(e) = TokenRequest::parse(&form) {
                assert!(matches!(
                    e.code.as_str(),
                    "invalid_request" | "unsupported_grant_type"
                ));
            }
        }
        Err(e) => assert_eq!(e.code.as_str(), "invalid_request"),
    }
});
