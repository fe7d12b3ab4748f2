//! `/docs/`: Swagger UI, every file of it served from this binary (utoipa-swagger-ui embeds its
//! vendored copy at build time, so nothing is fetched at build or run time), set up so that its
//! Authorize button signs in through the auth server with the authorization code flow and PKCE,
//! as the public client `DOCS_CLIENT_ID`.
//!
//! The files are named, not looked up by whatever path is asked for: only what the page needs is
//! served, each with its own content type and headers.

mod content_policy;

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::Arc;

use actix_web::http::header::{self, HeaderValue};
use actix_web::{web, HttpResponse};
use serde::Serialize;
use utoipa_swagger_ui::{oauth, Config};

use crate::configuration::DocsSettings;
use crate::error::ApiError;
use content_policy::ContentPolicies;

/// The contract's redirect URI is `<resource server>/docs/oauth2-redirect`; Swagger UI's own
/// name for the page answers too.
pub const REDIRECT_PAGE: &str = "oauth2-redirect";
const REDIRECT_FILE: &str = "oauth2-redirect.html";
const INDEX: &str = "index.html";
const INITIALIZER: &str = "swagger-initializer.js";
/// Ours, replacing Swagger UI's stock one (see the file).
const INITIALIZER_TEMPLATE: &str = include_str!("swagger-initializer.js");
/// Where the page finds the document, relative to `/docs/`.
const OPENAPI_URL: &str = "../openapi.json";

const HTML: &str = "text/html; charset=utf-8";
const CSS: &str = "text/css; charset=utf-8";
const JAVASCRIPT: &str = "text/javascript; charset=utf-8";
const SOURCE_MAP: &str = "application/json";
const PNG: &str = "image/png";

/// Swagger UI's files that the page loads (index.html references them all), and the source maps
/// the scripts name, for the browser's developer tools.
const VENDORED: [(&str, &str); 9] = [
    ("index.css", CSS),
    ("swagger-ui.css", CSS),
    ("swagger-ui.css.map", SOURCE_MAP),
    ("swagger-ui-bundle.js", JAVASCRIPT),
    ("swagger-ui-bundle.js.map", SOURCE_MAP),
    ("swagger-ui-standalone-preset.js", JAVASCRIPT),
    ("swagger-ui-standalone-preset.js.map", SOURCE_MAP),
    ("favicon-16x16.png", PNG),
    ("favicon-32x32.png", PNG),
];

