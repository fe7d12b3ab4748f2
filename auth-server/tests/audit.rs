//! The audit log: one line per login success, failure and lockout and per refresh-token reuse,
//! under the target `audit`, naming the account by id, the client and the peer, and never a
//! password, a token or the login name as typed. Its own test binary, as it installs the
//! process's one logger.

use auth_server::configuration::Settings;
use auth_server::startup::Application;
use reqwest::StatusCode;
use serde_json::Value;
use test_support::{audit_log, on_both_backends, seed, TestDatabase};

/// The captured lines that name this client.
fn lines_of(client_id: &str) -> Vec<String> {
    let needle = format!("client_id={client_id} ");
    audit_log::lines()
        .into_iter()
        .filter(|l| l.contains(&needle))
        .collect()
}

async fn security_events_are_one_line_each_without_secrets(db: TestDatabase) {
    audit_log::capture();
    const SECRET_PASSWORD: &str = "the-real-passphrase";
    const TYPO_PASSWORD: &str = "a-mistyped-passphrase";
    let settings = Settings::from_pairs(&[
        ("AUTH_BIND", "127.0.0.1:0"),
        ("DATABASE_URL", db.url.as_str()),
        ("BCRYPT_COST", "4"),
        ("TOKEN_CLEANUP_INTERVAL_SECONDS", "0"),
        ("LOGIN_FAILURE_LIMIT", "2"),
    ])
    .unwrap();
    let app = Application::build(settings).await.unwrap();
    let base = format!("http://127.0.0.1:{}", app.port());
    actix_web::rt::spawn(app.run_until_stopped());
    let pool = store::connect(&db.url, 1).unwrap();
    let mut conn = pool.get().unwrap();
    let user = seed::user("audited-person")
        .password(SECRET_PASSWORD)
        .create(&mut conn);
    let client_id = format!("audit-{}", uuid::Uuid::new_v4().simple());
    let client = seed::confidential_client(&client_id)
        .grants("password refresh_token")
        .scopes("read")
        .owned_by(user.id)
        .create(&mut conn);
    let http = reqwest::Client::new();
    let token = |params: Vec<(&'static str, String)>| {
        http.post(format!("{base}/o/token/"))
            .basic_auth(&client.id, client.secret.as_deref())
            .form(&params)
            .send()
    };
    let login = |password: &'static str| {
        token(vec![
            ("grant_type", "password".into()),
            ("username", "audited-person".into()),
            ("password", password.into()),
        ])
    };

    let ok: Value = login(SECRET_PASSWORD).await.unwrap().json().await.unwrap();
    let refresh = ok["refresh_token"].as_str().unwrap().to_string();
    let rotated = token(vec![
        ("grant_type", "refresh_token".into()),
        ("refresh_token", refresh.clone()),
    ])
    .await
    .unwrap();
    assert_eq!(rotated.status(), StatusCode::OK);
    let rotated: Value = rotated.json().await.unwrap();
    let replay = token(vec![
        ("grant_type", "refresh_token".into()),
        ("refresh_token", refresh.clone()),
    ])
    .await
    .unwrap();
    assert_eq!(replay.status(), StatusCode::BAD_REQUEST);
    for _ in 0..2 {
        login(TYPO_PASSWORD).await.unwrap();
    }
    // Over the limit: refused even with the right password.
    assert_eq!(
        login(SECRET_PASSWORD).await.unwrap().status(),
        StatusCode::BAD_REQUEST
    );

    let lines = lines_of(&client_id);
    let events: Vec<&str> = lines.iter().map(|l| l.split(' ').next().unwrap()).collect();
    assert_eq!(
        events,
        [
            "event=login.success",
            "event=refresh_token.reuse",
            "event=login.failure",
            "event=login.failure",
            "event=login.lockout",
        ],
        "{lines:#?}"
    );
    let user_id = format!("user_id={} ", user.id);
    for line in &lines {
        assert!(line.contains(&user_id), "{line}");
        assert!(line.contains("peer=127.0.0.1"), "{line}");
        for secret in [
            SECRET_PASSWORD,
            TYPO_PASSWORD,
            "audited-person",
            &refresh,
            ok["access_token"].as_str().unwrap(),
            rotated["refresh_token"].as_str().unwrap(),
            client.secret.as_deref().unwrap(),
        ] {
            assert!(!line.contains(secret), "{line}");
        }
    }
    assert!(lines[1].contains("family_revoked=true"), "{}", lines[1]);
}

on_both_backends!(security_events_are_one_line_each_without_secrets);
