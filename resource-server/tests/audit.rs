//! The resource server's audit lines: a password set through PATCH /users/{id}/ is
//! `password.change` when the user sets their own and `password.reset` when a holder of
//! `change_user` sets someone else's, naming both by id and never holding a password. Its own
//! test binary, as it installs the process's one logger.

use reqwest::StatusCode;
use serde_json::{json, Value};
use store::{groups, users};
use test_support::{audit_log, on_both_backends, seed, spawn_auth_server, TestDatabase};

const CLIENT_SECRET: &str = "a-client-secret-of-enough-length-0123456789";

async fn password_changes_and_resets_are_audited_without_the_password(db: TestDatabase) {
    audit_log::capture();
    let pool = store::connect_and_migrate(&db.url, 2).unwrap();
    let mut conn = pool.get().unwrap();
    // The two backends' tests run at once and share the captured lines, which name users by id
    // only: created in opposite orders, tue has another id on each.
    let (tue, admin) = if db.is_postgres() {
        let admin = seed::user("boss").create(&mut conn);
        (seed::user("tue").create(&mut conn), admin)
    } else {
        let tue = seed::user("tue").create(&mut conn);
        (tue, seed::user("boss").create(&mut conn))
    };
    groups::ensure_group_with_permissions(&mut conn, "Admin", &["change_user".into()]).unwrap();
    let group = groups::find_by_name(&mut conn, "Admin").unwrap().unwrap();
    users::add_to_group(&mut conn, admin.id, group.id).unwrap();
    let client_id = String::from("audited-resource-server");
    seed::confidential_client(&client_id)
        .secret(CLIENT_SECRET)
        .grants("password")
        .scopes("read write")
        .may_introspect()
        .owned_by(tue.id)
        .create(&mut conn);
    let auth = spawn_auth_server(&db.url, "127.0.0.1:0", &[]).await.base;
    let introspection_url = format!("{auth}/o/introspect/");
    let settings = resource_server::configuration::Settings::from_pairs(&[
        ("RESOURCE_BIND", "127.0.0.1:0"),
        ("DATABASE_URL", db.url.as_str()),
        ("BCRYPT_COST", "4"),
        ("INTROSPECTION_URL", introspection_url.as_str()),
        ("INTROSPECTION_CLIENT_ID", client_id.as_str()),
        ("INTROSPECTION_CLIENT_SECRET", CLIENT_SECRET),
    ])
    .unwrap();
    let app = resource_server::startup::Application::build(settings)
        .await
        .unwrap();
    let api = format!("http://127.0.0.1:{}", app.port());
    actix_web::rt::spawn(app.run_until_stopped());
    let http = reqwest::Client::new();
    let token = |username: &'static str| {
        let http = http.clone();
        let (auth, client_id) = (auth.clone(), client_id.clone());
        async move {
            let body: Value = http
                .post(format!("{auth}/o/token/"))
                .basic_auth(client_id, Some(CLIENT_SECRET))
                .form(&[
                    ("grant_type", "password"),
                    ("username", username),
                    ("password", seed::PASSWORD),
                    ("scope", "read write"),
                ])
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            body["access_token"].as_str().unwrap().to_string()
        }
    };
    let patch = |token: String, body: Value| {
        let http = http.clone();
        let url = format!("{api}/users/{}/", tue.id);
        async move {
            http.patch(url)
                .bearer_auth(token)
                .json(&body)
                .send()
                .await
                .unwrap()
                .status()
        }
    };

    let own = patch(
        token("tue").await,
        json!({"password": "changed by tue herself", "current_password": seed::PASSWORD}),
    )
    .await;
    assert_eq!(own, StatusCode::OK);
    let reset = patch(
        token("boss").await,
        json!({"password": "reset by the boss"}),
    )
    .await;
    assert_eq!(reset, StatusCode::OK);
    // A refused change is no event.
    let refused = patch(token("boss").await, json!({"password": "short"})).await;
    assert_eq!(refused, StatusCode::BAD_REQUEST);

    let mine = |line: &&String| {
        line.contains(&format!("user_id={} ", tue.id)) && line.starts_with("event=password.")
    };
    let lines: Vec<String> = audit_log::lines().iter().filter(mine).cloned().collect();
    assert_eq!(
        lines,
        [
            format!("event=password.change user_id={} by={}", tue.id, tue.id),
            format!("event=password.reset user_id={} by={}", tue.id, admin.id),
        ]
    );
}

on_both_backends!(password_changes_and_resets_are_audited_without_the_password);
