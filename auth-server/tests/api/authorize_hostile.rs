//! Hostile input at the authorize endpoint and its login form: NUL bytes, bytes that are not
//! UTF-8, repeated parameters, values far past any legitimate length, SQL-looking values. Each
//! gets an error page or an error redirect, never a 500, and no session or code is written.

use reqwest::StatusCode;
use test_support::on_both_backends;
use test_support::{row_counts, TestDatabase};

use crate::browser::*;
use crate::helpers::*;

on_both_backends!(
    a_hostile_authorize_query_gets_an_error_and_writes_nothing,
    a_hostile_login_form_gets_an_error_and_writes_nothing,
    state_comes_back_exactly_as_sent_whatever_it_holds,
);

async fn a_hostile_authorize_query_gets_an_error_and_writes_nothing(db: TestDatabase) {
    let app = spawn_app(db).await;
    let clients = seed_code_clients(&app);
    let before = row_counts(&app.pool);
    let mut browser = Browser::new(&app);
    let (_, challenge) = pkce();
    let ok = format!(
        "response_type=code&client_id=spa&code_challenge={challenge}&code_challenge_method=S256"
    );
    let huge = "a".repeat(20_000);
    let queries = [
        format!("{ok}&state=%00"),
        format!("{ok}&client_id=spa%00"),
        format!("{ok}&scope=read%FF"),
        format!("{ok}&scope=read&scope=write"),
        format!("{ok}&redirect_uri=http://127.0.0.1:5555/cb%00"),
        format!("{ok}&nonce={huge}"),
        format!("{ok}&state={}", "s".repeat(1001)),
        format!("{ok}&scope={huge}"),
        format!("{ok}&prompt={huge}"),
        format!("{ok}&redirect_uri={huge}"),
        format!("response_type=code&client_id={huge}"),
        format!("response_type=code&client_id=spa'%20OR%201=1--&code_challenge={challenge}"),
        format!("{ok}&scope=read'%3B%20DROP%20TABLE%20users%3B--"),
        format!("{ok}&code_challenge_method=S256&code_challenge_method=plain"),
        "%%%%&&&==".to_string(),
        String::new(),
    ];
    for query in &queries {
        let page = browser.get(&format!("/o/authorize/?{query}")).await;
        let shown = &query[..query.len().min(80)];
        assert!(
            page.status == StatusCode::BAD_REQUEST
                || page.status == StatusCode::FOUND && page.redirect_params().contains_key("error"),
            "{shown}: {} {}",
            page.status,
            page.location()
        );
        if page.status == StatusCode::FOUND {
            assert!(page.location().starts_with(SPA_REDIRECT), "{shown}");
        }
    }
    assert_eq!(row_counts(&app.pool), before);
    drop(clients);
}

async fn a_hostile_login_form_gets_an_error_and_writes_nothing(db: TestDatabase) {
    let app = spawn_app(db).await;
    let clients = seed_code_clients(&app);
    let before = row_counts(&app.pool);
    let mut browser = Browser::new(&app);
    let path = pkce_path(&clients.spa, &[]);
    let login = browser.get(&path).await;
    let csrf = login.csrf_token();
    let long_login = "u".repeat(10_000);
    let long_password = "p".repeat(15_000);
    let forms: Vec<Vec<(&str, &str)>> = vec![
        vec![("username", "tue\0"), ("password", PASSWORD)],
        vec![("username", &long_login), ("password", PASSWORD)],
        vec![("username", "tue"), ("password", &long_password)],
        vec![("username", "tue' OR '1'='1"), ("password", "' OR '1'='1")],
        vec![
            ("username", "tue"),
            ("password", PASSWORD),
            ("password", PASSWORD),
        ],
        vec![("allow", "maybe")],
        vec![("username", "tue")],
        vec![],
    ];
    for form in &forms {
        let mut with_csrf = vec![("csrf_token", csrf.as_str())];
        with_csrf.extend_from_slice(form);
        let page = browser.post(&path, &with_csrf).await;
        assert!(
            page.status == StatusCode::OK || page.status == StatusCode::BAD_REQUEST,
            "{:?}: {}",
            form.iter().map(|(k, v)| (k, v.len())).collect::<Vec<_>>(),
            page.status
        );
        assert!(page.set_cookie("oauth_session").is_none());
    }
    // A body past the limit, and bodies that are not a form at all.
    let client = reqwest::Client::new();
    let cookie = format!("oauth_csrf={csrf}");
    for (content_type, body) in [
        (
            "application/x-www-form-urlencoded",
            format!("csrf_token={csrf}&username={}", "x".repeat(20_000)),
        ),
        (
            "application/json",
            format!(r#"{{"csrf_token":"{csrf}","username":"tue"}}"#),
        ),
        ("multipart/form-data; boundary=x", "--x--".to_string()),
    ] {
        let res = client
            .post(app.url(&path))
            .header("content-type", content_type)
            .header("cookie", &cookie)
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::BAD_REQUEST, "{content_type}");
    }
    assert_eq!(row_counts(&app.pool), before);
}

async fn state_comes_back_exactly_as_sent_whatever_it_holds(db: TestDatabase) {
    let app = spawn_app(db).await;
    let clients = seed_code_clients(&app);
    let mut browser = Browser::new(&app);
    let (_, challenge) = pkce();
    for state in [
        "a&code=stolen&iss=https://evil.example.com",
        "#fragment?x=1",
        "ünï cødé ✓",
        "<script>alert(1)</script>",
        &"s".repeat(1000),
    ] {
        let page = browser
            .get(&authorize_path(
                &clients.spa,
                &[
                    ("state", state),
                    ("code_challenge", &challenge),
                    ("code_challenge_method", "S256"),
                    ("prompt", "none"),
                ],
            ))
            .await;
        let params = page.redirect_params();
        assert_eq!(params["state"], state);
        assert_eq!(params["error"], "login_required");
        assert_eq!(params["iss"], app.base);
        assert!(!params.contains_key("code"));
    }
}
