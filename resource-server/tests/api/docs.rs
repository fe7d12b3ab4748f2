//! `/` and `/docs/`: the links a newcomer starts from, and Swagger UI with every file it needs
//! served here, set up to sign in through the auth server with the authorization code and PKCE.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use reqwest::header::{
    CACHE_CONTROL, CONTENT_SECURITY_POLICY, CONTENT_TYPE, LOCATION, REFERRER_POLICY, VARY,
    X_CONTENT_TYPE_OPTIONS, X_FRAME_OPTIONS,
};
use reqwest::{Method, Response, StatusCode};
use serde_json::Value;
use sha2::{Digest, Sha256};
use test_support::on_both_backends;
use test_support::TestDatabase;

use crate::helpers::*;

const DOCS_CLIENT: &str = "api-docs";
/// What a browser sends for a page.
const BROWSER_ACCEPT: &str = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";
/// The auth server as a browser would reach it, unlike the introspection URL the tests use.
const AUTH_PUBLIC_URL: &str = "http://localhost:8000";

/// A resource server whose auth server is never called: the docs need none.
async fn spawn_docs(db: TestDatabase, env: &[(&str, &str)]) -> TestApp {
    let nowhere = format!("http://127.0.0.1:{}/o/introspect/", free_port());
    spawn_app_with(db, AuthServer::At(nowhere), env).await
}

fn header(res: &Response, name: reqwest::header::HeaderName) -> &str {
    res.headers()
        .get(&name)
        .unwrap_or_else(|| panic!("no {name} on {}", res.url()))
        .to_str()
        .unwrap()
}

/// The headers every page of ours carries; `/docs/` gets a policy of its own on top.
fn assert_page_headers(res: &Response) {
    assert_eq!(header(res, X_FRAME_OPTIONS), "DENY", "{}", res.url());
    assert_eq!(header(res, REFERRER_POLICY), "no-referrer", "{}", res.url());
    assert_eq!(
        header(res, X_CONTENT_TYPE_OPTIONS),
        "nosniff",
        "{}",
        res.url()
    );
    let policy = header(res, CONTENT_SECURITY_POLICY);
    for directive in [
        "default-src 'none'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
    ] {
        assert!(policy.contains(directive), "{policy} lacks {directive}");
    }
    assert!(!policy.contains("unsafe-inline"), "{policy}");
    assert!(!policy.contains("unsafe-eval"), "{policy}");
}

/// The values of every `src` and `href` attribute.
fn references(html: &str) -> Vec<String> {
    let mut found = Vec::new();
    for attribute in [" src=\"", " href=\""] {
        for piece in html.split(attribute).skip(1) {
            found.push(piece.split('"').next().unwrap().to_string());
        }
    }
    found
}

/// The settings the server wrote into the initializer.
fn initializer_settings(script: &str) -> Value {
    let line = script
        .lines()
        .find_map(|l| l.trim().strip_prefix("var settings = "))
        .unwrap_or_else(|| panic!("no settings in:\n{script}"));
    serde_json::from_str(line.trim_end_matches(';')).unwrap()
}

async fn the_api_root_answers_curl_with_json_links(db: TestDatabase) {
    let app = spawn_app(db).await;
    let res = app.get("/", None).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(header(&res, VARY), "accept");
    let (_, _, body) = parts(res).await;
    for (name, path) in [
        ("docs", "/docs/"),
        ("openapi", "/openapi.json"),
        ("healthz", "/healthz"),
        ("readyz", "/readyz"),
    ] {
        let url = body[name].as_str().unwrap();
        assert_eq!(url, app.url(path));
        let res = app.http.get(url).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::OK, "{url}");
    }
    // What curl sends.
    let res = app
        .request(Method::GET, "/", None)
        .header("accept", "*/*")
        .send()
        .await
        .unwrap();
    assert!(header(&res, CONTENT_TYPE).starts_with("application/json"));
}

