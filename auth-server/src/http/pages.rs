//! The auth server's HTML pages: login, consent, error, logout. Rendered on the server (askama
//! escapes every value), styled by one stylesheet the server serves itself, and sent with headers
//! that keep them out of frames, caches and Referer headers, and let no script run.

use actix_web::http::{header, StatusCode};
use actix_web::{HttpResponse, HttpResponseBuilder};
use askama::Template;
use oauth_core::scopes::{ScopeSet, DEFAULT_SCOPES};

#[derive(Template)]
#[template(path = "login.html")]
pub struct LoginPage<'a> {
    pub client_name: &'a str,
    pub error: Option<&'a str>,
    pub csrf_token: &'a str,
    /// What the user typed, shown again after a failure.
    pub login: &'a str,
}

#[derive(Template)]
#[template(path = "consent.html")]
pub struct ConsentPage<'a> {
    pub client_name: &'a str,
    pub username: &'a str,
    /// (name, description) of each scope asked for.
    pub scopes: Vec<(&'a str, &'static str)>,
    pub csrf_token: &'a str,
    pub redirect_origin: &'a str,
}

#[derive(Template)]
#[template(path = "error.html")]
pub struct ErrorPage<'a> {
    pub message: &'a str,
}

#[derive(Template)]
#[template(path = "logout.html")]
pub struct LogoutPage<'a> {
    pub csrf_token: &'a str,
}

#[derive(Template)]
#[template(path = "logged_out.html")]
pub struct LoggedOutPage;

/// Each scope with its description, for the consent page.
pub fn describe(scope: &ScopeSet) -> Vec<(&str, &'static str)> {
    scope
        .iter()
        .map(|name| {
            let description = DEFAULT_SCOPES
                .iter()
                .find(|(known, _)| *known == name)
                .map_or("", |(_, d)| *d);
            (name, description)
        })
        .collect()
}

/// The headers every page carries. `form_targets`: origins a form on the page may end up at
/// after the server's redirect (CSP `form-action` also governs redirects after a submit).
pub fn page_headers<'b>(
    builder: &'b mut HttpResponseBuilder,
    form_targets: &[&str],
) -> &'b mut HttpResponseBuilder {
    let mut form_action = String::from("'self'");
    for origin in form_targets {
        form_action.push(' ');
        form_action.push_str(origin);
    }
    builder
        .insert_header((
            header::CONTENT_SECURITY_POLICY,
            format!(
                "default-src 'none'; style-src 'self'; img-src 'self'; form-action {form_action}; \
                 frame-ancestors 'none'; base-uri 'none'"
            ),
        ))
        .insert_header((header::X_FRAME_OPTIONS, "DENY"))
        .insert_header((header::REFERRER_POLICY, "no-referrer"))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((header::PRAGMA, "no-cache"))
}

/// A rendered page; a template that fails to render (it cannot, for these) is a plain 500.
pub fn render(
    mut builder: HttpResponseBuilder,
    page: &impl Template,
    form_targets: &[&str],
) -> HttpResponse {
    match page.render() {
        Ok(html) => page_headers(&mut builder, form_targets)
            .content_type("text/html; charset=utf-8")
            .body(html),
        Err(e) => {
            log::error!("a page failed to render: {e}");
            HttpResponse::InternalServerError().finish()
        }
    }
}

pub fn error_page(status: StatusCode, message: &str) -> HttpResponse {
    render(HttpResponse::build(status), &ErrorPage { message }, &[])
}

pub async fn stylesheet() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/css; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "public, max-age=3600"))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .body(include_str!("../../static/style.css"))
}
