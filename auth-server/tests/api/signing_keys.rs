//! Signing keys across processes: the first key at start, `rotate-signing-key` run as an operator
//! runs it, the new key published before it signs, and the old one kept until its tokens expire.

use std::process::Command;
use std::time::{Duration, Instant};

use actix_web::rt::time::sleep;
use auth_server::configuration::Settings;
use auth_server::startup::Application;
use auth_store::signing_keys;
use test_support::{on_both_backends, TestDatabase};

use crate::helpers::*;

/// Runs `auth-server rotate-signing-key` on the test's database; returns its stdout.
pub fn rotate(db: &TestDatabase, env: &[(&str, &str)]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_auth-server"))
        .arg("rotate-signing-key")
        .env_clear()
        .env("DATABASE_URL", &db.url)
        .envs(env.iter().copied())
        .output()
        .expect("run auth-server");
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    );
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(stderr.contains("event=signing_key.rotate"), "{stderr}");
    assert!(!stderr.contains("PRIVATE KEY") && !stdout.contains("PRIVATE KEY"));
    stdout
}

fn stored_kids(app: &TestApp) -> Vec<String> {
    signing_keys::list(&mut app.pool.get().unwrap())
        .unwrap()
        .into_iter()
        .map(|k| k.kid)
        .collect()
}

async fn a_server_on_an_empty_database_makes_one_key_even_when_two_start_together(
    db: TestDatabase,
) {
    let settings = || {
        Settings::from_pairs(&[
            ("AUTH_BIND", "127.0.0.1:0"),
            ("DATABASE_URL", db.url.as_str()),
            ("BCRYPT_COST", "4"),
            ("TOKEN_CLEANUP_INTERVAL_SECONDS", "0"),
        ])
        .unwrap()
    };
    let (a, b) = futures_util::join!(
        Application::build(settings()),
        Application::build(settings())
    );
    let (a, b) = (a.unwrap(), b.unwrap());
    let keys = signing_keys::list(&mut store::connect(&db.url, 1).unwrap().get().unwrap()).unwrap();
    assert_eq!(keys.len(), 1, "{keys:?}");
    for app in [&a, &b] {
        let ring = app.services().keys.snapshot();
        assert_eq!(ring.kids().collect::<Vec<_>>(), [keys[0].kid.as_str()]);
    }
    // A restart keeps the key.
    let c = Application::build(settings()).await.unwrap();
    assert_eq!(
        c.services().keys.snapshot().kids().collect::<Vec<_>>(),
        [keys[0].kid.as_str()]
    );
}

/// With no caching (0) the new key signs at once; the old one stays published until the last
/// ID token it signed has expired, and the clean-up then deletes it.
async fn rotate_signing_key_makes_a_new_current_key_and_the_old_one_leaves_after_its_tokens(
    db: TestDatabase,
) {
    let settings = [
        ("SIGNING_KEY_CACHE_SECONDS", "0"),
        ("ID_TOKEN_EXPIRE_SECONDS", "4"),
    ];
    let app = spawn_app_with(db, &settings).await;
    let old_token = app.mint_id_token("demo", "openid").await;
    let old = kid_of(&old_token);
    assert_eq!(app.published_kids().await, [old.as_str()]);

    let before_rotation = Instant::now();
    let out = rotate(&app.db, &settings);
    let new = stored_kids(&app).pop().unwrap();
    assert_ne!(new, old);
    assert_eq!(
        out,
        format!("added signing key {new}: it signs new ID tokens from now on\n")
    );
    assert_eq!(app.published_kids().await, [old.clone(), new.clone()]);
    let new_token = app.mint_id_token("demo", "openid").await;
    assert_eq!(kid_of(&new_token), new);
    let jwks = app.jwks().await;
    verify_id_token(&jwks, &old_token, "demo").unwrap();
    verify_id_token(&jwks, &new_token, "demo").unwrap();

    // Retired by the rotation, the old key signed its last token then, which lives 4 s (the
    // rotation's whole second counts): it goes between 3 and 4 s after the rotation.
    while app.published_kids().await.len() > 1 {
        assert!(
            before_rotation.elapsed() < Duration::from_secs(8),
            "the old key stayed"
        );
        sleep(Duration::from_millis(200)).await;
    }
    assert!(before_rotation.elapsed() >= Duration::from_secs(3));
    assert_eq!(app.published_kids().await, [new.as_str()]);
    assert!(verify_id_token(&app.jwks().await, &old_token, "demo").is_err());

    // The private key is deleted by the clean-up once nothing needs it.
    assert_eq!(stored_kids(&app), [old.clone(), new.clone()]);
    auth_server::clean_up::delete_unpublished_keys(
        &mut app.pool.get().unwrap(),
        auth_server::oidc::key_ring::KeyPolicy {
            cache_seconds: 0,
            id_token_seconds: 4,
        },
    )
    .unwrap();
    assert_eq!(stored_kids(&app), [new]);
}

/// With a cache, every replica and every client's cached JWKS has the new key before it signs:
/// it is published within one cache period, and signs after two and a second.
async fn a_cached_key_ring_publishes_a_new_key_before_signing_with_it(db: TestDatabase) {
    let settings = [("SIGNING_KEY_CACHE_SECONDS", "1")];
    let app = spawn_app_with(db, &settings).await;
    let old = kid_of(&app.mint_id_token("demo", "openid").await);
    assert_eq!(app.jwks().await.to_string().matches("\"kid\"").count(), 1);

    let out = rotate(&app.db, &settings);
    let rotated = Instant::now();
    assert!(out.contains("it signs new ID tokens in 3 s"), "{out}");
    let new = stored_kids(&app).pop().unwrap();
    // Until this server reloads, it neither publishes nor signs with the new key.
    assert_eq!(kid_of(&app.mint_id_token("demo", "openid").await), old);

    sleep(Duration::from_millis(1200)).await;
    assert_eq!(app.published_kids().await, [old.clone(), new.clone()]);
    // At most 2.2 whole seconds after the key's created_at: still the old key.
    assert_eq!(kid_of(&app.mint_id_token("demo", "openid").await), old);

    loop {
        let kid = kid_of(&app.mint_id_token("demo", "openid").await);
        if kid == new {
            break;
        }
        assert_eq!(kid, old);
        assert!(
            rotated.elapsed() < Duration::from_secs(6),
            "the new key never signed"
        );
        sleep(Duration::from_millis(200)).await;
    }
    // Three seconds after the key's whole-second created_at, which is at most one before.
    assert!(rotated.elapsed() >= Duration::from_millis(1800));
    // The old key signed until a moment ago: it stays published for an ID token's lifetime.
    assert_eq!(app.published_kids().await, [old, new]);
}

on_both_backends!(
    a_server_on_an_empty_database_makes_one_key_even_when_two_start_together,
    rotate_signing_key_makes_a_new_current_key_and_the_old_one_leaves_after_its_tokens,
    a_cached_key_ring_publishes_a_new_key_before_signing_with_it,
);
