//! `/docs/` in a real browser: Swagger UI's Authorize button signs in through the auth server's
//! pages in a pop-up (authorization code with PKCE, as the public client `DOCS_CLIENT_ID`), and
//! "Try it out" on `GET /users/` then shows 200 in the page. Headless Chromium (Debian's, over
//! WebDriver), against a real auth server and resource server; skipped, with a message, where
//! chromedriver is not installed.
//!
//! `SCREENSHOTS_DIR=docs/img cargo test -p resource-server --test api docs_in_chromium` refreshes
//! the README's pictures of the docs page.

use std::time::{Duration, Instant};

use test_support::browser::Chromium;
use test_support::seed;
use test_support::{on_both_backends, spawn_auth_server, TestDatabase};

use crate::helpers::*;

on_both_backends!(swagger_ui_signs_in_through_the_auth_server_and_try_it_out_on_users_gets_200);

const DOCS_CLIENT: &str = "api-docs";
/// Swagger UI 5.17's markup: the authorization code flow's part of the Authorize dialog.
const CODE_FLOW: &str = "div:has(> .auth-btn-wrapper):has(#client_id_authorizationCode)";
/// The operation `GET /users/`.
const LIST_USERS: &str = ".opblock-get:has(.opblock-summary-path[data-path='/users/'])";

async fn swagger_ui_signs_in_through_the_auth_server_and_try_it_out_on_users_gets_200(
    db: TestDatabase,
) {
    let Some(chromium) = Chromium::start().await else {
        return;
    };
    // The auth server lets a page call its token endpoint only from the origins of registered
    // redirect URIs, which it re-reads every CORS_ORIGINS_CACHE_SECONDS; the docs client's URI
    // names the resource server's port, known only once it runs.
    let auth = spawn_auth_server(
        &db.url,
        "127.0.0.1:0",
        &[("CORS_ORIGINS_CACHE_SECONDS", "1")],
    )
    .await;
    let app = spawn_app_with(
        db,
        AuthServer::At(format!("{}/o/introspect/", auth.base)),
        &[("DOCS_CLIENT_ID", DOCS_CLIENT)],
    )
    .await;
    {
        let mut conn = app.pool.get().unwrap();
        seed::public_client(DOCS_CLIENT)
            .grants("authorization_code refresh_token")
            .scopes(ALL_SCOPES)
            .default_scopes("read")
            .redirect_uris(&app.url("/docs/oauth2-redirect"))
            .owned_by(app.user_id)
            .create(&mut conn);
    }
    wait_until_cors_allows(&app, &auth.base).await;

    chromium.goto(&app.url("/docs/")).await;
    let docs = chromium.client().window().await.unwrap();
    chromium.click("button.authorize.unlocked").await;
    // Swagger UI hides the checkbox itself behind its label.
    chromium
        .click(&format!(
            "{CODE_FLOW} label[for='read-authorizationCode-checkbox-oauth2']"
        ))
        .await;
    chromium
        .click(&format!("{CODE_FLOW} > .auth-btn-wrapper .authorize"))
        .await;

    // The pop-up: the auth server's own pages.
    chromium.switch_to_new_window(&docs).await;
    assert!(chromium
        .current_url()
        .await
        .starts_with(&format!("{}/o/authorize/?", auth.base)));
    chromium.sign_in("tue", PASSWORD).await;
    chromium.answer_consent(true).await;
    // /docs/oauth2-redirect hands the code to the page and closes the pop-up; the page
    // exchanges it for a token at the auth server.
    chromium.switch_back_once_alone(docs).await;
    let dialog = chromium
        .wait_for_text(".auth-container", |dialog| {
            dialog.contains("Authorized") || dialog.contains("Auth Error")
        })
        .await;
    assert!(!dialog.contains("Auth Error"), "{dialog}");
    chromium.find("button.authorize.locked").await;
    chromium.click(".auth-btn-wrapper .btn-done").await;
    chromium.wait_until_gone(".dialog-ux").await;
    chromium.screenshot("docs").await;

    chromium
        .click(&format!("{LIST_USERS} .opblock-summary"))
        .await;
    chromium.click(&format!("{LIST_USERS} .try-out__btn")).await;
    chromium.click(&format!("{LIST_USERS} .execute")).await;
    let status = chromium
        .wait_for_text(
            &format!("{LIST_USERS} .live-responses-table .response .response-col_status"),
            |status| !status.is_empty(),
        )
        .await;
    assert_eq!(status.trim(), "200");
    let body = chromium
        .text(&format!(
            "{LIST_USERS} .live-responses-table .response .response-col_description"
        ))
        .await;
    assert!(body.contains("\"username\": \"tue\""), "{body}");

    chromium
        .scroll_to(&format!("{LIST_USERS} .responses-wrapper"))
        .await;
    chromium.screenshot("docs-try-it-out").await;
    chromium.quit().await;
}

/// Polls until the auth server answers CORS for the resource server's origin.
async fn wait_until_cors_allows(app: &TestApp, auth_base: &str) {
    let started = Instant::now();
    loop {
        let res = app
            .http
            .get(format!("{auth_base}/o/jwks/"))
            .header("origin", &app.base)
            .send()
            .await
            .unwrap();
        if res
            .headers()
            .get("access-control-allow-origin")
            .map(|v| v.as_bytes())
            == Some(app.base.as_bytes())
        {
            return;
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "the auth server never allowed {}",
            app.base
        );
        actix_web::rt::time::sleep(Duration::from_millis(100)).await;
    }
}
