//! Browser sign-in in a real browser: headless Chromium (Debian's, over WebDriver) goes through
//! the login and consent pages of the auth server to a client's redirect URI served by the test,
//! on both databases. Skipped, with a message, where chromedriver is not installed.
//!
//! `SCREENSHOTS_DIR=docs/img cargo test -p auth-server --test api chromium` refreshes the
//! README's pictures of the login and consent pages.

use reqwest::StatusCode;
use serde_json::Value;
use test_support::browser::{Callback, Chromium};
use test_support::seed::{self, SeededClient};
use test_support::{on_both_backends, TestDatabase};

use crate::browser::{authorize_path, exchange, pkce, CODE_SCOPES};
use crate::helpers::*;

on_both_backends!(
    a_person_signs_in_and_approves_and_the_client_gets_a_code_that_yields_tokens,
    a_wrong_password_shows_the_error_and_then_the_right_one_signs_in,
    denying_sends_access_denied_with_state_and_iss_back_to_the_client,
    after_signing_out_the_next_sign_in_starts_at_the_login_page_again,
);

/// A single-page app's client: public, its redirect URI the test's callback.
fn spa_client(app: &TestApp, callback: &Callback) -> SeededClient {
    let mut conn = app.pool.get().unwrap();
    seed::public_client("photo-album")
        .grants("authorization_code refresh_token")
        .scopes(CODE_SCOPES)
        .redirect_uris(&callback.url)
        .owned_by(app.user_id)
        .create(&mut conn)
}

/// The authorize URL a client sends the browser to, with a fresh PKCE pair; and its verifier.
fn authorize_url(
    app: &TestApp,
    client: &SeededClient,
    callback: &Callback,
    state: &str,
) -> (String, String) {
    let (verifier, challenge) = pkce();
    let path = authorize_path(
        client,
        &[
            ("redirect_uri", callback.url.as_str()),
            ("scope", "read write openid"),
            ("state", state),
            ("code_challenge", challenge.as_str()),
            ("code_challenge_method", "S256"),
        ],
    );
    (app.url(&path), verifier)
}

async fn a_person_signs_in_and_approves_and_the_client_gets_a_code_that_yields_tokens(
    db: TestDatabase,
) {
    let Some(chromium) = Chromium::start().await else {
        return;
    };
    let app = spawn_app(db).await;
    let callback = Callback::start().await;
    let client = spa_client(&app, &callback);
    let (url, verifier) = authorize_url(&app, &client, &callback, "af0ifjsldkj");

    chromium.goto(&url).await;
    assert_eq!(chromium.text("h1").await, "Sign in");
    assert!(chromium.text("main").await.contains("photo-album"));
    chromium.screenshot_of("login", "main").await;
    chromium.sign_in("tue", PASSWORD).await;

    chromium
        .wait_for_text("h1", |h1| h1 == "Allow access?")
        .await;
    let consent = chromium.text("main").await;
    assert!(consent.contains("photo-album"), "{consent}");
    for scope in ["read", "write", "openid"] {
        assert!(consent.contains(scope), "lists {scope}: {consent}");
    }
    chromium.screenshot_of("consent", "main").await;
    chromium.answer_consent(true).await;

    assert_eq!(chromium.text("#callback").await, "Signed in");
    assert!(chromium
        .current_url()
        .await
        .starts_with(&format!("{}?", callback.url)));
    let query = callback.query().await;
    assert_eq!(query["state"], "af0ifjsldkj");
    assert_eq!(query["iss"], app.base);
    chromium.quit().await;

    let res = exchange(
        &app,
        &client,
        &query["code"],
        Some(&callback.url),
        &verifier,
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
    let tokens: Value = res.json().await.unwrap();
    assert_eq!(tokens["scope"], "openid read write");
    let introspected = app
        .introspect(tokens["access_token"].as_str().unwrap())
        .await;
    assert_eq!(introspected["active"], true);
    assert_eq!(introspected["username"], "tue");
    assert_eq!(introspected["client_id"], "photo-album");
}

async fn a_wrong_password_shows_the_error_and_then_the_right_one_signs_in(db: TestDatabase) {
    let Some(chromium) = Chromium::start().await else {
        return;
    };
    let app = spawn_app(db).await;
    let callback = Callback::start().await;
    let client = spa_client(&app, &callback);
    let (url, _) = authorize_url(&app, &client, &callback, "retry");

    chromium.goto(&url).await;
    chromium.sign_in("tue", "not the password").await;
    assert_eq!(
        chromium.text("#login-error").await,
        "Invalid credentials given."
    );
    assert!(chromium.on_login_page().await);
    assert_eq!(callback.hits(), 0, "nothing went back to the client");

    chromium.sign_in("tue", PASSWORD).await;
    chromium.answer_consent(true).await;
    let query = callback.query().await;
    assert!(query.contains_key("code"), "{query:?}");
    assert_eq!(query["state"], "retry");
    chromium.quit().await;
}

async fn denying_sends_access_denied_with_state_and_iss_back_to_the_client(db: TestDatabase) {
    let Some(chromium) = Chromium::start().await else {
        return;
    };
    let app = spawn_app(db).await;
    let callback = Callback::start().await;
    let client = spa_client(&app, &callback);
    let (url, _) = authorize_url(&app, &client, &callback, "no-thanks");

    chromium.goto(&url).await;
    chromium.sign_in("tue", PASSWORD).await;
    chromium.answer_consent(false).await;

    assert_eq!(chromium.text("#callback").await, "Not signed in");
    let query = callback.query().await;
    assert_eq!(query["error"], "access_denied");
    assert_eq!(query["state"], "no-thanks");
    assert_eq!(query["iss"], app.base);
    assert!(!query.contains_key("code"), "{query:?}");
    chromium.quit().await;
}

async fn after_signing_out_the_next_sign_in_starts_at_the_login_page_again(db: TestDatabase) {
    let Some(chromium) = Chromium::start().await else {
        return;
    };
    let app = spawn_app(db).await;
    let callback = Callback::start().await;
    let client = spa_client(&app, &callback);

    let (url, _) = authorize_url(&app, &client, &callback, "first");
    chromium.goto(&url).await;
    chromium.sign_in("tue", PASSWORD).await;
    chromium.answer_consent(true).await;
    callback.query().await;
    // Signed in: the next authorize asks only for consent (a public client is asked every time).
    let (url, _) = authorize_url(&app, &client, &callback, "second");
    chromium.goto(&url).await;
    assert!(chromium.on_consent_page().await);

    chromium.goto(&app.url("/o/logout/")).await;
    assert_eq!(chromium.text("h1").await, "Sign out?");
    chromium.click("form button[type=submit]").await;
    chromium.wait_for_text("h1", |h1| h1 == "Signed out").await;

    let (url, _) = authorize_url(&app, &client, &callback, "third");
    chromium.goto(&url).await;
    assert_eq!(chromium.text("h1").await, "Sign in");
    assert!(chromium.on_login_page().await);
    chromium.quit().await;
}
