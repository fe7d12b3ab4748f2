//! The Content-Security-Policy of the docs page and of the sign-in's landing page.
//!
//! Swagger UI needs nothing from elsewhere but the auth server's token endpoint, which its script
//! calls to exchange the code: scripts and styles come from this server only, and no inline
//! script runs except the landing page's own, allowed by its hash.

use actix_web::http::header::HeaderValue;
use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use sha2::{Digest, Sha256};

use super::{DocsError, REDIRECT_FILE};
use crate::configuration::DocsSettings;

#[derive(Debug, Clone)]
pub(super) struct ContentPolicies {
    /// The page, its settings and Swagger UI's files.
    pub page: HeaderValue,
    /// The landing page, Swagger UI's oauth2-redirect.html.
    pub redirect: HeaderValue,
}

/// Everything not named is refused; no page may be framed (clickjacking), nor change its base URL.
const COMMON: &str = "default-src 'none'; base-uri 'none'; frame-ancestors 'none'";

impl ContentPolicies {
    pub fn new(settings: &DocsSettings, redirect_page: &[u8]) -> Result<Self, DocsError> {
        let page = format!(
            "{COMMON}; script-src 'self'; style-src 'self'; img-src 'self' data:; \
             connect-src 'self' {}; form-action 'self'",
            settings.auth_public_origin()
        );
        let hashes = inline_script_hashes(&String::from_utf8_lossy(redirect_page));
        if hashes.is_empty() {
            return Err(DocsError::NoInlineScript(REDIRECT_FILE));
        }
        let redirect = format!(
            "{COMMON}; script-src {}; form-action 'none'",
            hashes
                .iter()
                .map(|hash| format!("'sha256-{hash}'"))
                .collect::<Vec<_>>()
                .join(" ")
        );
        Ok(Self {
            page: HeaderValue::from_str(&page)?,
            redirect: HeaderValue::from_str(&redirect)?,
        })
    }
}

/// The base64 SHA-256 of the text of each `<script>` element without attributes: what a
/// policy's `'sha256-…'` source matches.
pub(super) fn inline_script_hashes(html: &str) -> Vec<String> {
    let mut hashes = Vec::new();
    let mut rest = html;
    while let Some(start) = rest.find("<script>") {
        rest = &rest[start + "<script>".len()..];
        let Some(end) = rest.find("</script>") else {
            break;
        };
        hashes.push(STANDARD.encode(Sha256::digest(&rest[..end])));
        rest = &rest[end..];
    }
    hashes
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_inline_script_is_hashed_as_written() {
        let html = "<p><script>a()</script><script src=x.js></script><script>\n b()\n</script>";
        assert_eq!(
            inline_script_hashes(html),
            [
                STANDARD.encode(Sha256::digest("a()")),
                STANDARD.encode(Sha256::digest("\n b()\n")),
            ]
        );
        assert!(inline_script_hashes("<p>no script</p>").is_empty());
        assert!(inline_script_hashes("<script>unterminated").is_empty());
    }

    #[test]
    fn the_page_may_call_the_auth_servers_origin_and_nothing_else_outside() {
        let settings = DocsSettings {
            client_id: None,
            auth_public_url: "https://auth.example.com/prefix".into(),
        };
        let policies = ContentPolicies::new(&settings, b"<script>run()</script>").unwrap();
        let page = policies.page.to_str().unwrap();
        assert!(
            page.contains("connect-src 'self' https://auth.example.com;"),
            "{page}"
        );
        assert!(page.contains("script-src 'self';"), "{page}");
        let redirect = policies.redirect.to_str().unwrap();
        assert!(
            redirect.contains(&format!(
                "script-src 'sha256-{}'",
                STANDARD.encode(Sha256::digest("run()"))
            )),
            "{redirect}"
        );
        assert!(ContentPolicies::new(&settings, b"<p>no script</p>").is_err());
    }
}
