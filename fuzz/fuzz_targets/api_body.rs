//! The resource server's write bodies: a content type and a body, read as the handlers read them,
//! then every field put through each validator. Nothing panics; errors are 4xx.
#![no_main]

use actix_web::http::header::CONTENT_TYPE;
use actix_web::test::TestRequest;
use actix_web::{FromRequest, ResponseError};
use libfuzzer_sys::fuzz_target;
use resource_server::body::Body;
use oauth_core::accounts::{is_valid_email, is_valid_username};
use resource_server::fields::{Fields, Text};

thread_local! {
    // The body reader bounds its wait with a timer, which needs a runtime.
    static RUNTIME: actix_web::rt::Runtime = actix_web::rt::Runtime::new().unwrap();
}

const TYPES: [&str; 6] = [
    "application/json",
    "application/x-www-form-urlencoded",
    "application/merge-patch+json",
    "application/json; charset=utf-8",
    "text/plain",
    "",
];

fuzz_target!(|data: &[u8]| {
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    // Selector values past the table take the content type from the input itself.
    let (content_type, body): (Vec<u8>, &[u8]) = match TYPES.get(usize::from(selector)) {
        Some(t) => (t.as_bytes().to_vec(), rest),
        None => match rest.iter().position(|b| *b == b'\n') {
            Some(i) => (rest[..i].to_vec(), &rest[i + 1..]),
            None => (rest.to_vec(), &[][..]),
        },
    };
    let mut req = TestRequest::post().set_payload(body.to_vec());
    if !content_type.is_empty() {
        match actix_web::http::header::HeaderValue::from_bytes(&content_type) {
            Ok(v) => req = req.insert_header((CONTENT_TYPE, v)),
            Err(_) => return,
        }
    }
    let (req, mut payload) = req.to_http_parts();
    let parsed = RUNTIME.with(|rt| rt.block_on(Body::from_request(&req, &mut payload)));
    let body = match parsed {
        Ok(body) => body,
        Err(e) => {
            assert!(e.status_code().is_client_error(), "{e}");
            let _ = e.error_response();
            return;
        }
    };
    for partial in [false, true] {
        let mut f = Fields::new(&body.0, partial);
        for key in body.0.keys() {
            let _ = f.text(key, true, Text::required(150));
            let _ = f.text(key, false, Text::blank_ok(254).untrimmed());
            let _ = f.integer(key, 0, 5);
            let _ = f.integer(key, i64::MIN, i64::MAX);
            let _ = f.date(key);
            if let Some(r) = f.reference(key) {
                let _ = r.missing();
            }
            if let Some(s) = body.0[key].as_str() {
                let _ = is_valid_username(s);
                let _ = is_valid_email(s);
            }
        }
        for absent in ["name", "artist", "release_date", "num_stars"] {
            let _ = f.text(absent, true, Text::required(100));
            let _ = f.date(absent);
        }
        if let Err(e) = f.finish() {
            assert!(e.status_code().is_client_error());
            let _ = e.error_response();
        }
    }
});
