//! The authorization code grant with PKCE through the login and consent pages, over HTTP: every
//! error row of the contract, cookies, CSRF, prompts, and the code's binding, lifetime and reuse.

use std::time::Duration;

use actix_web::rt::time::sleep;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use reqwest::StatusCode;
use serde_json::Value;
use sha2::{Digest, Sha256};
use test_support::on_both_backends;
use test_support::TestDatabase;

use crate::browser::*;
use crate::helpers::*;

on_both_backends!(
    the_code_flow_signs_in_asks_consent_and_its_code_yields_tokens_that_rotate,
    the_pages_carry_their_security_headers_and_cookie_flags,
    the_session_cookie_is_secure_and_host_prefixed_when_the_issuer_is_https,
    pkce_is_required_and_only_s256_is_accepted,
    a_wrong_verifier_is_invalid_grant_and_uses_the_code_up,
    a_code_presented_twice_is_refused_and_revokes_what_it_issued,
    an_expired_code_is_invalid_grant,
    the_code_is_bound_to_its_client_and_redirect_uri,
    an_unknown_client_or_redirect_uri_gets_an_error_page_and_no_redirect,
    other_errors_go_back_to_the_client_with_state_and_iss,
    a_form_without_the_csrf_token_is_refused_before_the_password_is_checked,
    a_wrong_password_gets_the_uniform_answer_and_counts_towards_the_grants_throttle,
    deny_is_access_denied,
    prompt_none_login_and_consent_are_honoured,
    consent_is_remembered_for_a_confidential_client_only,
    a_first_party_client_skips_consent,
    a_public_client_may_use_any_loopback_port,
    logout_ends_the_session_after_confirmation,
    a_password_change_ends_the_browser_session,
    an_id_token_comes_with_openid_and_carries_nonce_at_hash_and_the_scopes_claims,
    a_valid_id_token_hint_signs_out_at_once_and_goes_back_to_a_registered_uri,
);

/// The claims of a JWT, unverified (the openidconnect-crate test verifies signatures).
fn jwt_claims(jwt: &str) -> Value {
    let payload = jwt.split('.').nth(1).expect("a JWT");
    let bytes = URL_SAFE_NO_PAD.decode(payload).unwrap();
    serde_json::from_slice(&bytes).unwrap()
}

async fn an_id_token_comes_with_openid_and_carries_nonce_at_hash_and_the_scopes_claims(
    db: TestDatabase,
) {
    let app = spawn_app(db).await;
    let clients = seed_code_clients(&app);
    let mut browser = Browser::new(&app);
    let (code, verifier) = code_for(
        &mut browser,
        &clients.web,
        WEB_REDIRECT,
        "openid profile email",
    )
    .await;
    let res = exchange(&app, &clients.web, &code, Some(WEB_REDIRECT), &verifier).await;
    let tokens: Value = res.json().await.unwrap();
    let claims = jwt_claims(tokens["id_token"].as_str().expect("an id_token"));
    assert_eq!(claims["iss"], app.base);
    assert_eq!(claims["aud"], "web");
    assert_eq!(claims["sub"], app.user_id.to_string());
    assert_eq!(claims["nonce"], "n-0S6_WzA2Mj");
    assert_eq!(claims["preferred_username"], "tue");
    assert_eq!(claims["email"], "Tue@Example.com");
    let access = tokens["access_token"].as_str().unwrap();
    let digest = Sha256::digest(access.as_bytes());
    assert_eq!(claims["at_hash"], URL_SAFE_NO_PAD.encode(&digest[..16]));
    let now = oauth_core::time::now();
    let auth_time = claims["auth_time"].as_i64().unwrap();
    assert!(auth_time <= now && auth_time > now - 60);
    assert!(claims["exp"].as_i64().unwrap() > now);

    // Without openid: no ID token.
    let (code, verifier) = code_for(&mut browser, &clients.web, WEB_REDIRECT, "read").await;
    let res = exchange(&app, &clients.web, &code, Some(WEB_REDIRECT), &verifier).await;
    let tokens: Value = res.json().await.unwrap();
    assert!(tokens.get("id_token").is_none(), "{tokens}");
}

