//! A resource server on a free port, with a real auth server (or a wiremock stand-in for the
//! introspection endpoint) on the same fresh database, and typed helpers to talk to them.

use std::net::TcpListener;

use reqwest::header::WWW_AUTHENTICATE;
use reqwest::{Method, RequestBuilder, Response, StatusCode};
use serde_json::{json, Value};
use store::{groups, users, Pool};
use test_support::seed;
use test_support::{spawn_auth_server, TestDatabase};

pub use test_support::seed::PASSWORD;
pub const ALL_SCOPES: &str =
    "read write groups albums music:read music:write update delete introspection";
pub const RS_CLIENT_ID: &str = "resource-server";
/// Holds characters that HTTP Basic must form-urlencode (RFC 6749 §2.3.1).
pub const RS_CLIENT_SECRET: &str = "resource-server secret+0123%45:6789/abcdef";
pub const DEMO_ID: &str = "demo";
pub const DEMO_SECRET: &str = "demo-secret-0123456789abcdef0123456789";

/// Where the resource server sends its introspection requests.
pub enum AuthServer {
    /// A real auth server on the same database.
    Real,
    /// Any URL: a wiremock server, or a port where nothing listens.
    At(String),
}

pub struct TestApp {
    /// The resource server, `http://127.0.0.1:port`.
    pub base: String,
    /// The auth server's base URL, when a real one runs.
    pub auth_base: Option<String>,
    pub pool: Pool,
    pub http: reqwest::Client,
    /// The user `tue`, who owns the applications; no permissions.
    pub user_id: i32,
    _db: TestDatabase,
}

pub async fn spawn_app(db: TestDatabase) -> TestApp {
    spawn_app_with(db, AuthServer::Real, &[]).await
}

pub async fn spawn_app_with(db: TestDatabase, auth: AuthServer, env: &[(&str, &str)]) -> TestApp {
    let pool = store::connect_and_migrate(&db.url, 2).expect("migrate the test database");
    let user_id = seed(&pool);
    let (introspection_url, auth_base) = match auth {
        AuthServer::Real => {
            let base = spawn_auth_server(&db.url, "127.0.0.1:0", &[]).await.base;
            (format!("{base}/o/introspect/"), Some(base))
        }
        AuthServer::At(url) => (url, None),
    };
    let mut vars = vec![
        ("RESOURCE_BIND", "127.0.0.1:0"),
        ("DATABASE_URL", db.url.as_str()),
        ("DATABASE_POOL_SIZE", "4"),
        ("BCRYPT_COST", "4"),
        ("INTROSPECTION_URL", introspection_url.as_str()),
        ("INTROSPECTION_CLIENT_ID", RS_CLIENT_ID),
        ("INTROSPECTION_CLIENT_SECRET", RS_CLIENT_SECRET),
        ("INTROSPECTION_TIMEOUT_MS", "1000"),
    ];
    vars.extend_from_slice(env);
    let settings = resource_server::configuration::Settings::from_pairs(&vars).expect("settings");
    let app = resource_server::startup::Application::build(settings)
        .await
        .expect("build the resource server");
    let base = format!("http://127.0.0.1:{}", app.port());
    actix_web::rt::spawn(app.run_until_stopped());
    TestApp {
        base,
        auth_base,
        pool,
        http: reqwest::Client::new(),
        user_id,
        _db: db,
    }
}

/// The user `tue`, the demo client every test gets tokens from, and the resource server's own
/// client, which may introspect.
fn seed(pool: &Pool) -> i32 {
    let mut conn = pool.get().unwrap();
    let user = seed::user("tue").create(&mut conn);
    seed::confidential_client(DEMO_ID)
        .secret(DEMO_SECRET)
        .grants("password refresh_token client_credentials")
        .scopes(ALL_SCOPES)
        .owned_by(user.id)
        .create(&mut conn);
    seed::confidential_client(RS_CLIENT_ID)
        .secret(RS_CLIENT_SECRET)
        .grants("client_credentials")
        .scopes(ALL_SCOPES)
        .may_introspect()
        .owned_by(user.id)
        .create(&mut conn);
    user.id
}

