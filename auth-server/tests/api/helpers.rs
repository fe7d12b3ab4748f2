use std::sync::{Arc, OnceLock};

use auth_server::configuration::Settings;
use auth_server::oidc::id_token::{self, IdTokenRequest};
use auth_server::oidc::keys;
use auth_server::services::Services;
use auth_server::startup::Application;
use auth_store::models::NewSigningKey;
use auth_store::signing_keys;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use oauth_core::scopes::ScopeSet;
use reqwest::{RequestBuilder, Response, StatusCode};
use serde_json::Value;
use store::Pool;
use test_support::seed::{self, SeededClient};
use test_support::TestDatabase;

pub use test_support::seed::PASSWORD;
pub const SCOPES: &str = "read write groups albums music:read music:write";

pub type Client = SeededClient;

pub struct TestApp {
    pub base: String,
    pub pool: Pool,
    pub http: reqwest::Client,
    /// Confidential; every grant; SCOPES; default scope `read`.
    pub demo: Client,
    /// Public; password and refresh_token.
    pub public: Client,
    /// Confidential; may introspect.
    pub introspector: Client,
    /// Confidential; client_credentials only, scope `read`.
    pub machine: Client,
    pub user_id: i32,
    /// What the handlers share, for minting ID tokens.
    pub services: Arc<Services>,
    pub db: TestDatabase,
}

pub async fn spawn_app(db: TestDatabase) -> TestApp {
    spawn_app_with(db, &[]).await
}

pub async fn spawn_app_with(db: TestDatabase, extra: &[(&str, &str)]) -> TestApp {
    let mut vars = vec![
        ("AUTH_BIND", "127.0.0.1:0"),
        ("DATABASE_URL", db.url.as_str()),
        ("BCRYPT_COST", "4"),
        ("TOKEN_CLEANUP_INTERVAL_SECONDS", "0"),
    ];
    vars.extend_from_slice(extra);
    let settings = Settings::from_pairs(&vars).expect("settings");
    store_signing_key(&db);
    let app = Application::build(settings).await.expect("build the app");
    let base = format!("http://127.0.0.1:{}", app.port());
    let services = app.services();
    actix_web::rt::spawn(app.run_until_stopped());

    let pool = store::connect(&db.url, 2).expect("pool");
    let mut conn = pool.get().unwrap();
    let user = seed::user("tue").email("Tue@Example.com").create(&mut conn);
    let demo = seed::confidential_client("demo")
        .grants("password refresh_token client_credentials")
        .scopes(SCOPES)
        .owned_by(user.id)
        .create(&mut conn);
    let public = seed::public_client("public-app")
        .grants("password refresh_token")
        .scopes(SCOPES)
        .owned_by(user.id)
        .create(&mut conn);
    let introspector = seed::confidential_client("resource-server")
        .grants("client_credentials")
        .scopes("read introspection")
        .may_introspect()
        .owned_by(user.id)
        .create(&mut conn);
    let machine = seed::confidential_client("machine")
        .grants("client_credentials")
        .scopes("read")
        .owned_by(user.id)
        .create(&mut conn);
    drop(conn);
    TestApp {
        base,
        pool,
        http: reqwest::Client::new(),
        demo,
        public,
        introspector,
        machine,
        user_id: user.id,
        services,
        db,
    }
}

/// Stores one RSA key, made once per test process, as the test database's signing key: the
/// server would otherwise make its own at start, a few tenths of a second per test. The tests of
/// that start use `Application::build` on an empty database.
pub fn store_signing_key(db: &TestDatabase) {
    static KEY: OnceLock<NewSigningKey> = OnceLock::new();
    let key = KEY.get_or_init(|| keys::generate().expect("generate a signing key").row(0));
    let pool = store::connect_and_migrate(&db.url, 1).expect("migrate the test database");
    let mut conn = pool.get().expect("a connection");
    signing_keys::insert_first(&mut conn, key).expect("store the signing key");
}

