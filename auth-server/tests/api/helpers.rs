use auth_server::configuration::Settings;
use auth_server::startup::Application;
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
    _db: TestDatabase,
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
    let app = Application::build(settings).await.expect("build the app");
    let base = format!("http://127.0.0.1:{}", app.port());
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
        _db: db,
    }
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
