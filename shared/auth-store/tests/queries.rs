//! The auth server's queries, run against a fresh database on each backend.

use auth_store::models::*;
use auth_store::{applications, login_failures, tokens};
use chrono::NaiveDate;
use diesel::{ExpressionMethods, RunQueryDsl};
use store::models::*;
use store::*;
use test_support::seed::user_row as new_user;
use test_support::{migrated_pool as pool, TestDatabase};

fn new_app(owner_id: i32, client_id: &str) -> NewApplication {
    NewApplication {
        client_id: client_id.into(),
        client_secret_hash: Some(oauth_core::secrets::sha256_hex("secret")),
        name: "demo".into(),
        client_type: "confidential".into(),
        grant_types: "password refresh_token".into(),
        allowed_scopes: "read write".into(),
        default_scopes: "read".into(),
        can_introspect: false,
        owner_id,
        created_at: 0,
    }
}

fn access(app: &Application, user: Option<i32>, hash: &str, expires_at: i64) -> NewAccessToken {
    NewAccessToken {
        token_hash: hash.into(),
        application_id: app.id,
        user_id: user,
        scope: "read".into(),
        issued_at: 0,
        expires_at,
    }
}

fn refresh(
    app: &Application,
    user: i32,
    access_id: i64,
    hash: &str,
    family: &str,
) -> NewRefreshToken {
    NewRefreshToken {
        token_hash: hash.into(),
        access_token_id: Some(access_id),
        application_id: app.id,
        user_id: user,
        family_id: family.into(),
        scope: "read".into(),
        issued_at: 0,
        expires_at: 1000,
    }
}

async fn a_refresh_token_is_claimed_once_and_families_revoke_together(db: TestDatabase) {
    let pool = pool(&db);
    let mut conn = pool.get().unwrap();
    let user = users::create(&mut conn, &new_user("tue", "")).unwrap();
    let app = applications::create(&mut conn, &new_app(user.id, "client-1")).unwrap();
    let a1 = tokens::insert_access(&mut conn, &access(&app, Some(user.id), "a1", 1000)).unwrap();
    let r1 =
        tokens::insert_refresh(&mut conn, &refresh(&app, user.id, a1.id, "r1", "fam")).unwrap();
    let a2 = tokens::insert_access(&mut conn, &access(&app, Some(user.id), "a2", 1000)).unwrap();
    tokens::insert_refresh(&mut conn, &refresh(&app, user.id, a2.id, "r2", "fam")).unwrap();

    assert_eq!(
        tokens::claim_refresh(&mut conn, r1.id, 10).unwrap(),
        Some(Some(a1.id))
    );
    assert_eq!(tokens::claim_refresh(&mut conn, r1.id, 11).unwrap(), None);

    assert!(tokens::find_active_access(&mut conn, "a2", 10)
        .unwrap()
        .is_some());
    tokens::revoke_family(&mut conn, "fam", 12).unwrap();
    assert!(tokens::find_active_access(&mut conn, "a1", 12)
        .unwrap()
        .is_none());
    assert!(tokens::find_active_access(&mut conn, "a2", 12)
        .unwrap()
        .is_none());
    let r2 = tokens::find_refresh_by_hash(&mut conn, "r2")
        .unwrap()
        .unwrap();
    assert_eq!(r2.revoked_at, Some(12));
}

async fn a_rotation_links_the_new_pair_and_happens_once(db: TestDatabase) {
    let pool = pool(&db);
    let mut conn = pool.get().unwrap();
    let user = users::create(&mut conn, &new_user("wed", "")).unwrap();
    let app = applications::create(&mut conn, &new_app(user.id, "client-1")).unwrap();
    let a1 = tokens::insert_access(&mut conn, &access(&app, Some(user.id), "a1", 1000)).unwrap();
    let r1 =
        tokens::insert_refresh(&mut conn, &refresh(&app, user.id, a1.id, "r1", "fam")).unwrap();
    let mut next_refresh = refresh(&app, user.id, a1.id, "r2", "fam");
    next_refresh.access_token_id = None;
    let next_access = access(&app, Some(user.id), "a2", 2000);

    assert!(tokens::rotate_refresh(&mut conn, r1.id, 20, &next_access, &next_refresh).unwrap());

    let (old, owner_active) = tokens::find_refresh_with_owner(&mut conn, "r1")
        .unwrap()
        .unwrap();
    assert_eq!(old.revoked_at, Some(20));
    assert!(owner_active);
    assert_eq!(
        tokens::find_access_by_hash(&mut conn, "a1")
            .unwrap()
            .unwrap()
            .revoked_at,
        Some(20)
    );
    let a2 = tokens::find_active_access(&mut conn, "a2", 20)
        .unwrap()
        .expect("the new access token is live");
    assert_eq!(a2.token.expires_at, 2000);
    assert_eq!(a2.user, Some((user.id, "wed".into())));
    let r2 = tokens::find_refresh_by_hash(&mut conn, "r2")
        .unwrap()
        .unwrap();
    assert_eq!(r2.access_token_id, Some(a2.token.id));
    assert_eq!((r2.family_id.as_str(), r2.revoked_at), ("fam", None));

    // The old token is used up: a second rotation writes nothing.
    let before = test_support::row_counts(&pool);
    let mut again = refresh(&app, user.id, a1.id, "r3", "fam");
    again.access_token_id = None;
    let again_access = access(&app, Some(user.id), "a3", 2000);
    assert!(!tokens::rotate_refresh(&mut conn, r1.id, 21, &again_access, &again).unwrap());
    assert_eq!(test_support::row_counts(&pool), before);
    assert!(tokens::find_access_by_hash(&mut conn, "a3")
        .unwrap()
        .is_none());
}

