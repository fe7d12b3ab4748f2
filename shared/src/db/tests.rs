//! The data-access functions, run against a fresh database on each backend.

use chrono::NaiveDate;

use super::models::*;
use super::page::Window;
use super::*;
use crate::error::StoreError;
use crate::testing::TestDatabase;

fn pool(db: &TestDatabase) -> Pool {
    connect_and_migrate(&db.url, 4).expect("connect and migrate")
}

fn new_user(name: &str, email: &str) -> NewUser {
    NewUser {
        username: name.into(),
        email: email.into(),
        first_name: String::new(),
        last_name: String::new(),
        password_hash: "$2b$04$notarealhashnotarealhashnotarealhashnotarealhashnot".into(),
        is_active: true,
        is_superuser: false,
        date_joined: 0,
    }
}

fn new_app(owner_id: i32, client_id: &str) -> NewApplication {
    NewApplication {
        client_id: client_id.into(),
        client_secret_hash: Some(crate::secrets::sha256_hex("secret")),
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

async fn migrations_apply_from_empty_and_twice_is_a_no_op(db: TestDatabase) {
    let pool = pool(&db);
    let mut conn = pool.get().unwrap();
    assert!(run_migrations(&mut conn).unwrap().is_empty());
    assert!(is_ready(&pool));
}

async fn users_are_found_by_username_or_case_insensitive_email(db: TestDatabase) {
    let pool = pool(&db);
    let mut conn = pool.get().unwrap();
    let tue = users::create(&mut conn, &new_user("tue", "Tue@Example.com")).unwrap();
    assert_eq!(
        users::find_by_login(&mut conn, "tue").unwrap().unwrap().id,
        tue.id
    );
    assert_eq!(
        users::find_by_login(&mut conn, "TUE@example.COM")
            .unwrap()
            .unwrap()
            .id,
        tue.id
    );
    assert!(users::find_by_login(&mut conn, "Tue").unwrap().is_none());
    assert!(users::find_by_login(&mut conn, "nobody@example.com")
        .unwrap()
        .is_none());

    let dup = users::create(&mut conn, &new_user("tue", "other@example.com")).unwrap_err();
    assert!(StoreError::from(dup).is_unique_violation());
}

async fn users_list_filters_pages_and_counts(db: TestDatabase) {
    let pool = pool(&db);
    let mut conn = pool.get().unwrap();
    for i in 0..5 {
        users::create(
            &mut conn,
            &new_user(&format!("u{i}"), &format!("u{i}@x.org")),
        )
        .unwrap();
    }
    let all = users::UserFilter::default();
    let page = users::list(
        &mut conn,
        &all,
        Window {
            offset: 2,
            limit: 2,
        },
    )
    .unwrap();
    assert_eq!(page.count, 5);
    assert_eq!(
        page.items
            .iter()
            .map(|u| u.username.as_str())
            .collect::<Vec<_>>(),
        ["u2", "u3"]
    );
    let by_email = users::UserFilter {
        email: Some("u4@x.org".into()),
        ..Default::default()
    };
    let page = users::list(
        &mut conn,
        &by_email,
        Window {
            offset: 0,
            limit: 20,
        },
    )
    .unwrap();
    assert_eq!((page.count, page.items[0].username.as_str()), (1, "u4"));
}

async fn permissions_come_through_groups_and_superusers_hold_all(db: TestDatabase) {
    let pool = pool(&db);
    let mut conn = pool.get().unwrap();
    let codenames = vec!["add_album".to_string(), "change_album".to_string()];
    assert!(groups::ensure_group_with_permissions(&mut conn, "Leader", &codenames).unwrap());
    assert!(!groups::ensure_group_with_permissions(&mut conn, "Leader", &codenames).unwrap());
    let leader = groups::find_by_name(&mut conn, "Leader").unwrap().unwrap();

    let ann = users::create(&mut conn, &new_user("ann", "")).unwrap();
    assert!(!users::has_permission(&mut conn, ann.id, "add_album").unwrap());
    users::add_to_group(&mut conn, ann.id, leader.id).unwrap();
    users::add_to_group(&mut conn, ann.id, leader.id).unwrap();
    assert!(users::has_permission(&mut conn, ann.id, "add_album").unwrap());
    assert!(!users::has_permission(&mut conn, ann.id, "delete_album").unwrap());

    let mut root = new_user("root", "");
    root.is_superuser = true;
    let root = users::create(&mut conn, &root).unwrap();
    assert!(users::has_permission(&mut conn, root.id, "delete_album").unwrap());
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
    let before = crate::testing::row_counts(&pool);
    let mut again = refresh(&app, user.id, a1.id, "r3", "fam");
    again.access_token_id = None;
    let again_access = access(&app, Some(user.id), "a3", 2000);
    assert!(!tokens::rotate_refresh(&mut conn, r1.id, 21, &again_access, &again).unwrap());
    assert_eq!(crate::testing::row_counts(&pool), before);
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

async fn work_waits_for_a_permit_and_never_for_the_pool(db: TestDatabase) {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;

    // Two connections and a pool that gives up at once: forty tasks only pass if they queue for
    // the permits rather than for the pool.
    let pool = r2d2::Pool::builder()
        .max_size(2)
        .connection_timeout(std::time::Duration::from_millis(50))
        .build(ConnectionManager::new(DatabaseUrl::parse(&db.url).unwrap()))
        .unwrap();
    run_migrations(&mut pool.get().unwrap()).unwrap();
    let database = Database::new(pool);
    let (running, most) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let tasks: Vec<_> = (0..40)
        .map(|i| {
            let (running, most) = (running.clone(), most.clone());
            let database = database.clone();
            actix_web::rt::spawn(async move {
                database
                    .run(move |conn| -> Result<i64, crate::error::ApiError> {
                        let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                        most.fetch_max(now, Ordering::SeqCst);
                        std::thread::sleep(std::time::Duration::from_millis(20));
                        let found = users::find(conn, i)?;
                        running.fetch_sub(1, Ordering::SeqCst);
                        Ok(i64::from(found.is_none()))
                    })
                    .await
            })
        })
        .collect();
    for task in tasks {
        assert!(matches!(task.await.unwrap(), Ok(1)));
    }
    assert_eq!(most.load(Ordering::SeqCst), 2);
}

/// Which thread ran a read, and whether the caller's thread was that one.
async fn read_on_which_thread(database: &Database) -> bool {
    let caller = std::thread::current().id();
    database
        .read(move |conn| -> Result<bool, crate::error::ApiError> {
            users::find(conn, 1)?;
            Ok(std::thread::current().id() == caller)
        })
        .await
        .unwrap()
}

async fn a_read_runs_in_place_on_sqlite_only(db: TestDatabase) {
    let database = Database::new(pool(&db));
    let sqlite = matches!(DatabaseUrl::parse(&db.url).unwrap(), DatabaseUrl::Sqlite(_));
    assert_eq!(read_on_which_thread(&database).await, sqlite);
    // Work that may write always leaves the worker.
    let caller = std::thread::current().id();
    let in_place = database
        .run(move |_| -> Result<bool, crate::error::ApiError> {
            Ok(std::thread::current().id() == caller)
        })
        .await
        .unwrap();
    assert!(!in_place);
}

async fn a_read_goes_to_a_blocking_thread_when_no_connection_is_idle(db: TestDatabase) {
    let pool = r2d2::Pool::builder()
        .max_size(1)
        .build(ConnectionManager::new(DatabaseUrl::parse(&db.url).unwrap()))
        .unwrap();
    run_migrations(&mut pool.get().unwrap()).unwrap();
    let database = Database::new(pool.clone());
    let held = pool.get().unwrap();
    let release = std::thread::spawn(move || {
        std::thread::sleep(std::time::Duration::from_millis(100));
        drop(held);
    });
    assert!(!read_on_which_thread(&database).await);
    release.join().unwrap();
}

async fn a_read_that_panics_fails_the_request_only(db: TestDatabase) {
    let database = Database::new(pool(&db));
    let result = database
        .read(|_| -> Result<(), crate::error::ApiError> { panic!("a bug in a read") })
        .await;
    assert!(matches!(result, Err(crate::error::ApiError::Unexpected(_))));
    // The worker and the connection are still there for the next request.
    assert!(matches!(
        database
            .read(|conn| -> Result<_, crate::error::ApiError> { Ok(users::find(conn, 1)?) })
            .await,
        Ok(None)
    ));
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

async fn an_album_for_a_missing_artist_is_a_foreign_key_violation(db: TestDatabase) {
    let pool = pool(&db);
    let mut conn = pool.get().unwrap();
    let err = music::create_album(
        &mut conn,
        &AlbumFields {
            artist_id: 999,
            name: "x".into(),
            release_date: NaiveDate::from_ymd_opt(2021, 6, 15).unwrap(),
            num_stars: 1,
        },
    )
    .unwrap_err();
    assert!(StoreError::from(err).is_foreign_key_violation());
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

use diesel::{ExpressionMethods, RunQueryDsl};

crate::on_both_backends!(
    migrations_apply_from_empty_and_twice_is_a_no_op,
    users_are_found_by_username_or_case_insensitive_email,
    users_list_filters_pages_and_counts,
    permissions_come_through_groups_and_superusers_hold_all,
    a_refresh_token_is_claimed_once_and_families_revoke_together,
    a_rotation_links_the_new_pair_and_happens_once,
    a_deactivated_owner_shows_on_the_refresh_token,
    work_waits_for_a_permit_and_never_for_the_pool,
    a_read_runs_in_place_on_sqlite_only,
    a_read_goes_to_a_blocking_thread_when_no_connection_is_idle,
    a_read_that_panics_fails_the_request_only,
    introspection_lookup_sees_expiry_owner_and_client,
    dead_tokens_are_deleted_and_live_refresh_tokens_survive,
    deleting_a_user_cascades_to_applications_tokens_and_albums,
    an_album_for_a_missing_artist_is_a_foreign_key_violation,
    login_failures_count_within_a_window,
);
