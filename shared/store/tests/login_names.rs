//! A login name names at most one account: the checks of `store::login_names`, their behaviour
//! under concurrent writers, and the migration that cleared the clashes earlier versions allowed.

use std::sync::{Arc, Barrier};

use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text};

use store::models::{NewUser, UserChanges};
use store::schema::users as users_table;
use store::users::{self, LoginName, LoginNameClash, UserWriteError};
use store::DbConnection;
use test_support::seed::user_row as new_user;
use test_support::{migrated_pool as pool, TestDatabase};

fn clash_of(result: Result<impl std::fmt::Debug, UserWriteError>) -> Vec<LoginName> {
    match result {
        Err(UserWriteError::Clash(LoginNameClash { taken })) => taken,
        other => panic!("expected a clash, got {other:?}"),
    }
}

fn change(username: Option<&str>, email: Option<&str>) -> UserChanges {
    UserChanges {
        username: username.map(str::to_string),
        email: email.map(str::to_string),
        ..UserChanges::default()
    }
}

async fn a_login_name_may_be_only_one_accounts(db: TestDatabase) {
    let pool = pool(&db);
    let mut conn = pool.get().unwrap();
    let ann = users::create(&mut conn, &new_user("ann", "Ann@Example.com")).unwrap();
    let dave = users::create(&mut conn, &new_user("dave@example.org", "")).unwrap();
    let use_username = LoginName::Username;
    let use_email = LoginName::Email;

    // A username: another's username exactly, or another's e-mail in any case.
    let taken = |c: &mut DbConnection, username: &str, email: &str| {
        clash_of(users::create(c, &new_user(username, email)))
    };
    assert_eq!(taken(&mut conn, "ann", ""), [use_username]);
    assert_eq!(taken(&mut conn, "ann@example.COM", ""), [use_username]);
    // An e-mail: another's e-mail or username, in any case.
    assert_eq!(taken(&mut conn, "bob", "ANN@example.com"), [use_email]);
    assert_eq!(taken(&mut conn, "bob", "Dave@Example.org"), [use_email]);
    assert_eq!(
        taken(&mut conn, "dave@example.org", "ann@example.com"),
        [use_username, use_email]
    );
    // Usernames differ by case; blank e-mails never clash; one's own username may be one's e-mail.
    users::create(&mut conn, &new_user("Ann", "")).unwrap();
    users::create(&mut conn, &new_user("carl", "")).unwrap();
    users::create(&mut conn, &new_user("eve@example.net", "Eve@Example.net")).unwrap();

    // Changing to one's own values, in another case too, is no clash; another's is.
    let own = change(Some("ann"), Some("ann@example.com"));
    let updated = users::update(&mut conn, ann.id, &own).unwrap().unwrap();
    assert_eq!(updated.email, "ann@example.com");
    let grab_email = change(None, Some("ANN@EXAMPLE.COM"));
    assert_eq!(
        clash_of(users::update(&mut conn, dave.id, &grab_email)),
        [use_email]
    );
    let grab_username = change(Some("ann@example.com"), None);
    assert_eq!(
        clash_of(users::update(&mut conn, dave.id, &grab_username)),
        [use_username]
    );
    let stored = users::find(&mut conn, dave.id).unwrap().unwrap();
    assert_eq!(
        (stored.username.as_str(), stored.email.as_str()),
        ("dave@example.org", "")
    );

    // The e-mail lookup of a login finds the one account.
    let found = users::find_by_login(&mut conn, "ANN@example.com")
        .unwrap()
        .unwrap();
    assert_eq!(found.id, ann.id);
}

async fn concurrent_claims_on_one_login_name_leave_it_to_one_account(db: TestDatabase) {
    let pool = pool(&db);
    const WRITERS: usize = 4;
    for round in 0..8 {
        let name = format!("race{round}@example.com");
        let start = Arc::new(Barrier::new(WRITERS));
        let writers: Vec<_> = (0..WRITERS)
            .map(|i| {
                let (pool, name, start) = (pool.clone(), name.clone(), start.clone());
                std::thread::spawn(move || {
                    let mut conn = pool.get().unwrap();
                    // Half claim the name as a username, half as an e-mail in another case.
                    let row = if i % 2 == 0 {
                        new_user(&name, "")
                    } else {
                        new_user(&format!("r{round}w{i}"), &name.to_uppercase())
                    };
                    start.wait();
                    users::create(&mut conn, &row).map(|u| u.id)
                })
            })
            .collect();
        let results: Vec<_> = writers.into_iter().map(|w| w.join().unwrap()).collect();
        let created = results.iter().filter(|r| r.is_ok()).count();
        assert_eq!(created, 1, "round {round}: {results:?}");
        for result in results.into_iter().filter(Result::is_err) {
            clash_of(result);
        }
    }
}