async fn the_api_root_answers_a_browser_with_a_page_of_links(db: TestDatabase) {
    let app = spawn_docs(db, &[]).await;
    let res = app
        .request(Method::GET, "/", None)
        .header("accept", BROWSER_ACCEPT)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(header(&res, CONTENT_TYPE), "text/html; charset=utf-8");
    assert_page_headers(&res);
    let html = res.text().await.unwrap();
    let links = references(&html);
    for path in ["/docs/", "/openapi.json", "/healthz"] {
        assert!(links.iter().any(|l| l == path), "{path} in {links:?}");
    }
    // HEAD, as for every GET route.
    let res = app.request(Method::HEAD, "/", None).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
}

async fn the_docs_page_serves_every_file_it_references(db: TestDatabase) {
    let app = spawn_docs(db, &[("DOCS_CLIENT_ID", DOCS_CLIENT)]).await;
    let res = app.get("/docs/", None).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(header(&res, CONTENT_TYPE), "text/html; charset=utf-8");
    assert_eq!(header(&res, CACHE_CONTROL), "no-cache");
    assert_page_headers(&res);
    let html = res.text().await.unwrap();
    assert!(html.contains(r#"<div id="swagger-ui">"#), "{html}");
    let files = references(&html);
    for expected in [
        "swagger-ui-bundle.js",
        "swagger-initializer.js",
        "swagger-ui.css",
    ] {
        assert!(files.iter().any(|f| f.ends_with(expected)), "{files:?}");
    }
    for file in &files {
        // Every reference is relative to /docs/: nothing comes from anywhere else.
        assert!(!file.contains("//") && !file.starts_with('/'), "{file}");
        let path = format!("/docs/{}", file.trim_start_matches("./"));
        let res = app.get(&path, None).await;
        assert_eq!(res.status(), StatusCode::OK, "{path}");
        let expected = match path.rsplit('.').next() {
            Some("js") => "text/javascript",
            Some("css") => "text/css",
            Some("png") => "image/png",
            other => panic!("{path}: what is a .{other:?}?"),
        };
        assert!(header(&res, CONTENT_TYPE).starts_with(expected), "{path}");
        assert_page_headers(&res);
        assert!(!res.bytes().await.unwrap().is_empty(), "{path}");
    }
    // The bundle names its source map, which is served too.
    let res = app.get("/docs/swagger-ui-bundle.js.map", None).await;
    assert_eq!(res.status(), StatusCode::OK);
}

async fn the_docs_page_answers_without_the_slash_and_by_its_file_name(db: TestDatabase) {
    let app = spawn_docs(db, &[]).await;
    let no_redirects = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let res = no_redirects.get(app.url("/docs")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::PERMANENT_REDIRECT);
    // Relative, so that a proxy's path prefix survives.
    assert_eq!(header(&res, LOCATION), "docs/");
    // Followed, it lands on the page.
    let res = app.get("/docs", None).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.url().path(), "/docs/");
    let page = res.text().await.unwrap();
    let res = app.get("/docs/index.html", None).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.text().await.unwrap(), page);
    let res = app
        .request(Method::HEAD, "/docs/", None)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
}