#[derive(Debug, thiserror::Error)]
pub enum DocsError {
    #[error("the vendored Swagger UI has no {0}")]
    MissingFile(&'static str),
    #[error("the vendored Swagger UI's {0} cannot be read: {1}")]
    UnreadableFile(&'static str, String),
    #[error("the vendored {0} has no inline script")]
    NoInlineScript(&'static str),
    #[error("cannot write Swagger UI's settings")]
    Settings(#[from] serde_json::Error),
    #[error("the auth server's origin cannot go in a header")]
    Header(#[from] header::InvalidHeaderValue),
}

/// How a file is served: which content policy applies and how long a browser may keep it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// The page and its settings: what a restart may change.
    Page,
    /// Swagger UI's own files, which change only with the binary.
    Asset,
    /// The sign-in's landing page, whose address carries the authorization code.
    Redirect,
}

#[derive(Debug, Clone)]
struct File {
    body: web::Bytes,
    content_type: &'static str,
    kind: Kind,
}

/// Every file of the docs page, ready to serve; built once at start.
#[derive(Debug)]
pub struct DocsPage {
    files: HashMap<&'static str, File>,
    policies: ContentPolicies,
}

/// What the initializer hands Swagger UI: its options, and `initOAuth`'s when there is a client
/// to sign in with.
#[derive(Serialize)]
struct InitializerSettings<'a> {
    ui: &'a Config<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    oauth: Option<oauth::Config>,
}

impl DocsPage {
    pub fn new(settings: &DocsSettings) -> Result<Self, DocsError> {
        let mut files = HashMap::new();
        let index = vendored(INDEX)?;
        // The tab says what the page documents.
        let index = String::from_utf8_lossy(&index).replace(
            "<title>Swagger UI</title>",
            "<title>Resource server API</title>",
        );
        files.insert(INDEX, file(index.into_bytes().into(), HTML, Kind::Page));
        files.insert(
            INITIALIZER,
            file(initializer(settings)?.into(), JAVASCRIPT, Kind::Page),
        );
        for (name, content_type) in VENDORED {
            files.insert(name, file(vendored(name)?, content_type, Kind::Asset));
        }
        let redirect = vendored(REDIRECT_FILE)?;
        let policies = ContentPolicies::new(settings, &redirect)?;
        let redirect = file(redirect, HTML, Kind::Redirect);
        files.insert(REDIRECT_PAGE, redirect.clone());
        files.insert(REDIRECT_FILE, redirect);
        Ok(Self { files, policies })
    }

    fn respond(&self, name: &str) -> Result<HttpResponse, ApiError> {
        let file = self.files.get(name).ok_or(ApiError::NotFound)?;
        let (policy, cache) = match file.kind {
            Kind::Page => (&self.policies.page, "no-cache"),
            Kind::Asset => (&self.policies.page, "public, max-age=3600"),
            // The response is the same for every code, but its address is worth nothing to
            // keep.
            Kind::Redirect => (&self.policies.redirect, "no-store"),
        };
        Ok(HttpResponse::Ok()
            .content_type(file.content_type)
            .insert_header((header::CONTENT_SECURITY_POLICY, policy.clone()))
            .insert_header((header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY")))
            // The landing page's address holds the code, and nothing on these pages should
            // tell another site where the reader came from.
            .insert_header((
                header::REFERRER_POLICY,
                HeaderValue::from_static("no-referrer"),
            ))
            .insert_header((
                header::X_CONTENT_TYPE_OPTIONS,
                HeaderValue::from_static("nosniff"),
            ))
            .insert_header((header::CACHE_CONTROL, HeaderValue::from_static(cache)))
            .body(file.body.clone()))
    }
}

fn file(body: web::Bytes, content_type: &'static str, kind: Kind) -> File {
    File {
        body,
        content_type,
        kind,
    }
}

/// One of Swagger UI's files, as embedded in the binary.
fn vendored(name: &'static str) -> Result<web::Bytes, DocsError> {
    // Only swagger-initializer.js, which is never asked for here, depends on the config.
    let found = utoipa_swagger_ui::serve(name, Arc::new(Config::default()))
        .map_err(|e| DocsError::UnreadableFile(name, e.to_string()))?
        .ok_or(DocsError::MissingFile(name))?;
    Ok(match found.bytes {
        Cow::Borrowed(bytes) => web::Bytes::from_static(bytes),
        Cow::Owned(bytes) => web::Bytes::from(bytes),
    })
}

/// The initializer with the settings written in.
fn initializer(settings: &DocsSettings) -> Result<String, DocsError> {
    let ui = Config::new([OPENAPI_URL])
        // The base layout has no top bar, whose box would load any other document into the page.
        .use_base_layout()
        // Swagger UI would otherwise send the document to validator.swagger.io.
        .validator_url("none");
    let oauth = settings.client_id.as_deref().map(|client_id| {
        oauth::Config::new()
            .client_id(client_id)
            .use_pkce_with_authorization_code_grant(true)
    });
    let settings = serde_json::to_string(&InitializerSettings { ui: &ui, oauth })?;
    Ok(INITIALIZER_TEMPLATE.replace("{{settings}}", &settings))
}

/// `GET /docs/`: the page.
pub async fn docs_page(page: web::Data<DocsPage>) -> Result<HttpResponse, ApiError> {
    page.respond(INDEX)
}

/// `GET /docs/{file}`: the page's files, and the sign-in's landing page.
async fn docs_file(
    page: web::Data<DocsPage>,
    name: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    page.respond(&name)
}

/// `GET /docs`: to `/docs/`, relative so that a proxy's path prefix is kept, and so that the
/// page's relative links resolve under `/docs/`.
async fn to_docs_page() -> HttpResponse {
    HttpResponse::PermanentRedirect()
        .insert_header((header::LOCATION, "docs/"))
        .finish()
}

/// The page's files and `/docs`; `/docs/` itself is in the route table with the API's routes.
/// They are not operations of the API, so they are mounted here rather than documented there.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/docs")
            .route(web::get().to(to_docs_page))
            .route(web::head().to(to_docs_page)),
    )
    .service(
        web::resource("/docs/{file}")
            .route(web::get().to(docs_file))
            .route(web::head().to(docs_file)),
    );
}