/// One row of `login_name_conflicts`, with the username of its account.
#[derive(Debug, QueryableByName, PartialEq)]
struct Conflict {
    #[diesel(sql_type = Text)]
    username: String,
    #[diesel(sql_type = Text)]
    email: String,
    #[diesel(sql_type = Text)]
    reason: String,
    #[diesel(sql_type = BigInt)]
    found_at: i64,
}

const LOGIN_NAMES_MIGRATION: &str = "20261203000002";

fn emails(conn: &mut DbConnection) -> Vec<(String, String)> {
    users_table::table
        .order(users_table::id)
        .select((users_table::username, users_table::email))
        .load(conn)
        .unwrap()
}

async fn the_login_names_migration_moves_clashing_emails_aside(db: TestDatabase) {
    let pool = pool(&db);
    let mut conn = pool.get().unwrap();
    // Back to the schema before it, where any e-mail could be anyone's.
    while test_support::revert_last_migration(&mut conn) != LOGIN_NAMES_MIGRATION {}
    let rows: Vec<NewUser> = [
        ("ann", "shared@example.com"),
        ("bob", "SHARED@example.com"),
        ("carol@example.com", ""),
        ("dave", "Carol@Example.com"),
        ("erin", "erin@example.com"),
        ("frank@example.com", "Frank@example.com"),
        ("gina", ""),
        ("hal", ""),
        ("ivy", "Shared@Example.com"),
        ("kim@example.com", ""),
        ("lee", "kim@example.com"),
        ("mo", "KIM@example.com"),
    ]
    .iter()
    .map(|(username, email)| new_user(username, email))
    .collect();
    for row in &rows {
        diesel::insert_into(users_table::table)
            .values(row)
            .execute(&mut *conn)
            .unwrap();
    }

    store::run_migrations(&mut conn).unwrap();

    let after = emails(&mut conn);
    let expected = [
        ("ann", "shared@example.com"),
        ("bob", ""),
        ("carol@example.com", ""),
        ("dave", ""),
        ("erin", "erin@example.com"),
        ("frank@example.com", "Frank@example.com"),
        ("gina", ""),
        ("hal", ""),
        ("ivy", ""),
        ("kim@example.com", ""),
        ("lee", ""),
        ("mo", ""),
    ];
    let expected: Vec<(String, String)> = expected
        .iter()
        .map(|(u, e)| (u.to_string(), e.to_string()))
        .collect();
    assert_eq!(after, expected, "every username is kept");
    let conflicts = store::on_concrete_connection!(&mut *conn, |c| diesel::sql_query(
        "SELECT u.username, c.email, c.reason, c.found_at FROM login_name_conflicts c \
         JOIN users u ON u.id = c.user_id ORDER BY c.id"
    )
    .load::<Conflict>(c))
    .unwrap();
    let summary: Vec<(&str, &str, &str)> = conflicts
        .iter()
        .map(|c| (c.username.as_str(), c.email.as_str(), c.reason.as_str()))
        .collect();
    assert_eq!(
        summary,
        [
            ("dave", "Carol@Example.com", "username_of_another_user"),
            ("lee", "kim@example.com", "username_of_another_user"),
            ("mo", "KIM@example.com", "username_of_another_user"),
            ("bob", "SHARED@example.com", "email_of_another_user"),
            ("ivy", "Shared@Example.com", "email_of_another_user"),
        ]
    );
    let now = oauth_core::time::now();
    assert!(conflicts.iter().all(|c| (now - c.found_at).abs() < 600));

    // Each login now names one account, and the database refuses a second owner of an e-mail.
    for (login, owner) in [
        ("SHARED@example.com", "ann"),
        ("carol@example.com", "carol@example.com"),
        ("kim@example.com", "kim@example.com"),
        ("frank@example.com", "frank@example.com"),
    ] {
        let found = users::find_by_login(&mut conn, login).unwrap().unwrap();
        assert_eq!(found.username, owner, "{login}");
    }
    let again = diesel::insert_into(users_table::table)
        .values(&new_user("zed", "ERIN@example.com"))
        .execute(&mut *conn)
        .unwrap_err();
    assert!(store::StoreError::from(again).is_unique_violation());

    // Reverting hands the e-mails back (the later migrations are reverted first); migrating
    // again takes them off again.
    while test_support::revert_last_migration(&mut conn) != LOGIN_NAMES_MIGRATION {}
    let restored = emails(&mut conn);
    assert_eq!(restored[1], ("bob".into(), "SHARED@example.com".into()));
    assert_eq!(restored[3], ("dave".into(), "Carol@Example.com".into()));
    store::run_migrations(&mut conn).unwrap();
    assert_eq!(emails(&mut conn), expected);
}

test_support::on_both_backends!(
    a_login_name_may_be_only_one_accounts,
    concurrent_claims_on_one_login_name_leave_it_to_one_account,
    the_login_names_migration_moves_clashing_emails_aside,
);
