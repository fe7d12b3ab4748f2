//! The store's queries and its executor, run against a fresh database on each backend.

use chrono::NaiveDate;

use store::models::*;
use store::page::Window;
use store::*;
use test_support::seed::user_row as new_user;
use test_support::{migrated_pool as pool, TestDatabase};

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
    assert!(matches!(dup, users::UserWriteError::Clash(_)), "{dup:?}");
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

async fn work_waits_for_a_permit_and_never_for_the_pool(db: TestDatabase) {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;

    // Two connections and a pool that gives up at once: forty tasks only pass if they queue for
    // the permits rather than for the pool. The pool opens its two connections in the background
    // and the test waits for them, since opening one may take longer than 50 ms on a busy machine.
    let pool = r2d2::Pool::builder()
        .max_size(2)
        .connection_timeout(std::time::Duration::from_millis(50))
        .build_unchecked(ConnectionManager::new(DatabaseUrl::parse(&db.url).unwrap()));
    let opening = std::time::Instant::now();
    while pool.state().idle_connections < 2 {
        assert!(
            opening.elapsed() < std::time::Duration::from_secs(30),
            "the pool opened {} of its 2 connections in 30 s",
            pool.state().idle_connections
        );
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    run_migrations(&mut pool.get().unwrap()).unwrap();
    let database = Database::new(pool);
    let (running, most) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let tasks: Vec<_> = (0..40)
        .map(|i| {
            let (running, most) = (running.clone(), most.clone());
            let database = database.clone();
            actix_web::rt::spawn(async move {
                database
                    .run(move |conn| -> Result<i64, StoreError> {
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
        .read(move |conn| -> Result<bool, StoreError> {
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
        .run(move |_| -> Result<bool, StoreError> { Ok(std::thread::current().id() == caller) })
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
        .read(|_| -> Result<(), StoreError> { panic!("a bug in a read") })
        .await;
    assert!(matches!(result, Err(StoreError::Panicked)));
    // The worker and the connection are still there for the next request.
    assert!(matches!(
        database
            .read(|conn| -> Result<_, StoreError> { users::find(conn, 1) })
            .await,
        Ok(None)
    ));
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
    assert!(err.is_foreign_key_violation());
}

test_support::on_both_backends!(
    migrations_apply_from_empty_and_twice_is_a_no_op,
    users_are_found_by_username_or_case_insensitive_email,
    users_list_filters_pages_and_counts,
    permissions_come_through_groups_and_superusers_hold_all,
    work_waits_for_a_permit_and_never_for_the_pool,
    a_read_runs_in_place_on_sqlite_only,
    a_read_goes_to_a_blocking_thread_when_no_connection_is_idle,
    a_read_that_panics_fails_the_request_only,
    an_album_for_a_missing_artist_is_a_foreign_key_violation,
);
