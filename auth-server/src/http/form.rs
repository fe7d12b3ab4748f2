//! Reading `application/x-www-form-urlencoded` request bodies the way RFC 6749 asks: a size
//! limit, one value per parameter, and an empty value treated as if it were absent. No parameter
//! of RFC 6749 Appendix A may hold a NUL character, and PostgreSQL cannot compare text holding
//! one, so a NUL anywhere is `invalid_request` rather than a failed query.

use std::collections::HashMap;

use actix_web::{http::header, web, HttpRequest};
use http_service::body::{read_body, BodyError};

use crate::error::OAuthError;
use crate::flows::Params;

/// No legitimate token, introspection or revocation request comes near this.
pub const MAX_BODY_BYTES: usize = 16 * 1024;

#[derive(Default, Clone)]
pub struct Form(HashMap<String, String>);

/// Parameter names only: values include passwords, secrets and tokens.
impl std::fmt::Debug for Form {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_set().entries(self.0.keys()).finish()
    }
}

impl Form {
    pub fn parse(body: &[u8]) -> Result<Self, OAuthError> {
        if std::str::from_utf8(body).is_err() {
            return Err(OAuthError::invalid_request(
                "The request body is not valid UTF-8.",
            ));
        }
        let mut params = HashMap::new();
        for (key, value) in form_urlencoded::parse(body) {
            if key.contains('\0') || value.contains('\0') {
                return Err(OAuthError::invalid_request(format!(
                    "The parameter {} contains a NUL character.",
                    key.replace('\0', "")
                )));
            }
            if params.contains_key(key.as_ref()) {
                return Err(OAuthError::invalid_request(format!(
                    "The parameter {key} is included more than once."
                )));
            }
            params.insert(key.into_owned(), value.into_owned());
        }
        Ok(Self(params))
    }

    /// The value, or None when absent or empty.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .get(name)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }
}

impl Params for Form {
    fn get(&self, name: &str) -> Option<&str> {
        Form::get(self, name)
    }
}

/// Checks the content type and reads at most `MAX_BODY_BYTES`.
pub async fn read_form(req: &HttpRequest, mut payload: web::Payload) -> Result<Form, OAuthError> {
    let content_type = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let essence = content_type.split(';').next().unwrap_or("").trim();
    if !essence.eq_ignore_ascii_case("application/x-www-form-urlencoded") {
        return Err(OAuthError::invalid_request(
            "The request body must be application/x-www-form-urlencoded.",
        ));
    }
    let body = read_body(&mut payload, None, MAX_BODY_BYTES)
        .await
        .map_err(|e| {
            OAuthError::invalid_request(match e {
                BodyError::TooLarge => "The request body is too large.",
                BodyError::Unreadable => "The request body could not be read.",
                BodyError::TimedOut => "The request body was not received in time.",
            })
        })?;
    Form::parse(&body)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn any_body_parses_or_is_invalid_request(body in prop::collection::vec(any::<u8>(), 0..512)) {
            if let Err(e) = Form::parse(&body) {
                prop_assert_eq!(e.code.as_str(), "invalid_request");
            }
        }

        #[test]
        fn encoded_parameters_come_back_as_sent(
            params in prop::collection::btree_map("[a-z_]{1,12}", "\\PC{1,40}", 0..6)
        ) {
            let body = serde_urlencoded::to_string(&params).unwrap();
            let form = Form::parse(body.as_bytes()).unwrap();
            for (k, v) in &params {
                prop_assert_eq!(form.get(k), Some(v.as_str()));
            }
        }
    }

    #[test]
    fn a_repeated_parameter_is_invalid_request() {
        let err = Form::parse(b"grant_type=password&scope=read&scope=write").unwrap_err();
        assert_eq!(err.code.as_str(), "invalid_request");
    }

    #[test]
    fn empty_values_count_as_absent_and_values_are_decoded() {
        let form = Form::parse(b"scope=&username=a%40b.c&password=p+q").unwrap();
        assert_eq!(form.get("scope"), None);
        assert_eq!(form.get("username"), Some("a@b.c"));
        assert_eq!(form.get("password"), Some("p q"));
        assert!(form.required("scope").is_err());
    }

    #[test]
    fn debug_output_never_shows_values() {
        let form = Form::parse(b"password=hunter2&client_secret=s3cr3t").unwrap();
        let shown = format!("{form:?}");
        assert!(!shown.contains("hunter2") && !shown.contains("s3cr3t"));
        assert!(shown.contains("password"));
    }

    #[test]
    fn a_nul_character_in_a_name_or_a_value_is_invalid_request() {
        for body in [
            &b"username=tue%00"[..],
            b"password=a\0b",
            b"client%00id=demo",
            b"token=%00",
        ] {
            let err = Form::parse(body).unwrap_err();
            assert_eq!(err.code.as_str(), "invalid_request", "{body:?}");
            assert!(!err.description.contains('\0'));
        }
    }

    #[test]
    fn invalid_utf8_is_invalid_request() {
        assert!(Form::parse(b"username=\xff\xfe").is_err());
    }
}