async fn a_valid_id_token_hint_signs_out_at_once_and_goes_back_to_a_registered_uri(
    db: TestDatabase,
) {
    let app = spawn_app(db).await;
    let clients = seed_code_clients(&app);
    let mut browser = Browser::new(&app);
    let (code, verifier) = code_for(&mut browser, &clients.web, WEB_REDIRECT, "openid").await;
    let res = exchange(&app, &clients.web, &code, Some(WEB_REDIRECT), &verifier).await;
    let tokens: Value = res.json().await.unwrap();
    let hint = tokens["id_token"].as_str().unwrap().to_string();
    let logout = |extra: &[(&str, &str)]| {
        let mut params = vec![("id_token_hint", hint.as_str())];
        params.extend_from_slice(extra);
        format!(
            "/o/logout/?{}",
            serde_urlencoded::to_string(&params).unwrap()
        )
    };

    // A URI the client did not register: signed out, but no redirect.
    let page = browser
        .get(&logout(&[(
            "post_logout_redirect_uri",
            "https://evil.example.com/",
        )]))
        .await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("Signed out"));
    assert!(!browser.cookies.contains_key("oauth_session"));
    assert!(browser
        .get(&pkce_path(&clients.web, &[]))
        .await
        .is_login_page());

    // Signed in again: a registered URI gets the browser back there, with the state.
    code_for(&mut browser, &clients.web, WEB_REDIRECT, "openid").await;
    let page = browser
        .get(&logout(&[
            ("post_logout_redirect_uri", "https://app.example.com/bye"),
            ("state", "s&1"),
        ]))
        .await;
    assert_eq!(page.status, StatusCode::FOUND);
    assert_eq!(page.location(), "https://app.example.com/bye?state=s%261");
    assert!(browser
        .get(&pkce_path(&clients.web, &[]))
        .await
        .is_login_page());

    // A tampered hint is no hint: the confirmation page, and the session stays.
    code_for(&mut browser, &clients.web, WEB_REDIRECT, "openid").await;
    let mut forged = hint.clone();
    forged.pop();
    let path = format!("/o/logout/?id_token_hint={forged}");
    let page = browser.get(&path).await;
    assert!(page.body.contains("Sign out?"), "a confirmation");
    let silent = browser
        .get(&pkce_path(
            &clients.web,
            &[("prompt", "none"), ("scope", "openid")],
        ))
        .await;
    assert!(
        silent.redirect_params().contains_key("code"),
        "still signed in"
    );
    assert!(browser.cookies.contains_key("oauth_session"));
}

