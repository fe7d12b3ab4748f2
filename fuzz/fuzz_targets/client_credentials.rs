//! Client authentication: an arbitrary Authorization header plus an arbitrary form body. The
//! answer is credentials with a non-empty client_id, none, or invalid_request / invalid_client.
#![no_main]

use actix_web::http::header::{HeaderValue, AUTHORIZATION};
use actix_web::test::TestRequest;
use auth_server::http::client_auth::{authorization_scheme, presented_client};
use auth_server::http::form::Form;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // The header is everything up to the first newline, the form body the rest.
    let (header, body) = match data.iter().position(|b| *b == b'\n') {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (data, &[][..]),
    };
    let Ok(value) = HeaderValue::from_bytes(header) else {
        return;
    };
    let req = TestRequest::default()
        .insert_header((AUTHORIZATION, value))
        .to_http_request();
    let _ = authorization_scheme(&req);
    let form = Form::parse(body).unwrap_or_default();
    match presented_client(&req, &form) {
        Ok(Some(p)) => {
            assert!(!p.client_id.is_empty());
            assert!(p.secret.as_deref() != Some(""));
        }
        Ok(None) => {}
        Err(e) => assert!(
            matches!(e.code.as_str(), "invalid_request" | "invalid_client"),
            "{e}"
        ),
    }
});