async fn the_docs_page_signs_in_with_the_docs_client_and_pkce(db: TestDatabase) {
    let app = spawn_docs(
        db,
        &[
            ("DOCS_CLIENT_ID", DOCS_CLIENT),
            ("AUTH_PUBLIC_URL", AUTH_PUBLIC_URL),
        ],
    )
    .await;
    let res = app.get("/docs/swagger-initializer.js", None).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(header(&res, CACHE_CONTROL), "no-cache");
    let script = res.text().await.unwrap();
    assert!(!script.contains("{{"), "a placeholder is left:\n{script}");
    let settings = initializer_settings(&script);
    assert_eq!(settings["oauth"]["clientId"], DOCS_CLIENT);
    assert_eq!(settings["oauth"]["usePkceWithAuthorizationCodeGrant"], true);
    // A public client: nothing secret ever reaches the page.
    assert!(settings["oauth"]["clientSecret"].is_null());
    // The document is this server's, relative to /docs/.
    assert_eq!(settings["ui"]["url"], "../openapi.json");
    assert_eq!(settings["ui"]["dom_id"], "#swagger-ui");
    // Nothing is sent to validator.swagger.io.
    assert_eq!(settings["ui"]["validatorUrl"], "none");
    // The redirect URI is the contract's, resolved by the browser against the page's own
    // address: http(s)://<host the browser used>/docs/oauth2-redirect.
    assert!(
        script.contains(r#"oauth2RedirectUrl: new URL("oauth2-redirect", page).href"#),
        "{script}"
    );
    assert!(
        script.contains("window.ui.initOAuth(settings.oauth)"),
        "{script}"
    );

    // The page's script may call the auth server's token endpoint, as a browser reaches it.
    let res = app.get("/docs/", None).await;
    let policy = header(&res, CONTENT_SECURITY_POLICY);
    assert!(policy.contains("script-src 'self';"), "{policy}");
    assert!(
        policy.contains(&format!("connect-src 'self' {AUTH_PUBLIC_URL};")),
        "{policy}"
    );
}

async fn without_a_docs_client_the_page_offers_no_sign_in(db: TestDatabase) {
    let app = spawn_docs(db, &[]).await;
    let script = app
        .get("/docs/swagger-initializer.js", None)
        .await
        .text()
        .await
        .unwrap();
    let settings = initializer_settings(&script);
    assert!(settings.get("oauth").is_none(), "{settings}");
    assert!(!script.contains(DOCS_CLIENT));
    assert_eq!(settings["ui"]["url"], "../openapi.json");
}

async fn the_sign_in_lands_on_the_redirect_page_at_the_contracts_path(db: TestDatabase) {
    let app = spawn_docs(db, &[("DOCS_CLIENT_ID", DOCS_CLIENT)]).await;
    let mut pages = Vec::new();
    for path in [
        "/docs/oauth2-redirect?code=abc&state=xyz&iss=http%3A%2F%2Fauth",
        "/docs/oauth2-redirect",
        "/docs/oauth2-redirect.html",
    ] {
        let res = app.get(path, None).await;
        assert_eq!(res.status(), StatusCode::OK, "{path}");
        assert_eq!(header(&res, CONTENT_TYPE), "text/html; charset=utf-8");
        // Its address holds the code: it is neither kept nor passed on.
        assert_eq!(header(&res, CACHE_CONTROL), "no-store");
        assert_page_headers(&res);
        let policy = header(&res, CONTENT_SECURITY_POLICY).to_string();
        let html = res.text().await.unwrap();
        assert!(
            html.contains("window.opener.swaggerUIRedirectOauth2"),
            "{html}"
        );
        // Its one inline script runs, by its hash, and nothing else does.
        let script = html
            .split("<script>")
            .nth(1)
            .and_then(|rest| rest.split("</script>").next())
            .unwrap();
        let hash = STANDARD.encode(Sha256::digest(script));
        assert!(
            policy.contains(&format!("script-src 'sha256-{hash}';")),
            "{policy}"
        );
        assert!(!policy.contains("'self'"), "{policy}");
        pages.push(html);
    }
    assert!(pages.windows(2).all(|w| w[0] == w[1]));
}

async fn a_file_the_page_does_not_use_is_a_json_404(db: TestDatabase) {
    let app = spawn_docs(db, &[]).await;
    for path in [
        "/docs/nothing.js",
        // In Swagger UI's distribution, but not what the page loads.
        "/docs/swagger-ui.js",
        "/docs/swagger-ui-es-bundle.js",
        "/docs/%2e%2e%2fCargo.toml",
        "/docs/index.html/",
    ] {
        let (status, _, body) = parts(app.get(path, None).await).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
        assert_eq!(body["detail"], "Not found.", "{path}");
    }
    let res = app
        .request(Method::POST, "/docs/", None)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::METHOD_NOT_ALLOWED);
}

on_both_backends!(
    the_api_root_answers_curl_with_json_links,
    the_api_root_answers_a_browser_with_a_page_of_links,
    the_docs_page_serves_every_file_it_references,
    the_docs_page_answers_without_the_slash_and_by_its_file_name,
    the_docs_page_signs_in_with_the_docs_client_and_pkce,
    without_a_docs_client_the_page_offers_no_sign_in,
    the_sign_in_lands_on_the_redirect_page_at_the_contracts_path,
    a_file_the_page_does_not_use_is_a_json_404,
);
