//! Reading `Authorization: Bearer <token>` (RFC 6750 §2.1) the same way in both services.
//!
//! Written here rather than taken from actix-web-httpauth: its `Bearer` accepts only the exact
//! spelling `Bearer`, while an auth-scheme is case-insensitive (RFC 7235 §2.1) and the contract
//! accepts `bearer` too; and it does not check that the token is a b64token.

use actix_web::http::header::{HeaderMap, AUTHORIZATION};

/// A bearer header whose token is empty, too long, or not a b64token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MalformedBearer;

/// Far longer than any token the auth server issues; longer ones are not worth a round trip.
const MAX_TOKEN_LEN: usize = 4096;

/// The request's credentials, as far as OAuth is concerned.
#[derive(Debug, PartialEq, Eq)]
pub enum Credentials<'a> {
    /// No `Authorization` header, or one with another scheme: like Django REST framework's
    /// OAuth2Authentication, such a request is simply not authenticated by OAuth.
    None,
    Bearer(&'a str),
}

/// Reads `Authorization: Bearer <token>` (scheme case-insensitive, RFC 6750 §2.1). A bearer
/// header whose token is empty or has characters outside b64token is an invalid token.
pub fn bearer_credentials(headers: &HeaderMap) -> Result<Credentials<'_>, MalformedBearer> {
    let Some(value) = headers.get(AUTHORIZATION) else {
        return Ok(Credentials::None);
    };
    let raw = value.as_bytes();
    let scheme_len = raw.iter().position(|b| *b == b' ').unwrap_or(raw.len());
    if !raw[..scheme_len].eq_ignore_ascii_case(b"bearer") {
        return Ok(Credentials::None);
    }
    let token = std::str::from_utf8(&raw[scheme_len..])
        .map(|s| s.trim_matches(' '))
        .map_err(|_| MalformedBearer)?;
    if token.is_empty() || token.len() > MAX_TOKEN_LEN || !is_b64token(token) {
        return Err(MalformedBearer);
    }
    Ok(Credentials::Bearer(token))
}

/// RFC 6750 §2.1: b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="
fn is_b64token(token: &str) -> bool {
    let body = token.trim_end_matches('=');
    !body.is_empty()
        && body
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._~+/".contains(&b))
}

#[cfg(test)]
mod tests {
    use actix_web::http::header::HeaderValue;

    use super::*;

    fn headers(value: &[u8]) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(AUTHORIZATION, HeaderValue::from_bytes(value).unwrap());
        h
    }

    #[test]
    fn no_header_means_no_credentials() {
        assert_eq!(
            bearer_credentials(&HeaderMap::new()).unwrap(),
            Credentials::None
        );
    }

    #[test]
    fn the_scheme_is_case_insensitive() {
        for v in ["Bearer abc", "bearer abc", "BEARER abc", "Bearer  abc "] {
            assert_eq!(
                bearer_credentials(&headers(v.as_bytes())).unwrap(),
                Credentials::Bearer("abc"),
                "{v}"
            );
        }
    }

    #[test]
    fn other_schemes_are_not_oauth_credentials() {
        for v in ["Basic dXNlcjpwYXNz", "Token abc", "Bearerabc", "Digest x"] {
            assert_eq!(
                bearer_credentials(&headers(v.as_bytes())).unwrap(),
                Credentials::None,
                "{v}"
            );
        }
    }

    #[test]
    fn an_empty_or_malformed_bearer_token_is_invalid() {
        for v in [
            &b"Bearer"[..],
            b"Bearer ",
            b"Bearer    ",
            b"Bearer a b",
            b"Bearer a\"b",
            b"Bearer ===",
            b"Bearer caf\xc3\xa9",
            b"Bearer \xff\xfe",
        ] {
            assert!(
                matches!(bearer_credentials(&headers(v)), Err(MalformedBearer)),
                "{:?}",
                String::from_utf8_lossy(v)
            );
        }
        let long = format!("Bearer {}", "a".repeat(MAX_TOKEN_LEN + 1));
        assert!(bearer_credentials(&headers(long.as_bytes())).is_err());
    }

    #[test]
    fn b64token_allows_its_alphabet_and_trailing_padding() {
        assert!(is_b64token("aZ09-._~+/=="));
        assert!(!is_b64token("a=b"));
    }
}
