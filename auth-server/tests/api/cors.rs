//! CORS: the origins of registered redirect URIs, and no others, may call the token, revocation,
//! userinfo, JWKS and discovery endpoints from a browser; introspection and the authorization
//! endpoint are not for browsers' `fetch` at all.

use std::time::{Duration, Instant};

use actix_web::rt::time::sleep;
use auth_store::applications;
use reqwest::{Method, RequestBuilder, Response, StatusCode};
use serde_json::Value;
use test_support::{on_both_backends, seed, TestDatabase};

use crate::helpers::*;

const SPA: &str = "https://spa.example.com";

/// An app whose origins are re-read every second, and a public browser client registered after
/// it started (with a second redirect URI on a loopback port), allowed once the server has read it.
async fn spawn_with_spa(db: TestDatabase) -> (TestApp, Client) {
    let app = spawn_app_with(db, &[("CORS_ORIGINS_CACHE_SECONDS", "1")]).await;
    let spa = seed::public_client("spa")
        .grants("authorization_code refresh_token")
        .scopes("openid profile read")
        .redirect_uris(&format!("{SPA}/callback http://127.0.0.1:5173/cb"))
        .post_logout_redirect_uris("https://logged-out.example.com/bye")
        .owned_by(app.user_id)
        .create(&mut app.pool.get().unwrap());
    wait_for_origin(&app, SPA, true).await;
    (app, spa)
}

/// Waits (a few seconds at most) until the server does or does not allow `origin`.
async fn wait_for_origin(app: &TestApp, origin: &str, allowed: bool) {
    let started = Instant::now();
    while allow_origin(&preflight(app, "/o/token/", origin, "POST", None).await) != allowed {
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "{origin} not {} within the refresh interval",
            if allowed { "allowed" } else { "refused" }
        );
        sleep(Duration::from_millis(100)).await;
    }
}

fn with_origin(req: RequestBuilder, origin: &str) -> RequestBuilder {
    req.header("Origin", origin)
}

async fn preflight(
    app: &TestApp,
    path: &str,
    origin: &str,
    method: &str,
    headers: Option<&str>,
) -> Response {
    let mut req = app
        .http
        .request(Method::OPTIONS, app.url(path))
        .header("Origin", origin)
        .header("Access-Control-Request-Method", method);
    if let Some(headers) = headers {
        req = req.header("Access-Control-Request-Headers", headers);
    }
    req.send().await.unwrap()
}

fn header<'a>(res: &'a Response, name: &str) -> Option<&'a str> {
    res.headers().get(name).map(|v| v.to_str().unwrap())
}

fn allow_origin(res: &Response) -> bool {
    header(res, "access-control-allow-origin").is_some()
}

/// Every CORS answer: the origin echoed (never `*`), `Vary: Origin`, and no credentials mode.
fn assert_cors_for(res: &Response, origin: &str) {
    assert_eq!(
        header(res, "access-control-allow-origin"),
        Some(origin),
        "{res:?}"
    );
    assert!(header(res, "vary").is_some_and(|v| v.to_lowercase().contains("origin")));
    assert_eq!(header(res, "access-control-allow-credentials"), None);
}

async fn openid_token(app: &TestApp) -> String {
    app.password_tokens("read").await;
    let client = seed::confidential_client("oidc-app")
        .grants("password")
        .scopes("openid")
        .owned_by(app.user_id)
        .create(&mut app.pool.get().unwrap());
    let res = app
        .token(
            &client,
            &[
                ("grant_type", "password"),
                ("username", "tue"),
                ("password", PASSWORD),
                ("scope", "openid"),
            ],
        )
        .await;
    res.json::<Value>().await.unwrap()["access_token"]
        .as_str()
        .unwrap()
        .to_string()
}