async fn the_code_flow_signs_in_asks_consent_and_its_code_yields_tokens_that_rotate(
    db: TestDatabase,
) {
    let app = spawn_app(db).await;
    let clients = seed_code_clients(&app);
    let mut browser = Browser::new(&app);
    let (verifier, challenge) = pkce();
    let path = authorize_path(
        &clients.web,
        &[
            ("redirect_uri", WEB_REDIRECT),
            ("scope", "read openid"),
            ("state", "s t&a=te"),
            ("code_challenge", &challenge),
            ("code_challenge_method", "S256"),
        ],
    );
    let login = browser.get(&path).await;
    assert!(login.is_login_page(), "{}", login.body);
    assert!(login.body.contains("web"), "names the client");
    assert!(login.body.contains(r#"<label for="username">"#));
    let consent = browser.sign_in(&path, &login, PASSWORD).await;
    assert!(consent.is_consent_page(), "{}", consent.body);
    assert!(consent.body.contains("<code>openid</code>"));
    assert!(consent.body.contains("Read scope"), "describes each scope");
    assert!(
        !consent.body.contains("<code>write</code>"),
        "only what was asked"
    );
    let done = browser.answer_consent(&path, &consent, "yes").await;
    assert_eq!(done.status, StatusCode::FOUND);
    assert!(done.location().starts_with(&format!("{WEB_REDIRECT}?")));
    let params = done.redirect_params();
    assert_eq!(params["state"], "s t&a=te");
    assert_eq!(params["iss"], app.base);
    assert!(params["code"].len() >= 43, "at least 256 bits");

    let res = exchange(
        &app,
        &clients.web,
        &params["code"],
        Some(WEB_REDIRECT),
        &verifier,
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["cache-control"], "no-store");
    let tokens: Value = res.json().await.unwrap();
    assert_eq!(tokens["scope"], "openid read");
    assert_eq!(tokens["token_type"], "Bearer");
    let access = tokens["access_token"].as_str().unwrap();
    let introspected = app.introspect(access).await;
    assert_eq!(introspected["active"], true);
    assert_eq!(introspected["username"], "tue");
    assert_eq!(introspected["client_id"], "web");

    let refresh = tokens["refresh_token"].as_str().unwrap();
    let rotated = app.refresh(&clients.web, refresh).await;
    assert_eq!(rotated.status(), StatusCode::OK);
    let again = app.refresh(&clients.web, refresh).await;
    assert_bad_request(again, "invalid_grant").await;
}

async fn the_pages_carry_their_security_headers_and_cookie_flags(db: TestDatabase) {
    let app = spawn_app(db).await;
    let clients = seed_code_clients(&app);
    let mut browser = Browser::new(&app);
    let path = pkce_path(&clients.spa, &[]);
    let login = browser.get(&path).await;
    assert!(login.is_login_page());
    let h = &login.headers;
    assert_eq!(h["content-type"], "text/html; charset=utf-8");
    let csp = h["content-security-policy"].to_str().unwrap();
    assert!(csp.contains("default-src 'none'"), "{csp}");
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
    assert!(!csp.contains("script-src"), "no script at all: {csp}");
    assert!(!login.body.contains("<script"), "no inline script");
    assert_eq!(h["x-frame-options"], "DENY");
    assert_eq!(h["referrer-policy"], "no-referrer");
    assert_eq!(h["cache-control"], "no-store");
    let csrf = login.set_cookie("oauth_csrf").expect("a CSRF cookie");
    assert!(
        csrf.contains("HttpOnly") && csrf.contains("SameSite=Strict"),
        "{csrf}"
    );

    let consent = browser.sign_in(&path, &login, PASSWORD).await;
    let session = consent
        .set_cookie("oauth_session")
        .expect("a session cookie");
    assert!(session.contains("HttpOnly"), "{session}");
    assert!(session.contains("SameSite=Lax"), "{session}");
    assert!(session.contains("Path=/"), "{session}");
    assert!(!session.contains("Secure"), "the issuer is http: {session}");
    let id = &browser.cookies["oauth_session"];
    assert!(id.len() >= 43, "at least 256 bits");
    // Only a hash of the id is stored.
    let stored: Vec<String> = {
        use auth_store::schema::browser_sessions;
        use diesel::{QueryDsl, RunQueryDsl};
        let mut conn = app.pool.get().unwrap();
        browser_sessions::table
            .select(browser_sessions::id_hash)
            .load(&mut conn)
            .unwrap()
    };
    assert_eq!(stored, vec![oauth_core::secrets::sha256_hex(id)]);

    let css = app
        .http
        .get(app.url("/o/static/style.css"))
        .send()
        .await
        .unwrap();
    assert_eq!(css.status(), StatusCode::OK);
    assert_eq!(css.headers()["content-type"], "text/css; charset=utf-8");
}

async fn the_session_cookie_is_secure_and_host_prefixed_when_the_issuer_is_https(db: TestDatabase) {
    let app = spawn_app_with(db, &[("AUTH_ISSUER", "https://auth.example.com")]).await;
    let clients = seed_code_clients(&app);
    let mut browser = Browser::new(&app);
    let path = pkce_path(&clients.spa, &[]);
    let login = browser.get(&path).await;
    let csrf = login
        .set_cookie("__Host-oauth_csrf")
        .expect("a CSRF cookie");
    assert!(csrf.contains("Secure"), "{csrf}");
    let consent = browser.sign_in(&path, &login, PASSWORD).await;
    let session = consent
        .set_cookie("__Host-oauth_session")
        .expect("a session cookie");
    assert!(
        session.contains("Secure") && session.contains("HttpOnly"),
        "{session}"
    );
    assert!(!session.contains("Domain"), "{session}");
}

/// The error a redirect carries, with its `iss`.
fn redirected_error(page: &Page, app: &TestApp) -> String {
    assert_eq!(page.status, StatusCode::FOUND, "{}", page.body);
    let params = page.redirect_params();
    assert_eq!(params.get("iss"), Some(&app.base));
    assert!(params.contains_key("error_description"));
    assert!(!params.contains_key("code"));
    params["error"].clone()
}

async fn pkce_is_required_and_only_s256_is_accepted(db: TestDatabase) {
    let app = spawn_app(db).await;
    let clients = seed_code_clients(&app);
    let mut browser = Browser::new(&app);
    let (_, challenge) = pkce();
    for params in [
        vec![],
        vec![("code_challenge", challenge.as_str())],
        vec![
            ("code_challenge", challenge.as_str()),
            ("code_challenge_method", "plain"),
        ],
        vec![
            ("code_challenge", "too-short"),
            ("code_challenge_method", "S256"),
        ],
        vec![("code_challenge_method", "S256")],
    ] {
        let page = browser.get(&authorize_path(&clients.web, &params)).await;
        assert_eq!(
            redirected_error(&page, &app),
            "invalid_request",
            "{params:?}"
        );
    }
    // A verifier that is not one (RFC 7636 §4.1) is refused at the token endpoint too.
    let (code, _) = code_for(&mut browser, &clients.spa, SPA_REDIRECT, "read").await;
    let res = exchange(&app, &clients.spa, &code, Some(SPA_REDIRECT), "short").await;
    assert_bad_request(res, "invalid_request").await;
}

async fn a_wrong_verifier_is_invalid_grant_and_uses_the_code_up(db: TestDatabase) {
    let app = spawn_app(db).await;
    let clients = seed_code_clients(&app);
    let mut browser = Browser::new(&app);
    let (code, verifier) = code_for(&mut browser, &clients.spa, SPA_REDIRECT, "read").await;
    let (other, _) = pkce();
    let res = exchange(&app, &clients.spa, &code, Some(SPA_REDIRECT), &other).await;
    assert_bad_request(res, "invalid_grant").await;
    let res = exchange(&app, &clients.spa, &code, Some(SPA_REDIRECT), &verifier).await;
    assert_eq!(
        oauth_error(res).await,
        (StatusCode::BAD_REQUEST, "invalid_grant".into()),
        "a code is tried once"
    );
}

async fn a_code_presented_twice_is_refused_and_revokes_what_it_issued(db: TestDatabase) {
    let app = spawn_app(db).await;
    let clients = seed_code_clients(&app);
    let mut browser = Browser::new(&app);
    let (code, verifier) = code_for(&mut browser, &clients.web, WEB_REDIRECT, "read").await;
    let res = exchange(&app, &clients.web, &code, Some(WEB_REDIRECT), &verifier).await;
    assert_eq!(res.status(), StatusCode::OK);
    let tokens: Value = res.json().await.unwrap();
    let access = tokens["access_token"].as_str().unwrap();
    let refresh = tokens["refresh_token"].as_str().unwrap();
    // The first refresh rotates: the revocation must reach what descends from the code too.
    let rotated: Value = app
        .refresh(&clients.web, refresh)
        .await
        .json()
        .await
        .unwrap();
    assert!(
        !app.is_active(access).await,
        "rotation revoked the first access token"
    );
    let rotated_access = rotated["access_token"].as_str().unwrap();
    assert!(app.is_active(rotated_access).await);

    let res = exchange(&app, &clients.web, &code, Some(WEB_REDIRECT), &verifier).await;
    assert_bad_request(res, "invalid_grant").await;
    assert!(!app.is_active(rotated_access).await, "descendants revoked");
    let res = app
        .refresh(&clients.web, rotated["refresh_token"].as_str().unwrap())
        .await;
    assert_bad_request(res, "invalid_grant").await;
}

async fn an_expired_code_is_invalid_grant(db: TestDatabase) {
    let app = spawn_app_with(db, &[("AUTHORIZATION_CODE_EXPIRE_SECONDS", "1")]).await;
    let clients = seed_code_clients(&app);
    let mut browser = Browser::new(&app);
    let (code, verifier) = code_for(&mut browser, &clients.spa, SPA_REDIRECT, "read").await;
    sleep(Duration::from_millis(2100)).await;
    let res = exchange(&app, &clients.spa, &code, Some(SPA_REDIRECT), &verifier).await;
    assert_bad_request(res, "invalid_grant").await;
}

async fn the_code_is_bound_to_its_client_and_redirect_uri(db: TestDatabase) {
    let app = spawn_app(db).await;
    let clients = seed_code_clients(&app);
    let mut browser = Browser::new(&app);

    // Another client: invalid_grant (and the code is spent).
    let (code, verifier) = code_for(&mut browser, &clients.spa, SPA_REDIRECT, "read").await;
    let res = exchange(&app, &clients.web, &code, Some(SPA_REDIRECT), &verifier).await;
    assert_bad_request(res, "invalid_grant").await;

    // A different redirect_uri, or none when the request had one.
    for sent in [Some("http://127.0.0.1:5555/other"), None] {
        let (code, verifier) = code_for(&mut browser, &clients.spa, SPA_REDIRECT, "read").await;
        let res = exchange(&app, &clients.spa, &code, sent, &verifier).await;
        assert_eq!(
            oauth_error(res).await,
            (StatusCode::BAD_REQUEST, "invalid_grant".into()),
            "{sent:?}"
        );
    }

    // Omitted in the authorize request (the client has one): omitted at the token endpoint.
    let (verifier, challenge) = pkce();
    let path = authorize_path(
        &clients.spa,
        &[
            ("code_challenge", &challenge),
            ("code_challenge_method", "S256"),
        ],
    );
    let page = browser.get(&path).await;
    let page = if page.is_consent_page() {
        browser.answer_consent(&path, &page, "yes").await
    } else {
        page
    };
    assert!(page.location().starts_with(&format!("{SPA_REDIRECT}?")));
    let code = page.redirect_params()["code"].clone();
    let res = exchange(&app, &clients.spa, &code, None, &verifier).await;
    assert_eq!(res.status(), StatusCode::OK);

    // A confidential client must authenticate.
    let (code, verifier) = code_for(&mut browser, &clients.web, WEB_REDIRECT, "read").await;
    let res = app
        .post_form(
            "/o/token/",
            None,
            &[
                ("grant_type", "authorization_code"),
                ("client_id", "web"),
                ("code", &code),
                ("code_verifier", &verifier),
                ("redirect_uri", WEB_REDIRECT),
            ],
        )
        .await;
    assert_eq!(oauth_error(res).await.1, "invalid_client");
}

async fn an_unknown_client_or_redirect_uri_gets_an_error_page_and_no_redirect(db: TestDatabase) {
    let app = spawn_app(db).await;
    let clients = seed_code_clients(&app);
    let mut browser = Browser::new(&app);
    let (_, challenge) = pkce();
    let pkce_params = [
        ("code_challenge", challenge.as_str()),
        ("code_challenge_method", "S256"),
    ];
    let unknown = test_support::seed::SeededClient {
        id: "nobody".into(),
        secret: None,
    };
    let mut cases = vec![
        authorize_path(&unknown, &pkce_params),
        authorize_path(
            &clients.web,
            &[("redirect_uri", "https://evil.example.com/cb")],
        ),
        authorize_path(
            &clients.web,
            &[("redirect_uri", "https://app.example.com/cb/")],
        ),
        authorize_path(
            &clients.web,
            &[("redirect_uri", "https://app.example.com/cb?x=1")],
        ),
        // Confidential: no loopback port exception.
        authorize_path(&clients.first_party, &[]), // two registered, none sent
        "/o/authorize/?response_type=code".to_string(),
        "/o/authorize/?client_id=web&client_id=spa".to_string(),
    ];
    cases.push(authorize_path(
        &clients.web,
        &[("redirect_uri", "https://app.example.com/cb#f")],
    ));
    for path in cases {
        let page = browser.get(&path).await;
        assert_eq!(page.status, StatusCode::BAD_REQUEST, "{path}");
        assert!(page.headers.get("location").is_none(), "{path}");
        assert_eq!(page.headers["content-type"], "text/html; charset=utf-8");
        assert!(page.body.contains("Something went wrong"), "{path}");
    }
}

async fn other_errors_go_back_to_the_client_with_state_and_iss(db: TestDatabase) {
    let app = spawn_app(db).await;
    let clients = seed_code_clients(&app);
    let mut browser = Browser::new(&app);
    let (_, challenge) = pkce();
    let pkce_params = [
        ("code_challenge", challenge.as_str()),
        ("code_challenge_method", "S256"),
    ];
    let with = |extra: &[(&'static str, &'static str)]| {
        let mut all = pkce_params.to_vec();
        all.extend_from_slice(extra);
        all.push(("state", "st"));
        all
    };
    for (params, error) in [
        (with(&[("scope", "read admin")]), "invalid_scope"),
        (with(&[("scope", "introspection")]), "invalid_scope"),
        (with(&[("prompt", "sometimes")]), "invalid_request"),
        (with(&[("prompt", "none login")]), "invalid_request"),
    ] {
        let page = browser.get(&authorize_path(&clients.web, &params)).await;
        assert_eq!(redirected_error(&page, &app), error, "{params:?}");
        assert_eq!(page.redirect_params()["state"], "st");
    }
    let path = format!(
        "/o/authorize/?response_type=token&client_id=web&state=st&code_challenge={challenge}&code_challenge_method=S256"
    );
    let page = browser.get(&path).await;
    assert_eq!(redirected_error(&page, &app), "unsupported_response_type");
    // A client without the grant.
    let mut conn = app.pool.get().unwrap();
    let no_code = test_support::seed::public_client("no-code")
        .grants("password")
        .redirect_uris(SPA_REDIRECT)
        .owned_by(app.user_id)
        .create(&mut conn);
    let page = browser.get(&authorize_path(&no_code, &pkce_params)).await;
    assert_eq!(redirected_error(&page, &app), "unauthorized_client");
}

async fn a_form_without_the_csrf_token_is_refused_before_the_password_is_checked(db: TestDatabase) {
    let app = spawn_app_with(db, &[("LOGIN_FAILURE_LIMIT", "1")]).await;
    let clients = seed_code_clients(&app);
    let mut browser = Browser::new(&app);
    let path = pkce_path(&clients.spa, &[]);
    let login = browser.get(&path).await;
    let token = login.csrf_token();
    for form in [
        vec![("username", "tue"), ("password", "wrong-password")],
        vec![
            ("csrf_token", "forged"),
            ("username", "tue"),
            ("password", "wrong-password"),
        ],
    ] {
        let page = browser.post(&path, &form).await;
        assert_eq!(page.status, StatusCode::FORBIDDEN);
        assert!(page.set_cookie("oauth_session").is_none());
    }
    // A cross-site post: the field is right but the browser did not send the cookie.
    let mut stranger = Browser::new(&app);
    let page = stranger
        .post(
            &path,
            &[
                ("csrf_token", &token),
                ("username", "tue"),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    // None of those counted: with a limit of one failure, the right password still works.
    let consent = browser.sign_in(&path, &login, PASSWORD).await;
    assert!(consent.is_consent_page(), "{}", consent.body);
}

async fn a_wrong_password_gets_the_uniform_answer_and_counts_towards_the_grants_throttle(
    db: TestDatabase,
) {
    let app = spawn_app_with(db, &[("LOGIN_FAILURE_LIMIT", "2")]).await;
    let clients = seed_code_clients(&app);
    let mut browser = Browser::new(&app);
    let path = pkce_path(&clients.spa, &[]);
    let login = browser.get(&path).await;
    let wrong = browser.sign_in(&path, &login, "wrong-password").await;
    assert!(wrong.is_login_page(), "the login page again");
    assert!(wrong.body.contains("Invalid credentials given."));
    assert!(wrong.set_cookie("oauth_session").is_none());
    let csrf = wrong.csrf_token();
    let unknown = browser
        .post(
            &path,
            &[
                ("csrf_token", csrf.as_str()),
                ("username", "nobody"),
                ("password", PASSWORD),
            ],
        )
        .await;
    let strip = |body: &str| {
        body.replace("value=\"nobody\"", "")
            .replace("value=\"tue\"", "")
    };
    assert_eq!(
        strip(&unknown.body),
        strip(&wrong.body),
        "one answer for every failure"
    );
    let second = browser.sign_in(&path, &wrong, "wrong-again").await;
    assert!(second.is_login_page());
    // Locked now, for the password grant too, and the page gives the same answer.
    let third = browser.sign_in(&path, &second, PASSWORD).await;
    assert!(third.is_login_page() && third.body.contains("Invalid credentials given."));
    let res = app
        .token(
            &app.demo,
            &[
                ("grant_type", "password"),
                ("username", "tue"),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(oauth_error(res).await.1, "invalid_grant");
}

async fn deny_is_access_denied(db: TestDatabase) {
    let app = spawn_app(db).await;
    let clients = seed_code_clients(&app);
    let mut browser = Browser::new(&app);
    let path = pkce_path(&clients.web, &[("state", "d")]);
    let login = browser.get(&path).await;
    let consent = browser.sign_in(&path, &login, PASSWORD).await;
    let denied = browser.answer_consent(&path, &consent, "no").await;
    assert_eq!(redirected_error(&denied, &app), "access_denied");
    assert_eq!(denied.redirect_params()["state"], "d");
}

async fn prompt_none_login_and_consent_are_honoured(db: TestDatabase) {
    let app = spawn_app(db).await;
    let clients = seed_code_clients(&app);
    let mut browser = Browser::new(&app);
    let path = |client, prompt: &str| pkce_path(client, &[("prompt", prompt)]);
    let page = browser.get(&path(&clients.web, "none")).await;
    assert_eq!(redirected_error(&page, &app), "login_required");

    // Signed in, the confidential client approved once.
    code_for(&mut browser, &clients.web, WEB_REDIRECT, "read").await;
    let page = browser.get(&path(&clients.web, "none")).await;
    assert_eq!(page.status, StatusCode::FOUND);
    assert!(
        page.redirect_params().contains_key("code"),
        "silent sign-in"
    );
    // A public client needs consent every time, so prompt=none cannot succeed.
    let page = browser.get(&path(&clients.spa, "none")).await;
    assert_eq!(redirected_error(&page, &app), "consent_required");
    // prompt=login asks for the password although signed in.
    let login_path = path(&clients.web, "login");
    let page = browser.get(&login_path).await;
    assert!(page.is_login_page());
    let done = browser.sign_in(&login_path, &page, PASSWORD).await;
    assert_eq!(done.status, StatusCode::FOUND, "then no more questions");
    // prompt=consent asks although approved.
    let page = browser.get(&path(&clients.web, "consent")).await;
    assert!(page.is_consent_page());
}

async fn consent_is_remembered_for_a_confidential_client_only(db: TestDatabase) {
    let app = spawn_app(db).await;
    let clients = seed_code_clients(&app);
    let mut browser = Browser::new(&app);
    code_for(&mut browser, &clients.web, WEB_REDIRECT, "read write").await;
    code_for(&mut browser, &clients.spa, SPA_REDIRECT, "read").await;
    let path = |client, scope| pkce_path(client, &[("scope", scope)]);
    assert_eq!(
        browser.get(&path(&clients.web, "read")).await.status,
        StatusCode::FOUND
    );
    assert!(browser
        .get(&path(&clients.web, "read email"))
        .await
        .is_consent_page());
    assert!(browser
        .get(&path(&clients.spa, "read"))
        .await
        .is_consent_page());
}

async fn a_first_party_client_skips_consent(db: TestDatabase) {
    let app = spawn_app(db).await;
    let clients = seed_code_clients(&app);
    let mut browser = Browser::new(&app);
    let path = pkce_path(
        &clients.first_party,
        &[("redirect_uri", "https://first.example.com/b")],
    );
    let login = browser.get(&path).await;
    let page = browser.sign_in(&path, &login, PASSWORD).await;
    assert_eq!(page.status, StatusCode::FOUND);
    assert!(page
        .location()
        .starts_with("https://first.example.com/b?code="));
}

async fn a_public_client_may_use_any_loopback_port(db: TestDatabase) {
    let app = spawn_app(db).await;
    let clients = seed_code_clients(&app);
    let mut browser = Browser::new(&app);
    let (code, verifier) = code_for(
        &mut browser,
        &clients.spa,
        "http://127.0.0.1:49152/cb",
        "read",
    )
    .await;
    let res = exchange(
        &app,
        &clients.spa,
        &code,
        Some("http://127.0.0.1:49152/cb"),
        &verifier,
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
}

async fn logout_ends_the_session_after_confirmation(db: TestDatabase) {
    let app = spawn_app(db).await;
    let clients = seed_code_clients(&app);
    let mut browser = Browser::new(&app);
    code_for(&mut browser, &clients.web, WEB_REDIRECT, "read").await;
    let confirm = browser.get("/o/logout/").await;
    assert_eq!(confirm.status, StatusCode::OK);
    assert!(
        browser.cookies.contains_key("oauth_session"),
        "a GET alone signs nobody out"
    );
    let forged = browser.post("/o/logout/", &[("csrf_token", "x")]).await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    let id = browser.cookies["oauth_session"].clone();
    let done = browser
        .post("/o/logout/", &[("csrf_token", &confirm.csrf_token())])
        .await;
    assert_eq!(done.status, StatusCode::OK);
    assert!(done.body.contains("Signed out"));
    assert!(
        !browser.cookies.contains_key("oauth_session"),
        "the cookie is removed"
    );
    // The old id no longer signs in, even if a copy of the cookie comes back.
    browser.cookies.insert("oauth_session".into(), id);
    let page = browser.get(&pkce_path(&clients.web, &[])).await;
    assert!(page.is_login_page());
}

async fn a_password_change_ends_the_browser_session(db: TestDatabase) {
    let app = spawn_app(db).await;
    let clients = seed_code_clients(&app);
    let mut browser = Browser::new(&app);
    code_for(&mut browser, &clients.web, WEB_REDIRECT, "read").await;
    {
        let mut conn = app.pool.get().unwrap();
        let hash = oauth_core::secrets::PasswordHasher::new(4)
            .unwrap()
            .hash("another-password")
            .unwrap();
        store::users::update(
            &mut conn,
            app.user_id,
            &store::models::UserChanges {
                password_hash: Some(hash),
                ..Default::default()
            },
        )
        .unwrap();
    }
    let page = browser.get(&pkce_path(&clients.web, &[])).await;
    assert!(page.is_login_page());
}
