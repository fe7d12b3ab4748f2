//! `X-Request-Id`: taken from the request when it carries a usable one (a load balancer or the
//! other service set it), made otherwise, and returned on the response. The access log writes it
//! and the resource server passes it on to the auth server, so that one grep follows a request
//! across both services.

use actix_web::http::header::HeaderMap;
use actix_web::http::header::{HeaderName, HeaderValue};

pub const HEADER: HeaderName = HeaderName::from_static("x-request-id");

/// The longest id accepted from a client; a longer one is replaced.
pub const MAX_LENGTH: usize = 128;

/// The request's id, in its extensions for whoever passes it on.
#[derive(Debug, Clone)]
pub struct RequestId(pub HeaderValue);

impl RequestId {
    /// The id the request carries when it is usable, else a new UUID.
    pub fn for_request(headers: &HeaderMap) -> Self {
        match headers.get(&HEADER) {
            Some(value) if is_usable(value.as_bytes()) => Self(value.clone()),
            _ => Self::new(),
        }
    }

    pub fn new() -> Self {
        let id = uuid::Uuid::new_v4().hyphenated().to_string();
        Self(HeaderValue::from_str(&id).expect("a UUID is a valid header value"))
    }

    pub fn as_str(&self) -> &str {
        // Only ASCII ever gets in (is_usable, or a UUID).
        self.0.to_str().unwrap_or("")
    }
}

impl Default for RequestId {
    fn default() -> Self {
        Self::new()
    }
}

/// 1 to [`MAX_LENGTH`] characters from a set that cannot break a log line or a JSON string:
/// letters, digits and `-_.:=+/@`. Anything else (spaces, quotes, control characters) could
/// forge or split an access log line, so such an id is replaced rather than repeated.
pub fn is_usable(id: &[u8]) -> bool {
    (1..=MAX_LENGTH).contains(&id.len())
        && id
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.:=+/@".contains(b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_that_could_break_a_log_line_are_not_used() {
        assert!(is_usable(b"0b5e6f3a-1c2d-4e5f-8a9b-0c1d2e3f4a5b"));
        assert!(is_usable(b"Root=1-67891233-abcdef012345678912345678"));
        for bad in [
            &b""[..],
            b"a b",
            b"a\"b",
            b"a\nb",
            b"caf\xc3\xa9",
            &[b'a'; MAX_LENGTH + 1],
        ] {
            assert!(!is_usable(bad), "{bad:?}");
        }
    }

    #[test]
    fn a_request_without_a_usable_id_gets_a_new_one() {
        let mut headers = HeaderMap::new();
        let made = RequestId::for_request(&headers);
        assert_eq!(made.as_str().len(), 36);
        headers.insert(HEADER, HeaderValue::from_static("from-the-balancer-42"));
        assert_eq!(
            RequestId::for_request(&headers).as_str(),
            "from-the-balancer-42"
        );
        headers.insert(HEADER, HeaderValue::from_static("two words"));
        assert_ne!(RequestId::for_request(&headers).as_str(), "two words");
    }
}
