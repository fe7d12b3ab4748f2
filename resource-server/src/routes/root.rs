//! `/`, the API root: where a newcomer starts. It links to the documentation, the OpenAPI
//! document and the health checks: JSON with absolute URLs by default, as Django REST
//! framework's API root answers curl, and a small HTML page for a browser.

use actix_web::http::header::{self, Header as _, HeaderValue};
use actix_web::mime;
use actix_web::{HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};
use utoipa::openapi::schema::{ObjectBuilder, Schema, SchemaFormat, Type};
use utoipa::ToSchema;

/// The API root's links.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[schema(as = ApiRoot)]
pub struct ApiRootBody {
    /// Interactive documentation (Swagger UI); its Authorize button signs in at the auth server.
    #[schema(schema_with = absolute_url)]
    pub docs: String,
    /// This API's OpenAPI document.
    #[schema(schema_with = absolute_url)]
    pub openapi: String,
    /// 200 while the process serves.
    #[schema(schema_with = absolute_url)]
    pub healthz: String,
    /// 200 when the database and the auth server answer.
    #[schema(schema_with = absolute_url)]
    pub readyz: String,
}

fn absolute_url() -> Schema {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .format(Some(SchemaFormat::Custom("uri".into())))
        .into()
}

impl ApiRootBody {
    /// The links, each `base` followed by its path.
    fn under(base: &str) -> Self {
        Self {
            docs: format!("{base}/docs/"),
            openapi: format!("{base}/openapi.json"),
            healthz: format!("{base}/healthz"),
            readyz: format!("{base}/readyz"),
        }
    }
}

/// Nothing on the page runs or loads; it may not be framed.
const HTML_POLICY: &str =
    "default-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

pub async fn api_root(req: HttpRequest) -> HttpResponse {
    let mut response = HttpResponse::Ok();
    response.insert_header((header::VARY, HeaderValue::from_static("accept")));
    if !prefers_html(&req) {
        // Absolute, as the pagination links are.
        let info = req.connection_info();
        return response.json(ApiRootBody::under(&format!(
            "{}://{}",
            info.scheme(),
            info.host()
        )));
    }
    response
        .content_type(mime::TEXT_HTML_UTF_8)
        .insert_header((
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(HTML_POLICY),
        ))
        .insert_header((header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY")))
        .insert_header((
            header::REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        ))
        .insert_header((
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        // Paths only: the page holds nothing from the request.
        .body(html(&ApiRootBody::under("")))
}

/// Whether the client ranks HTML above JSON: a browser's `text/html,…,*/*;q=0.8` does; curl's
/// `*/*`, a missing header or one that cannot be read mean JSON.
fn prefers_html(req: &HttpRequest) -> bool {
    let Ok(accept) = header::Accept::parse(req) else {
        return false;
    };
    accept
        .ranked()
        .iter()
        .find_map(|m| match (m.type_(), m.subtype()) {
            (mime::TEXT, mime::HTML) => Some(true),
            (mime::APPLICATION, mime::JSON) | (mime::STAR, mime::STAR) => Some(false),
            _ => None,
        })
        .unwrap_or(false)
}

fn html(links: &ApiRootBody) -> String {
    format!(
        r#"<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Resource server</title>
</head>
<body>
<h1>Resource server</h1>
<p>Users, groups, albums and songs, guarded by OAuth 2.0 scopes: send
<code>Authorization: Bearer &lt;token&gt;</code>.</p>
<ul>
<li><a href="{docs}">API documentation</a>: try every call in the browser, after signing in with
Authorize</li>
<li><a href="{openapi}">OpenAPI document</a></li>
<li><a href="{healthz}">Health</a> and <a href="{readyz}">readiness</a></li>
</ul>
</body>
</html>
"#,
        docs = links.docs,
        openapi = links.openapi,
        healthz = links.healthz,
        readyz = links.readyz,
    )
}

#[cfg(test)]
mod tests {
    use actix_web::test::TestRequest;

    use super::*;

    fn html_preferred(accept: Option<&str>) -> bool {
        let mut req = TestRequest::get();
        if let Some(accept) = accept {
            req = req.insert_header(("accept", accept));
        }
        prefers_html(&req.to_http_request())
    }

    #[test]
    fn browsers_get_html_and_everyone_else_json() {
        let firefox = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";
        assert!(html_preferred(Some(firefox)));
        assert!(html_preferred(Some("text/html")));
        for other in [
            None,
            Some("*/*"),
            Some("application/json"),
            Some("application/json, */*;q=0.5"),
            Some("application/json, text/html;q=0.9"),
            Some("text/plain"),
            Some("not a media type"),
        ] {
            assert!(!html_preferred(other), "{other:?}");
        }
    }
}