/// A port where nothing listens (bound, then released).
pub fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    fn auth_url(&self, path: &str) -> String {
        let base = self.auth_base.as_deref().expect("a real auth server");
        format!("{base}{path}")
    }

    pub fn add_user(&self, username: &str, password: &str) -> i32 {
        let mut conn = self.pool.get().unwrap();
        seed::user(username).password(password).create(&mut conn).id
    }

    /// Puts the user in a group holding these permissions.
    pub fn grant(&self, user_id: i32, codenames: &[&str]) {
        let mut conn = self.pool.get().unwrap();
        let group = format!("holders-{user_id}-{}", codenames.join("-"));
        let codenames: Vec<String> = codenames.iter().map(|c| c.to_string()).collect();
        groups::ensure_group_with_permissions(&mut conn, &group, &codenames).unwrap();
        let group = groups::find_by_name(&mut conn, &group).unwrap().unwrap();
        users::add_to_group(&mut conn, user_id, group.id).unwrap();
    }

    /// A password grant at the auth server; panics unless it succeeds.
    pub async fn token_for(&self, username: &str, password: &str, scope: &str) -> String {
        let body = self.grant_for(username, password, scope).await;
        body["access_token"].as_str().unwrap().to_string()
    }

    /// The whole answer to a password grant (access and refresh token); panics unless it
    /// succeeds.
    pub async fn grant_for(&self, username: &str, password: &str, scope: &str) -> Value {
        let res = self
            .http
            .post(self.auth_url("/o/token/"))
            .basic_auth(DEMO_ID, Some(DEMO_SECRET))
            .form(&[
                ("grant_type", "password"),
                ("username", username),
                ("password", password),
                ("scope", scope),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK, "token for {username}");
        res.json().await.unwrap()
    }

    /// A refresh_token grant at the auth server: its status and body.
    pub async fn refresh(&self, refresh_token: &str) -> (StatusCode, Value) {
        let res = self
            .http
            .post(self.auth_url("/o/token/"))
            .basic_auth(DEMO_ID, Some(DEMO_SECRET))
            .form(&[
                ("grant_type", "refresh_token"),
                ("refresh_token", refresh_token),
            ])
            .send()
            .await
            .unwrap();
        (res.status(), res.json().await.unwrap())
    }

    /// A token for `tue`.
    pub async fn token(&self, scope: &str) -> String {
        self.token_for("tue", PASSWORD, scope).await
    }

    /// A client_credentials token: it acts for no user.
    pub async fn client_token(&self, scope: &str) -> String {
        let res = self
            .http
            .post(self.auth_url("/o/token/"))
            .basic_auth(DEMO_ID, Some(DEMO_SECRET))
            .form(&[("grant_type", "client_credentials"), ("scope", scope)])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        let body: Value = res.json().await.unwrap();
        body["access_token"].as_str().unwrap().to_string()
    }

    pub async fn revoke(&self, token: &str) {
        let res = self
            .http
            .post(self.auth_url("/o/revoke_token/"))
            .basic_auth(DEMO_ID, Some(DEMO_SECRET))
            .form(&[("token", token)])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK);
    }

    pub fn request(&self, method: Method, path: &str, token: Option<&str>) -> RequestBuilder {
        let req = self.http.request(method, self.url(path));
        match token {
            Some(t) => req.bearer_auth(t),
            None => req,
        }
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> Response {
        self.request(Method::GET, path, token).send().await.unwrap()
    }

    pub async fn send_json(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: &Value,
    ) -> Response {
        self.request(method, path, token)
            .json(body)
            .send()
            .await
            .unwrap()
    }

    pub async fn post_json(&self, path: &str, token: Option<&str>, body: &Value) -> Response {
        self.send_json(Method::POST, path, token, body).await
    }

    pub async fn send_form(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        fields: &[(&str, &str)],
    ) -> Response {
        self.request(method, path, token)
            .form(fields)
            .send()
            .await
            .unwrap()
    }

    pub async fn delete(&self, path: &str, token: Option<&str>) -> Response {
        self.request(Method::DELETE, path, token)
            .send()
            .await
            .unwrap()
    }

    /// Creates an album for `tue` through the API; panics unless it succeeds.
    pub async fn create_album(&self, token: &str, name: &str) -> Value {
        let res = self
            .post_json(
                "/albums/",
                Some(token),
                &json!({"artist": self.user_id, "name": name, "release_date": "2021-06-15", "num_stars": 3}),
            )
            .await;
        assert_eq!(res.status(), StatusCode::CREATED);
        res.json().await.unwrap()
    }

    /// Inserts albums straight into the database, for pagination tests.
    pub fn insert_albums(&self, n: usize) {
        let mut conn = self.pool.get().unwrap();
        for i in 0..n {
            store::music::create_album(
                &mut conn,
                &store::models::AlbumFields {
                    artist_id: self.user_id,
                    name: format!("Album {i}"),
                    release_date: chrono::NaiveDate::from_ymd_opt(2020, 1, 1).unwrap(),
                    num_stars: 1,
                },
            )
            .unwrap();
        }
    }
}

/// The status, the WWW-Authenticate header and the JSON body of a response.
pub async fn parts(res: Response) -> (StatusCode, Option<String>, Value) {
    let status = res.status();
    let challenge = res
        .headers()
        .get(WWW_AUTHENTICATE)
        .map(|v| v.to_str().unwrap().to_string());
    let text = res.text().await.unwrap();
    let body = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON: {text}"))
    };
    (status, challenge, body)
}

pub const PERMISSION_DENIED: &str = "You do not have permission to perform this action.";

/// 403 for lack of scopes: the challenge names the scopes needed.
pub async fn assert_insufficient_scope(res: Response, scope: &str) {
    let (status, challenge, body) = parts(res).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert_eq!(
        challenge.as_deref(),
        Some(
            format!(r#"Bearer realm="api", error="insufficient_scope", scope="{scope}""#).as_str()
        )
    );
    assert_eq!(body["detail"], PERMISSION_DENIED);
}

/// 403 for a missing model permission or a refusing policy: no challenge.
pub async fn assert_permission_denied(res: Response) {
    let (status, challenge, body) = parts(res).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert_eq!(challenge, None);
    assert_eq!(body["detail"], PERMISSION_DENIED);
}

pub async fn assert_not_authenticated(res: Response) {
    let (status, challenge, body) = parts(res).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    assert_eq!(challenge.as_deref(), Some(r#"Bearer realm="api""#));
    assert_eq!(
        body["detail"],
        "Authentication credentials were not provided."
    );
}

pub async fn assert_invalid_token(res: Response) {
    let (status, challenge, body) = parts(res).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    assert_eq!(
        challenge.as_deref(),
        Some(r#"Bearer realm="api", error="invalid_token""#)
    );
    assert!(body["detail"].is_string());
}

/// A 400 whose `field` carries exactly `messages`.
pub async fn assert_field_errors(res: Response, expected: Value) {
    let (status, _, body) = parts(res).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body, expected);
}
