use auth_server::configuration::Settings;
use auth_server::startup::Application;
use reqwest::{RequestBuilder, Response, StatusCode};
use serde_json::Value;
use shared::config::Vars;
use shared::db::models::{NewApplication, NewUser};
use shared::db::{self, applications, users, Pool};
use shared::secrets::{sha256_hex, PasswordHasher};
use shared::testing::TestDatabase;

pub const PASSWORD: &str = "correct horse";
pub const SCOPES: &str = "read write groups albums music:read music:write";

#[derive(Clone, Debug)]
pub struct Client {
    pub id: String,
    pub secret: Option<String>,
}

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
    let mut vars = Vars::from_pairs([
        ("AUTH_BIND", "127.0.0.1:0"),
        ("DATABASE_URL", db.url.as_str()),
        ("BCRYPT_COST", "4"),
        ("TOKEN_CLEANUP_INTERVAL_SECONDS", "0"),
    ]);
    for (k, v) in extra {
        vars.set(*k, *v);
    }
    let settings = Settings::from_vars(&vars).expect("settings");
    let app = Application::build(settings).await.expect("build the app");
    let base = format!("http://127.0.0.1:{}", app.port());
    actix_web::rt::spawn(app.run_until_stopped());

    let pool = db::connect(&db.url, 2).expect("pool");
    let mut conn = pool.get().unwrap();
    let hasher = PasswordHasher::new(4).unwrap();
    let user = users::create(
        &mut conn,
        &NewUser {
            username: "tue".into(),
            email: "Tue@Example.com".into(),
            first_name: String::new(),
            last_name: String::new(),
            password_hash: hasher.hash(PASSWORD).unwrap(),
            is_active: true,
            is_superuser: false,
            date_joined: 0,
        },
    )
    .unwrap();
    let mut make =
        |client_id: &str, confidential: bool, grants: &str, scopes: &str, introspect: bool| {
            let secret =
                confidential.then(|| format!("{client_id}-secret-0123456789abcdef0123456789"));
            applications::create(
                &mut conn,
                &NewApplication {
                    client_id: client_id.into(),
                    client_secret_hash: secret.as_deref().map(sha256_hex),
                    name: client_id.into(),
                    client_type: if confidential {
                        "confidential"
                    } else {
                        "public"
                    }
                    .into(),
                    grant_types: grants.into(),
                    allowed_scopes: scopes.into(),
                    default_scopes: "read".into(),
                    can_introspect: introspect,
                    owner_id: user.id,
                    created_at: 0,
                },
            )
            .unwrap();
            Client {
                id: client_id.into(),
                secret,
            }
        };
    let demo = make(
        "demo",
        true,
        "password refresh_token client_credentials",
        SCOPES,
        false,
    );
    let public = make("public-app", false, "password refresh_token", SCOPES, false);
    let introspector = make(
        "resource-server",
        true,
        "client_credentials",
        "read introspection",
        true,
    );
    let machine = make("machine", true, "client_credentials", "read", false);
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
