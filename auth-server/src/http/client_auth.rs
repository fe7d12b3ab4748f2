//! Finding client credentials in a request at the token, revocation and introspection endpoints
//! (RFC 6749 §2.3): HTTP Basic, or `client_id` and `client_secret` in the body, or a public
//! client's `client_id` alone. Never both methods at once.

use std::borrow::Cow;

use actix_web::http::header::{self, Header};
use actix_web::HttpRequest;
use actix_web_httpauth::headers::authorization::{Authorization, Basic};
use percent_encoding::percent_decode_str;

use super::form::Form;
use crate::clients::PresentedClient;
use crate::error::OAuthError;

/// The Authorization header's scheme, lower-cased, if there is one.
pub fn authorization_scheme(req: &HttpRequest) -> Option<String> {
    let value = req.headers().get(header::AUTHORIZATION)?.to_str().ok()?;
    Some(
        value
            .split_whitespace()
            .next()
            .unwrap_or("")
            .to_ascii_lowercase(),
    )
}

/// RFC 6749 §2.3.1: the Basic user-id and password are form-urlencoded before base64. A NUL
/// character is no part of any client_id or secret (and PostgreSQL cannot compare text with one).
fn form_decode(s: &str) -> Option<String> {
    let spaced = if s.contains('+') {
        Cow::Owned(s.replace('+', " "))
    } else {
        Cow::Borrowed(s)
    };
    percent_decode_str(&spaced)
        .decode_utf8()
        .ok()
        .filter(|c| !c.contains('\0'))
        .map(|c| c.into_owned())
}

/// Finds the credentials in the request. `Ok(None)`: the client sent none.
pub fn presented_client(
    req: &HttpRequest,
    form: &Form,
) -> Result<Option<PresentedClient>, OAuthError> {
    let in_body = form.get("client_id").is_some() || form.get("client_secret").is_some();
    if authorization_scheme(req).as_deref() == Some("basic") {
        let bad = || {
            OAuthError::invalid_client("Client authentication failed.").with_basic_challenge(true)
        };
        if in_body {
            return Err(OAuthError::invalid_request(
                "Client credentials were sent both in the Authorization header and in the body.",
            ));
        }
        let basic = Authorization::<Basic>::parse(req)
            .map_err(|_| bad())?
            .into_scheme();
        let client_id = form_decode(basic.user_id()).ok_or_else(bad)?;
        let secret = match basic.password() {
            Some(p) => Some(form_decode(p).ok_or_else(bad)?),
            None => None,
        };
        if client_id.is_empty() {
            return Err(bad());
        }
        return Ok(Some(PresentedClient {
            client_id,
            secret: secret.filter(|s| !s.is_empty()),
            via_basic: true,
        }));
    }
    match form.get("client_id") {
        Some(id) => Ok(Some(PresentedClient {
            client_id: id.to_string(),
            secret: form.get("client_secret").map(str::to_string),
            via_basic: false,
        })),
        None if form.get("client_secret").is_some() => Err(OAuthError::invalid_request(
            "client_secret without client_id.",
        )),
        None => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use actix_web::http::header::HeaderValue;
    use actix_web::test::TestRequest;
    use base64::Engine;
    use proptest::prelude::*;

    use super::*;

    fn request_with_authorization(value: HeaderValue) -> HttpRequest {
        TestRequest::default()
            .insert_header((header::AUTHORIZATION, value))
            .to_http_request()
    }

    fn basic(id: &str, secret: &str) -> HeaderValue {
        let encode = |s: &str| form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
        let raw = format!("{}:{}", encode(id), encode(secret));
        HeaderValue::from_str(&format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(raw)
        ))
        .unwrap()
    }

    #[test]
    fn credentials_in_both_places_are_invalid_request() {
        let req = request_with_authorization(basic("demo", "secret"));
        let form = Form::parse(b"client_id=demo").unwrap();
        assert_eq!(
            presented_client(&req, &form).unwrap_err().code.as_str(),
            "invalid_request"
        );
    }

    #[test]
    fn a_secret_never_shows_in_debug_output() {
        let req = request_with_authorization(basic("demo", "hunter2-secret"));
        let presented = presented_client(&req, &Form::default()).unwrap().unwrap();
        assert!(!format!("{presented:?}").contains("hunter2"));
    }

    #[test]
    fn a_nul_character_in_basic_credentials_is_invalid_client() {
        for (id, secret) in [("demo\0", "s"), ("demo", "s\0"), ("\0", "")] {
            let req = request_with_authorization(basic(id, secret));
            let err = presented_client(&req, &Form::default()).unwrap_err();
            assert_eq!(err.code.as_str(), "invalid_client", "{id:?}:{secret:?}");
            assert!(err.basic_challenge);
        }
    }

    proptest! {
        #[test]
        fn any_authorization_header_is_parsed_or_refused_without_panicking(value in "\\PC{0,200}") {
            if let Ok(value) = HeaderValue::from_str(&value) {
                let _ = presented_client(&request_with_authorization(value), &Form::default());
            }
        }

        #[test]
        fn any_basic_payload_is_parsed_or_refused_without_panicking(payload in prop::collection::vec(any::<u8>(), 0..100)) {
            let value = format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(payload));
            let _ = presented_client(&request_with_authorization(HeaderValue::from_str(&value).unwrap()), &Form::default());
        }

        #[test]
        fn form_encoded_basic_credentials_decode_to_what_was_sent(id in "\\PC{1,30}", secret in "\\PC{1,40}") {
            let req = request_with_authorization(basic(&id, &secret));
            let presented = presented_client(&req, &Form::default()).unwrap().unwrap();
            prop_assert_eq!(presented.client_id, id);
            prop_assert_eq!(presented.secret, Some(secret));
            prop_assert!(presented.via_basic);
        }
    }
}