async fn a_deactivated_owner_shows_on_the_refresh_token(db: TestDatabase) {
    let pool = pool(&db);
    let mut conn = pool.get().unwrap();
    let mut gone = new_user("thu", "");
    gone.is_active = false;
    let user = users::create(&mut conn, &gone).unwrap();
    let app = applications::create(&mut conn, &new_app(user.id, "client-1")).unwrap();
    let a1 = tokens::insert_access(&mut conn, &access(&app, Some(user.id), "a1", 1000)).unwrap();
    tokens::insert_refresh(&mut conn, &refresh(&app, user.id, a1.id, "r1", "fam")).unwrap();
    let (_, owner_active) = tokens::find_refresh_with_owner(&mut conn, "r1")
        .unwrap()
        .unwrap();
    assert!(!owner_active);
    assert!(tokens::find_refresh_with_owner(&mut conn, "nope")
        .unwrap()
        .is_none());
}

async fn introspection_lookup_sees_expiry_owner_and_client(db: TestDatabase) {
    let pool = pool(&db);
    let mut conn = pool.get().unwrap();
    let user = users::create(&mut conn, &new_user("tue", "")).unwrap();
    let app = applications::create(&mut conn, &new_app(user.id, "client-1")).unwrap();
    tokens::insert_access(&mut conn, &access(&app, Some(user.id), "live", 100)).unwrap();
    tokens::insert_access(&mut conn, &access(&app, None, "machine", 100)).unwrap();

    let live = tokens::find_active_access(&mut conn, "live", 50)
        .unwrap()
        .unwrap();
    assert_eq!(live.client_id, "client-1");
    assert_eq!(live.user, Some((user.id, "tue".to_string())));
    assert_eq!(
        tokens::find_active_access(&mut conn, "machine", 50)
            .unwrap()
            .unwrap()
            .user,
        None
    );
    assert!(tokens::find_active_access(&mut conn, "live", 100)
        .unwrap()
        .is_none());

    diesel::update(schema::users::table)
        .set(schema::users::is_active.eq(false))
        .execute(&mut conn)
        .unwrap();
    assert!(tokens::find_active_access(&mut conn, "live", 50)
        .unwrap()
        .is_none());
}

async fn dead_tokens_are_deleted_and_live_refresh_tokens_survive(db: TestDatabase) {
    let pool = pool(&db);
    let mut conn = pool.get().unwrap();
    let user = users::create(&mut conn, &new_user("tue", "")).unwrap();
    let app = applications::create(&mut conn, &new_app(user.id, "client-1")).unwrap();
    let old = tokens::insert_access(&mut conn, &access(&app, Some(user.id), "old", 10)).unwrap();
    tokens::insert_refresh(&mut conn, &refresh(&app, user.id, old.id, "r-live", "f")).unwrap();
    tokens::insert_access(&mut conn, &access(&app, Some(user.id), "fresh", 500)).unwrap();

    let cleared = tokens::delete_dead(&mut conn, 20).unwrap();
    assert_eq!(
        cleared,
        tokens::Cleared {
            access_tokens: 1,
            refresh_tokens: 0
        }
    );
    let r = tokens::find_refresh_by_hash(&mut conn, "r-live")
        .unwrap()
        .unwrap();
    assert_eq!(r.access_token_id, None);
    assert!(tokens::find_access_by_hash(&mut conn, "fresh")
        .unwrap()
        .is_some());
}

async fn deleting_a_user_cascades_to_applications_tokens_and_albums(db: TestDatabase) {
    let pool = pool(&db);
    let mut conn = pool.get().unwrap();
    let user = users::create(&mut conn, &new_user("tue", "")).unwrap();
    let app = applications::create(&mut conn, &new_app(user.id, "client-1")).unwrap();
    tokens::insert_access(&mut conn, &access(&app, Some(user.id), "t", 100)).unwrap();
    let album = music::create_album(
        &mut conn,
        &AlbumFields {
            artist_id: user.id,
            name: "Second Album".into(),
            release_date: NaiveDate::from_ymd_opt(2021, 6, 15).unwrap(),
            num_stars: 1,
        },
    )
    .unwrap();
    assert!(users::delete(&mut conn, user.id).unwrap());
    assert!(applications::find_by_client_id(&mut conn, "client-1")
        .unwrap()
        .is_none());
    assert!(tokens::find_access_by_hash(&mut conn, "t")
        .unwrap()
        .is_none());
    assert!(music::find_album(&mut conn, album.id).unwrap().is_none());
}

async fn login_failures_count_within_a_window(db: TestDatabase) {
    let pool = pool(&db);
    let mut conn = pool.get().unwrap();
    for t in [10, 20, 30] {
        login_failures::record(&mut conn, "user:1", t).unwrap();
    }
    assert_eq!(
        login_failures::count_since(&mut conn, "user:1", 15).unwrap(),
        2
    );
    assert_eq!(login_failures::delete_older_than(&mut conn, 20).unwrap(), 2);
    login_failures::clear(&mut conn, "user:1").unwrap();
    assert_eq!(
        login_failures::count_since(&mut conn, "user:1", 0).unwrap(),
        0
    );
}

test_support::on_both_backends!(
    a_refresh_token_is_claimed_once_and_families_revoke_together,
    a_rotation_links_the_new_pair_and_happens_once,
    a_deactivated_owner_shows_on_the_refresh_token,
    introspection_lookup_sees_expiry_owner_and_client,
    dead_tokens_are_deleted_and_live_refresh_tokens_survive,
    deleting_a_user_cascades_to_applications_tokens_and_albums,
    login_failures_count_within_a_window,
);
