//! The sign-in pages' two cookies: the session (who is signed in) and the CSRF token of the
//! forms. Both are HttpOnly, and Secure with the `__Host-` prefix when the issuer is https, so
//! that neither a script nor a sibling host can read or plant them.
//!
//! CSRF protection is a double submit: each form carries the token the CSRF cookie holds, and a
//! post is refused unless the two agree. A cross-site page can make the browser send the cookie
//! but cannot read it, so it cannot fill in the form field. The cookie is SameSite=Strict besides.

use actix_web::cookie::{time::Duration, Cookie, SameSite};
use actix_web::HttpRequest;
use oauth_core::secrets::new_token;
use subtle::ConstantTimeEq;

/// The cookies' names and flags, from the issuer's scheme.
#[derive(Debug, Clone)]
pub struct CookiePolicy {
    secure: bool,
    session_name: &'static str,
    csrf_name: &'static str,
    session_seconds: i64,
}

/// The longest value either cookie legitimately holds (a 256-bit token in base64url is 43).
const MAX_VALUE_LEN: usize = 64;

impl CookiePolicy {
    pub fn new(issuer: &str, session_seconds: i64) -> Self {
        let secure = issuer.starts_with("https://");
        Self {
            secure,
            session_name: if secure {
                "__Host-oauth_session"
            } else {
                "oauth_session"
            },
            csrf_name: if secure {
                "__Host-oauth_csrf"
            } else {
                "oauth_csrf"
            },
            session_seconds,
        }
    }

    fn read(&self, req: &HttpRequest, name: &str) -> Option<String> {
        req.cookie(name)
            .map(|c| c.value().to_string())
            .filter(|v| !v.is_empty() && v.len() <= MAX_VALUE_LEN)
    }

    /// The session id the browser sent.
    pub fn session_id(&self, req: &HttpRequest) -> Option<String> {
        self.read(req, self.session_name)
    }

    fn build(&self, name: &'static str, value: String, same_site: SameSite) -> Cookie<'static> {
        Cookie::build(name, value)
            .path("/")
            .http_only(true)
            .secure(self.secure)
            .same_site(same_site)
            .finish()
    }

    /// Lax, so that the browser sends it when a client sends it here (a top-level navigation).
    pub fn session_cookie(&self, id: String) -> Cookie<'static> {
        let mut cookie = self.build(self.session_name, id, SameSite::Lax);
        cookie.set_max_age(Duration::seconds(self.session_seconds));
        cookie
    }

    pub fn session_removal(&self) -> Cookie<'static> {
        let mut cookie = self.build(self.session_name, String::new(), SameSite::Lax);
        cookie.make_removal();
        cookie
    }

    /// The CSRF token for a form: the browser's, or a new one (then `Some` cookie to set).
    pub fn csrf_token(&self, req: &HttpRequest) -> (String, Option<Cookie<'static>>) {
        match self.read(req, self.csrf_name) {
            Some(token) => (token, None),
            None => {
                let token = new_token();
                let cookie = self.build(self.csrf_name, token.clone(), SameSite::Strict);
                (token, Some(cookie))
            }
        }
    }

    /// Whether the form's token is the cookie's, compared in constant time.
    pub fn csrf_ok(&self, req: &HttpRequest, submitted: Option<&str>) -> bool {
        match (self.read(req, self.csrf_name), submitted) {
            (Some(cookie), Some(field)) => cookie.as_bytes().ct_eq(field.as_bytes()).into(),
            _ => false,
        }
    }
}