async fn a_registered_origin_may_call_every_browser_endpoint(db: TestDatabase) {
    let (app, spa) = spawn_with_spa(db).await;
    let token = openid_token(&app).await;

    for path in [
        "/o/jwks/",
        "/.well-known/openid-configuration",
        "/.well-known/oauth-authorization-server",
    ] {
        let res = with_origin(app.http.get(app.url(path)), SPA)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK, "{path}");
        assert_cors_for(&res, SPA);
    }
    for method in [Method::GET, Method::POST] {
        let res = with_origin(app.http.request(method, app.url("/o/userinfo/")), SPA)
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        assert_cors_for(&res, SPA);
    }
    // A refusal too, so the page can read why (the challenge is exposed).
    let res = with_origin(app.http.get(app.url("/o/userinfo/")), SPA)
        .bearer_auth("not-a-token")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert_cors_for(&res, SPA);
    assert!(header(&res, "access-control-expose-headers")
        .is_some_and(|v| v.to_lowercase().contains("www-authenticate")));

    // The token endpoint as a public client's page calls it (an error answer is enough here:
    // the code flow has its own tests), and revocation.
    let res = with_origin(app.http.post(app.url("/o/token/")), SPA)
        .form(&[
            ("grant_type", "authorization_code"),
            ("client_id", spa.id.as_str()),
            ("code", "nonsense"),
            ("code_verifier", &"v".repeat(43)),
            ("redirect_uri", &format!("{SPA}/callback")),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert_cors_for(&res, SPA);
    let res = with_origin(app.http.post(app.url("/o/revoke_token/")), SPA)
        .form(&[("client_id", spa.id.as_str()), ("token", "unknown")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_cors_for(&res, SPA);

    // The loopback redirect URI's origin, port and all.
    let res = with_origin(app.http.get(app.url("/o/jwks/")), "http://127.0.0.1:5173")
        .send()
        .await
        .unwrap();
    assert_cors_for(&res, "http://127.0.0.1:5173");
}

async fn a_preflight_allows_the_method_authorization_and_content_type(db: TestDatabase) {
    let (app, _) = spawn_with_spa(db).await;
    for (path, method) in [
        ("/o/token/", "POST"),
        ("/o/revoke_token/", "POST"),
        ("/o/userinfo/", "GET"),
        ("/o/userinfo/", "POST"),
        ("/o/jwks/", "GET"),
    ] {
        let res = preflight(&app, path, SPA, method, Some("authorization, content-type")).await;
        assert_eq!(res.status(), StatusCode::OK, "{path} {method}");
        assert_cors_for(&res, SPA);
        let methods = header(&res, "access-control-allow-methods").unwrap();
        assert!(methods.contains(method), "{path}: {methods}");
        let headers = header(&res, "access-control-allow-headers")
            .unwrap()
            .to_lowercase();
        assert!(
            headers.contains("authorization") && headers.contains("content-type"),
            "{headers}"
        );
        assert_eq!(header(&res, "access-control-max-age"), Some("600"));
    }
    // Swagger UI's token request (the resource server's /docs/) adds X-Requested-With.
    let res = preflight(
        &app,
        "/o/token/",
        SPA,
        "POST",
        Some("content-type, x-requested-with"),
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_cors_for(&res, SPA);
    // A method the endpoint does not serve, or a header it does not read, is refused.
    for (path, method, headers) in [
        ("/o/token/", "DELETE", None),
        ("/o/jwks/", "POST", None),
        ("/o/token/", "POST", Some("x-custom-header")),
        ("/o/userinfo/", "GET", Some("authorization, cookie")),
    ] {
        let res = preflight(&app, path, SPA, method, headers).await;
        assert!(
            res.status().is_client_error(),
            "{path} {method} {headers:?}"
        );
        assert!(!allow_origin(&res), "{path} {method} {headers:?}");
    }
}

async fn any_other_origin_gets_no_cors_headers(db: TestDatabase) {
    let (app, _) = spawn_with_spa(db).await;
    for origin in [
        "https://evil.example.com",
        "http://spa.example.com",
        "https://spa.example.com:8443",
        "https://spa.example.com.evil.example",
        "http://127.0.0.1:5174",
        // Registered only as a post-logout redirect: not a page that calls the API.
        "https://logged-out.example.com",
        "null",
    ] {
        // The request is served as without CORS: the browser keeps the answer from the page.
        let res = with_origin(app.http.get(app.url("/o/jwks/")), origin)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK, "{origin}");
        assert!(!allow_origin(&res), "{origin}");
        let res = preflight(&app, "/o/token/", origin, "POST", Some("authorization")).await;
        assert!(res.status().is_client_error(), "{origin}");
        assert!(!allow_origin(&res), "{origin}");
    }
    // Non-browser clients send no Origin and are served as ever.
    let res = app.http.get(app.url("/o/jwks/")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert!(!allow_origin(&res));
}

async fn introspection_and_the_authorization_endpoint_have_no_cors(db: TestDatabase) {
    let (app, _) = spawn_with_spa(db).await;
    for path in ["/o/introspect/", "/o/authorize/", "/o/logout/"] {
        let res = preflight(&app, path, SPA, "POST", Some("authorization")).await;
        assert!(!allow_origin(&res), "{path} {res:?}");
        assert_ne!(res.status(), StatusCode::OK, "{path}");
    }
    let res = with_origin(app.http.post(app.url("/o/introspect/")), SPA)
        .basic_auth(&app.introspector.id, app.introspector.secret.as_deref())
        .form(&[("token", "unknown")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert!(!allow_origin(&res));
    let res = with_origin(app.http.get(app.url("/o/authorize/")), SPA)
        .send()
        .await
        .unwrap();
    assert!(!allow_origin(&res));
}

/// A client registered or deleted while the servers run: its origin is allowed, then refused,
/// within `CORS_ORIGINS_CACHE_SECONDS` (here 1; `spawn_with_spa` waited for the registration).
async fn a_deleted_clients_origin_is_refused_within_the_interval(db: TestDatabase) {
    let (app, spa) = spawn_with_spa(db).await;
    assert!(applications::delete_by_client_id(&mut app.pool.get().unwrap(), &spa.id).unwrap());
    wait_for_origin(&app, SPA, false).await;
}

on_both_backends!(
    a_registered_origin_may_call_every_browser_endpoint,
    a_preflight_allows_the_method_authorization_and_content_type,
    any_other_origin_gets_no_cors_headers,
    introspection_and_the_authorization_endpoint_have_no_cors,
    a_deleted_clients_origin_is_refused_within_the_interval,
);