pub fn with_client(req: RequestBuilder, client: &Client) -> RequestBuilder {
    req.basic_auth(&client.id, client.secret.as_deref())
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    pub async fn post_form(
        &self,
        path: &str,
        client: Option<&Client>,
        params: &[(&str, &str)],
    ) -> Response {
        let mut req = self.http.post(self.url(path)).form(params);
        if let Some(c) = client {
            req = with_client(req, c);
        }
        req.send().await.expect("request")
    }

    pub async fn token(&self, client: &Client, params: &[(&str, &str)]) -> Response {
        self.post_form("/o/token/", Some(client), params).await
    }

    /// A password grant for tue with the demo client; panics unless it succeeds.
    pub async fn password_tokens(&self, scope: &str) -> Value {
        let res = self
            .token(
                &self.demo,
                &[
                    ("grant_type", "password"),
                    ("username", "tue"),
                    ("password", PASSWORD),
                    ("scope", scope),
                ],
            )
            .await;
        assert_eq!(res.status(), StatusCode::OK);
        res.json().await.unwrap()
    }

    pub async fn refresh(&self, client: &Client, refresh_token: &str) -> Response {
        self.token(
            client,
            &[
                ("grant_type", "refresh_token"),
                ("refresh_token", refresh_token),
            ],
        )
        .await
    }

    pub async fn introspect(&self, token: &str) -> Value {
        let res = self
            .post_form(
                "/o/introspect/",
                Some(&self.introspector),
                &[("token", token)],
            )
            .await;
        assert_eq!(res.status(), StatusCode::OK);
        assert_eq!(res.headers()["cache-control"], "no-store");
        res.json().await.unwrap()
    }

    pub async fn is_active(&self, token: &str) -> bool {
        self.introspect(token).await["active"] == Value::Bool(true)
    }
}

impl TestApp {
    /// The JWKS, checking its headers.
    pub async fn jwks(&self) -> Value {
        let res = self.http.get(self.url("/o/jwks/")).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        assert_eq!(res.headers()["content-type"], "application/json");
        res.json().await.unwrap()
    }

    /// The kids the JWKS lists, in its order.
    pub async fn published_kids(&self) -> Vec<String> {
        self.jwks().await["keys"]
            .as_array()
            .unwrap()
            .iter()
            .map(|k| k["kid"].as_str().unwrap().to_string())
            .collect()
    }

    /// An ID token for tue, minted as the authorization_code grant mints one.
    pub async fn mint_id_token(&self, client_id: &str, scope: &str) -> String {
        let (services, user_id) = (self.services.clone(), self.user_id);
        let (client_id, scope) = (client_id.to_string(), ScopeSet::parse(scope).unwrap());
        self.services
            .db
            .clone()
            .run(move |conn| {
                let user = store::users::find(conn, user_id)?.expect("tue");
                let now = oauth_core::time::now();
                let request = IdTokenRequest {
                    client_id: &client_id,
                    user: &user,
                    scope: &scope,
                    nonce: Some("a-nonce"),
                    auth_time: now,
                    access_token: "an-access-token",
                    issued_at: now,
                };
                id_token::mint(&services, conn, &request)
            })
            .await
            .expect("mint an ID token")
    }
}

/// The `kid` of a JWT's header.
pub fn kid_of(token: &str) -> String {
    jsonwebtoken::decode_header(token)
        .expect("a JWT")
        .kid
        .expect("a kid")
}

/// The claims of `token`, verified as a relying party verifies them: RS256 with the key of `jwks`
/// that its header names, for `audience`, unexpired.
pub fn verify_id_token(jwks: &Value, token: &str, audience: &str) -> Result<Value, String> {
    let kid = kid_of(token);
    let jwk = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["kid"] == kid.as_str())
        .ok_or_else(|| format!("the JWKS has no key {kid}"))?;
    let key =
        DecodingKey::from_rsa_components(jwk["n"].as_str().unwrap(), jwk["e"].as_str().unwrap())
            .map_err(|e| e.to_string())?;
    let mut validation = Validation::new(Algorithm::RS256);
    validation.set_audience(&[audience]);
    validation.leeway = 0;
    jsonwebtoken::decode::<Value>(token, &key, &validation)
        .map(|data| data.claims)
        .map_err(|e| e.to_string())
}

/// The status and the `error` member of an error response.
pub async fn oauth_error(res: Response) -> (StatusCode, String) {
    let status = res.status();
    let body: Value = res.json().await.expect("a JSON error body");
    assert!(
        body["error_description"].is_string(),
        "no error_description in {body}"
    );
    (
        status,
        body["error"].as_str().unwrap_or_default().to_string(),
    )
}

/// Asserts a 400 with this `error`.
pub async fn assert_bad_request(res: Response, error: &str) {
    assert_eq!(
        oauth_error(res).await,
        (StatusCode::BAD_REQUEST, error.to_string())
    );
}
