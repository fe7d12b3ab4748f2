//! The signing keys' rows: one first key however many processes race for it, rotation retiring the
//! others, an order every replica agrees on, and the deletion of keys nothing needs any more.
//! The store does not read the PEM, so these rows hold placeholders.

use std::sync::{Arc, Barrier};

use auth_store::models::NewSigningKey;
use auth_store::signing_keys;
use test_support::{migrated_pool as pool, TestDatabase};

fn key(kid: &str, created_at: i64) -> NewSigningKey {
    NewSigningKey {
        kid: kid.into(),
        private_key_pem: format!("placeholder for {kid}"),
        created_at,
    }
}

fn rows(conn: &mut store::DbConnection) -> Vec<(String, i64, Option<i64>)> {
    signing_keys::list(conn)
        .unwrap()
        .into_iter()
        .map(|k| (k.kid, k.created_at, k.retired_at))
        .collect()
}

async fn racing_processes_store_one_first_key(db: TestDatabase) {
    assert!(signing_keys::is_empty(&mut pool(&db).get().unwrap()).unwrap());
    // A connection of its own for each, as replicas have.
    let start = Arc::new(Barrier::new(4));
    let threads: Vec<_> = (0..4)
        .map(|i| {
            let (mut conn, start) = (
                store::connect(&db.url, 1).unwrap().get().unwrap(),
                start.clone(),
            );
            std::thread::spawn(move || {
                start.wait();
                signing_keys::insert_first(&mut conn, &key(&format!("k{i}"), 100)).unwrap()
            })
        })
        .collect();
    let stored: Vec<bool> = threads.into_iter().map(|t| t.join().unwrap()).collect();
    assert_eq!(stored.iter().filter(|s| **s).count(), 1, "{stored:?}");
    let mut conn = pool(&db).get().unwrap();
    assert_eq!(signing_keys::list(&mut conn).unwrap().len(), 1);
    assert!(!signing_keys::is_empty(&mut conn).unwrap());
    assert!(!signing_keys::insert_first(&mut conn, &key("late", 200)).unwrap());
    // A key stored again (a test's server restarted on its database) is no error either.
    let first = signing_keys::list(&mut conn).unwrap().remove(0);
    assert!(!signing_keys::insert_first(&mut conn, &key(&first.kid, 300)).unwrap());
}

async fn rotation_retires_every_other_key_and_lists_keys_as_added(db: TestDatabase) {
    let pool = pool(&db);
    let mut conn = pool.get().unwrap();
    signing_keys::insert_first(&mut conn, &key("zz-first", 100)).unwrap();
    // Two rotations in the first key's second: kids sort the other way round on purpose.
    assert_eq!(
        signing_keys::rotate(&mut conn, &key("mm-second", 100)).unwrap(),
        1
    );
    assert_eq!(
        signing_keys::rotate(&mut conn, &key("aa-third", 100)).unwrap(),
        1
    );
    assert_eq!(
        rows(&mut conn),
        [
            ("zz-first".to_string(), 100, Some(100)),
            ("mm-second".to_string(), 100, Some(100)),
            ("aa-third".to_string(), 100, None),
        ]
    );
    assert_eq!(
        signing_keys::rotate(&mut conn, &key("b-fourth", 150)).unwrap(),
        1
    );
    assert_eq!(
        rows(&mut conn)[2..],
        [
            ("aa-third".to_string(), 100, Some(150)),
            ("b-fourth".to_string(), 150, None),
        ]
    );
}

async fn only_keys_retired_by_the_cutoff_are_deleted(db: TestDatabase) {
    let pool = pool(&db);
    let mut conn = pool.get().unwrap();
    signing_keys::insert_first(&mut conn, &key("a", 100)).unwrap();
    signing_keys::rotate(&mut conn, &key("b", 200)).unwrap();
    signing_keys::rotate(&mut conn, &key("c", 300)).unwrap();
    assert_eq!(signing_keys::delete_retired_by(&mut conn, 199).unwrap(), 0);
    assert_eq!(signing_keys::delete_retired_by(&mut conn, 200).unwrap(), 1);
    // The current key is never retired, so never deleted, however late the cutoff.
    assert_eq!(
        signing_keys::delete_retired_by(&mut conn, i64::MAX).unwrap(),
        1
    );
    assert_eq!(rows(&mut conn), [("c".to_string(), 300, None)]);
}

test_support::on_both_backends!(
    racing_processes_store_one_first_key,
    rotation_retires_every_other_key_and_lists_keys_as_added,
    only_keys_retired_by_the_cutoff_are_deleted,
);
