//! A browser's side of the authorization code flow, spoken over HTTP: cookies kept by hand so
//! that their flags can be checked, redirects not followed so that each step can be.

use std::collections::HashMap;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use reqwest::header::{HeaderMap, LOCATION, SET_COOKIE};
use reqwest::{Response, StatusCode};
use sha2::{Digest, Sha256};
use test_support::seed::{self, SeededClient};

use crate::helpers::*;

pub const WEB_REDIRECT: &str = "https://app.example.com/cb";
pub const SPA_REDIRECT: &str = "http://127.0.0.1:5555/cb";
pub const CODE_SCOPES: &str = "read write openid profile email";

/// The clients of the code flow tests.
pub struct CodeClients {
    /// Confidential, authorization_code and refresh_token, redirect WEB_REDIRECT.
    pub web: SeededClient,
    /// Public, authorization_code and refresh_token, redirect SPA_REDIRECT.
    pub spa: SeededClient,
    /// Public, skips consent, two redirect URIs.
    pub first_party: SeededClient,
}

pub fn seed_code_clients(app: &TestApp) -> CodeClients {
    let mut conn = app.pool.get().unwrap();
    let web = seed::confidential_client("web")
        .grants("authorization_code refresh_token")
        .scopes(CODE_SCOPES)
        .redirect_uris(WEB_REDIRECT)
        .post_logout_redirect_uris("https://app.example.com/bye")
        .owned_by(app.user_id)
        .create(&mut conn);
    let spa = seed::public_client("spa")
        .grants("authorization_code refresh_token")
        .scopes(CODE_SCOPES)
        .redirect_uris(SPA_REDIRECT)
        .owned_by(app.user_id)
        .create(&mut conn);
    let first_party = seed::public_client("first-party")
        .grants("authorization_code")
        .scopes(CODE_SCOPES)
        .redirect_uris("https://first.example.com/a https://first.example.com/b")
        .skip_consent()
        .owned_by(app.user_id)
        .create(&mut conn);
    CodeClients {
        web,
        spa,
        first_party,
    }
}

/// A PKCE verifier and its S256 challenge.
pub fn pkce() -> (String, String) {
    let verifier = oauth_core::secrets::new_token();
    let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
    (verifier, challenge)
}

/// A browser: a cookie jar and no automatic redirects.
pub struct Browser {
    http: reqwest::Client,
    pub cookies: HashMap<String, String>,
    base: String,
}

/// What a response asked the browser to do.
pub struct Page {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: String,
}

impl Page {
    pub fn location(&self) -> &str {
        self.headers
            .get(LOCATION)
            .map(|v| v.to_str().unwrap())
            .unwrap_or("")
    }

    /// The query parameters of the redirect.
    pub fn redirect_params(&self) -> HashMap<String, String> {
        let url = url::Url::parse(self.location()).expect("a redirect");
        url.query_pairs().into_owned().collect()
    }

    pub fn csrf_token(&self) -> String {
        let marker = r#"name="csrf_token" value=""#;
        let start = self.body.find(marker).expect("a csrf_token field") + marker.len();
        let end = self.body[start..].find('"').unwrap();
        self.body[start..start + end].to_string()
    }

    pub fn is_login_page(&self) -> bool {
        self.status == StatusCode::OK && self.body.contains(r#"name="password""#)
    }

    pub fn is_consent_page(&self) -> bool {
        self.status == StatusCode::OK && self.body.contains(r#"name="allow""#)
    }

    /// The Set-Cookie header that sets `name`.
    pub fn set_cookie(&self, name: &str) -> Option<String> {
        self.headers
            .get_all(SET_COOKIE)
            .iter()
            .map(|v| v.to_str().unwrap().to_string())
            .find(|c| c.starts_with(&format!("{name}=")))
    }
}

impl Browser {
    pub fn new(app: &TestApp) -> Self {
        Self {
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            cookies: HashMap::new(),
            base: app.base.clone(),
        }
    }

    fn cookie_header(&self) -> String {
        self.cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    async fn keep(&mut self, res: Response) -> Page {
        let status = res.status();
        let headers = res.headers().clone();
        for value in headers.get_all(SET_COOKIE) {
            let value = value.to_str().unwrap();
            let pair = value.split(';').next().unwrap();
            let (name, v) = pair.split_once('=').unwrap();
            if v.is_empty() || value.contains("Max-Age=0") {
                self.cookies.remove(name);
            } else {
                self.cookies.insert(name.to_string(), v.to_string());
            }
        }
        Page {
            status,
            headers,
            body: res.text().await.unwrap(),
        }
    }

    pub async fn get(&mut self, path_and_query: &str) -> Page {
        let res = self
            .http
            .get(format!("{}{path_and_query}", self.base))
            .header("cookie", self.cookie_header())
            .send()
            .await
            .unwrap();
        self.keep(res).await
    }

    pub async fn post(&mut self, path_and_query: &str, form: &[(&str, &str)]) -> Page {
        let res = self
            .http
            .post(format!("{}{path_and_query}", self.base))
            .header("cookie", self.cookie_header())
            .form(form)
            .send()
            .await
            .unwrap();
        self.keep(res).await
    }

    /// Signs in on the login page `page` came with (posting back to `path`).
    pub async fn sign_in(&mut self, path: &str, page: &Page, password: &str) -> Page {
        let csrf = page.csrf_token();
        self.post(
            path,
            &[
                ("csrf_token", csrf.as_str()),
                ("username", "tue"),
                ("password", password),
            ],
        )
        .await
    }

    pub async fn answer_consent(&mut self, path: &str, page: &Page, allow: &str) -> Page {
        let csrf = page.csrf_token();
        self.post(path, &[("csrf_token", csrf.as_str()), ("allow", allow)])
            .await
    }
}

/// `/o/authorize/?…` for `client` with these parameters on top of response_type=code.
pub fn authorize_path(client: &SeededClient, params: &[(&str, &str)]) -> String {
    let mut all = vec![("response_type", "code"), ("client_id", client.id.as_str())];
    all.extend_from_slice(params);
    format!(
        "/o/authorize/?{}",
        serde_urlencoded::to_string(&all).unwrap()
    )
}

/// The whole flow up to the code: sign in and approve. Returns the code and the verifier.
pub async fn code_for(
    browser: &mut Browser,
    client: &SeededClient,
    redirect_uri: &str,
    scope: &str,
) -> (String, String) {
    let (verifier, challenge) = pkce();
    let path = authorize_path(
        client,
        &[
            ("redirect_uri", redirect_uri),
            ("scope", scope),
            ("state", "xyz"),
            ("code_challenge", &challenge),
            ("code_challenge_method", "S256"),
            ("nonce", "n-0S6_WzA2Mj"),
        ],
    );
    let mut page = browser.get(&path).await;
    if page.is_login_page() {
        page = browser.sign_in(&path, &page, PASSWORD).await;
    }
    if page.is_consent_page() {
        page = browser.answer_consent(&path, &page, "yes").await;
    }
    assert_eq!(page.status, StatusCode::FOUND, "{}", page.body);
    let params = page.redirect_params();
    assert_eq!(params["state"], "xyz");
    (params["code"].clone(), verifier)
}

/// POST /o/token/ with the code.
pub async fn exchange(
    app: &TestApp,
    client: &SeededClient,
    code: &str,
    redirect_uri: Option<&str>,
    verifier: &str,
) -> Response {
    let mut params = vec![
        ("grant_type", "authorization_code"),
        ("code", code),
        ("code_verifier", verifier),
    ];
    if let Some(uri) = redirect_uri {
        params.push(("redirect_uri", uri));
    }
    if client.secret.is_some() {
        app.token(client, &params).await
    } else {
        params.push(("client_id", &client.id));
        app.post_form("/o/token/", None, &params).await
    }
}

/// `authorize_path` with a fresh S256 challenge (whose verifier no test needs) and `params`.
pub fn pkce_path(client: &SeededClient, params: &[(&str, &str)]) -> String {
    let (_, challenge) = pkce();
    let mut all = vec![
        ("code_challenge", challenge.as_str()),
        ("code_challenge_method", "S256"),
    ];
    all.extend_from_slice(params);
    authorize_path(client, &all)
}
