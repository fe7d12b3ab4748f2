//! The auth server's queries, run against a fresh database on each backend.

use auth_store::models::*;
use auth_store::{applications, login_failures, tokens, TokenHash};
use chrono::NaiveDate;
use diesel::{Connection, ExpressionMethods, NullableExpressionMethods, QueryDsl, RunQueryDsl};
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
        redirect_uris: String::new(),
        post_logout_redirect_uris: String::new(),
        skip_consent: false,
    }
}

/// The stored hash of the token `token`.
/// A client with its owner, and the same client under an id no client has: a row written for
/// that one fails its foreign key, as it would for a client deleted meanwhile.
fn client_and_a_gone_one(conn: &mut DbConnection, owner: &str) -> (User, Application, Application) {
    let user = users::create(conn, &new_user(owner, "")).unwrap();
    let app = applications::create(conn, &new_app(user.id, "client-1")).unwrap();
    let gone = Application {
        id: app.id + 1000,
        ..app.clone()
    };
    (user, app, gone)
}

fn h(token: &str) -> TokenHash {
    TokenHash::of(token)
}

fn access(app: &Application, user: Option<i32>, token: &str, expires_at: i64) -> NewAccessToken {
    NewAccessToken {
        token_hash: h(token),
        application_id: app.id,
        user_id: user,
        scope: "read".into(),
        issued_at: 0,
        expires_at,
        credentials_version: 0,
    }
}

/// Stores the family row a refresh token of family `id` needs.
fn family(conn: &mut DbConnection, app: &Application, user: i32, id: &str, expires_at: i64) {
    tokens::insert_grant(
        conn,
        &access(app, Some(user), &format!("grant-{id}"), expires_at),
        Some((
            &TokenFamily {
                id: id.into(),
                application_id: app.id,
                user_id: user,
                credentials_version: 0,
                current_hash: None,
                created_at: 0,
                expires_at,
                revoked_at: None,
            },
            &refresh(app, user, None, &format!("first-{id}"), id),
        )),
    )
    .unwrap();
}

fn refresh(
    app: &Application,
    user: i32,
    access: Option<TokenHash>,
    token: &str,
    family: &str,
) -> NewRefreshToken {
    NewRefreshToken {
        token_hash: h(token),
        access_token_hash: access,
        application_id: app.id,
        user_id: user,
        family_id: family.into(),
        scope: "read".into(),
        issued_at: 0,
        expires_at: 1000,
    }
}

async fn a_family_is_claimed_once_and_revokes_together(db: TestDatabase) {
    let pool = pool(&db);
    let mut conn = pool.get().unwrap();
    let user = users::create(&mut conn, &new_user("tue", "")).unwrap();
    let app = applications::create(&mut conn, &new_app(user.id, "client-1")).unwrap();
    family(&mut conn, &app, user.id, "fam", 1000);
    let a2 = tokens::insert_access(&mut conn, &access(&app, Some(user.id), "a2", 1000)).unwrap();
    tokens::insert_refresh(
        &mut conn,
        &refresh(&app, user.id, Some(a2.token_hash), "r2", "fam"),
    )
    .unwrap();

    // The first token is current: one claim moves the family on to r2, and only one.
    assert!(tokens::claim_family(&mut conn, "fam", &h("first-fam"), &h("r2"), 10).unwrap());
    assert!(!tokens::claim_family(&mut conn, "fam", &h("first-fam"), &h("r3"), 11).unwrap());
    let used = tokens::find_refresh_grant(&mut conn, &h("first-fam"))
        .unwrap()
        .unwrap();
    assert!(!used.is_current());
    assert!(tokens::find_refresh_grant(&mut conn, &h("r2"))
        .unwrap()
        .unwrap()
        .is_current());

    assert!(tokens::find_active_access(&mut conn, &h("a2"), 10)
        .unwrap()
        .is_some());
    assert!(tokens::revoke_family(&mut conn, "fam", 12).unwrap());
    for gone in ["grant-fam", "a2"] {
        assert!(tokens::find_active_access(&mut conn, &h(gone), 12)
            .unwrap()
            .is_none());
    }
    let r2 = tokens::find_refresh_grant(&mut conn, &h("r2"))
        .unwrap()
        .unwrap();
    assert_eq!(r2.token.revoked_at, Some(12));
    assert!(!r2.is_current());
    // A revoked family cannot be claimed.
    assert!(!tokens::claim_family(&mut conn, "fam", &h("r2"), &h("r4"), 13).unwrap());
}

async fn a_rotation_links_the_new_pair_and_happens_once(db: TestDatabase) {
    let pool = pool(&db);
    let mut conn = pool.get().unwrap();
    let user = users::create(&mut conn, &new_user("wed", "")).unwrap();
    let app = applications::create(&mut conn, &new_app(user.id, "client-1")).unwrap();
    family(&mut conn, &app, user.id, "fam", 1000);
    let r1 = tokens::find_refresh_by_hash(&mut conn, &h("first-fam"))
        .unwrap()
        .unwrap();
    let next_refresh = refresh(&app, user.id, None, "r2", "fam");
    let next_access = access(&app, Some(user.id), "a2", 2000);

    assert!(tokens::rotate_refresh(&mut conn, &r1, 20, &next_access, &next_refresh).unwrap());

    let old = tokens::find_refresh_grant(&mut conn, &h("first-fam"))
        .unwrap()
        .unwrap();
    assert!(!old.is_current());
    assert!(old.owner_current());
    assert_eq!(
        tokens::find_access_by_hash(&mut conn, &h("grant-fam"))
            .unwrap()
            .unwrap()
            .revoked_at,
        Some(20)
    );
    let a2 = tokens::find_active_access(&mut conn, &h("a2"), 20)
        .unwrap()
        .expect("the new access token is live");
    assert_eq!(a2.token.expires_at, 2000);
    assert_eq!(a2.user, Some((user.id, "wed".into())));
    let r2 = tokens::find_refresh_by_hash(&mut conn, &h("r2"))
        .unwrap()
        .unwrap();
    assert_eq!(r2.access_token_hash, Some(a2.token.token_hash));
    assert_eq!((r2.family_id.as_str(), r2.revoked_at), ("fam", None));

    // The old token is used up: a second rotation writes nothing.
    let before = test_support::row_counts(&pool);
    let again = refresh(&app, user.id, None, "r3", "fam");
    let again_access = access(&app, Some(user.id), "a3", 2000);
    assert!(!tokens::rotate_refresh(&mut conn, &r1, 21, &again_access, &again).unwrap());
    assert_eq!(test_support::row_counts(&pool), before);
    assert!(tokens::find_access_by_hash(&mut conn, &h("a3"))
        .unwrap()
        .is_none());
}

/// Group commit: a batch goes in as one statement, and a row that cannot be stored (its client
/// was deleted) fails alone while the others are stored.
async fn a_batch_of_access_tokens_is_stored_and_a_bad_row_fails_alone(db: TestDatabase) {
    let pool = pool(&db);
    let mut conn = pool.get().unwrap();
    let (_owner, app, gone) = client_and_a_gone_one(&mut conn, "thu");
    let good: Vec<_> = (0..3)
        .map(|i| access(&app, None, &format!("b{i}"), 2000))
        .collect();
    assert!(tokens::insert_access_batch(&mut conn, &good)
        .iter()
        .all(Result::is_ok));

    let mixed = [
        access(&app, None, "m0", 2000),
        access(&gone, None, "m1", 2000),
        access(&app, None, "m2", 2000),
    ];
    let results = tokens::insert_access_batch(&mut conn, &mixed);
    assert!(results[0].is_ok() && results[2].is_ok(), "{results:?}");
    assert!(results[1]
        .as_ref()
        .is_err_and(StoreError::is_foreign_key_violation));
    for (hash, stored) in [
        ("b0", true),
        ("b1", true),
        ("b2", true),
        ("m0", true),
        ("m1", false),
        ("m2", true),
    ] {
        let found = tokens::find_active_access(&mut conn, &h(hash), 1000).unwrap();
        assert_eq!(found.is_some(), stored, "{hash}");
    }
}

/// A batch of rotations in one transaction: of two refreshes of one token in the same batch
/// exactly one wins, and the other family's rotation is not disturbed.
async fn a_batch_of_rotations_has_one_winner_per_token(db: TestDatabase) {
    let pool = pool(&db);
    let mut conn = pool.get().unwrap();
    let user = users::create(&mut conn, &new_user("fri", "")).unwrap();
    let app = applications::create(&mut conn, &new_app(user.id, "client-1")).unwrap();
    family(&mut conn, &app, user.id, "fam-b", 1000);
    family(&mut conn, &app, user.id, "fam-a", 1000);
    let rotation = |old: &str, family: &str, new: &str| {
        let next = refresh(&app, user.id, None, &format!("r-{new}"), family);
        tokens::Rotation {
            old: tokens::find_refresh_by_hash(&mut pool.get().unwrap(), &h(old))
                .unwrap()
                .unwrap(),
            at: 20,
            access: access(&app, Some(user.id), &format!("a-{new}"), 2000),
            refresh: next,
        }
    };
    let batch = [
        rotation("first-fam-b", "fam-b", "x"),
        rotation("first-fam-a", "fam-a", "z"),
        rotation("first-fam-b", "fam-b", "y"),
    ];
    // Together, as one statement on PostgreSQL: not each alone after a failure.
    let won = tokens::rotate_refresh_together(&mut conn, &batch).unwrap();
    assert!(won[1], "{won:?}");
    assert!(
        won[0] ^ won[2],
        "exactly one refresh of one token wins: {won:?}"
    );
    let (winner, loser) = if won[0] { ("x", "y") } else { ("y", "x") };
    for (new, stored) in [(winner, true), (loser, false), ("z", true)] {
        let access = tokens::find_active_access(&mut conn, &h(&format!("a-{new}")), 20).unwrap();
        assert_eq!(access.is_some(), stored, "a-{new}");
        let refresh = tokens::find_refresh_grant(&mut conn, &h(&format!("r-{new}"))).unwrap();
        assert_eq!(refresh.is_some_and(|r| r.is_current()), stored, "r-{new}");
    }
}

/// What each rotation of a batch writes: the winner's old access token is revoked and its new
/// pair stored, and a rotation of a revoked family writes nothing, all in the one statement
/// (PostgreSQL) or transaction (SQLite). A row that cannot be stored (its client is gone) makes
/// the batch fail as a whole; then it fails alone, and the others' rotations are still made.
async fn a_batch_of_rotations_revokes_inserts_and_fails_per_row(db: TestDatabase) {
    let pool = pool(&db);
    let mut conn = pool.get().unwrap();
    let (user, app, gone) = client_and_a_gone_one(&mut conn, "sun");
    for id in ["fam-1", "fam-2", "fam-3", "fam-4"] {
        family(&mut conn, &app, user.id, id, 1000);
    }
    tokens::revoke_family(&mut conn, "fam-2", 5).unwrap();
    let mut current = |family: &str| {
        let mut token = tokens::find_refresh_by_hash(&mut conn, &h(&format!("first-{family}")))
            .unwrap()
            .unwrap();
        // As if issued with the family's first access token, which its rotation revokes.
        token.access_token_hash = Some(h(&format!("grant-{family}")));
        token
    };
    let rotation = |old: RefreshToken, new: &str, client: &Application| tokens::Rotation {
        access: access(client, Some(user.id), &format!("a-{new}"), 2000),
        refresh: refresh(&app, user.id, None, &format!("r-{new}"), &old.family_id),
        old,
        at: 20,
    };
    let together = [
        rotation(current("fam-2"), "2", &app),
        rotation(current("fam-1"), "1", &app),
    ];
    let failing = [
        rotation(current("fam-3"), "3", &gone),
        rotation(current("fam-4"), "4", &app),
    ];

    let won = tokens::rotate_refresh_together(&mut conn, &together).unwrap();
    assert_eq!(won, [false, true]);
    let results = tokens::rotate_refresh_batch(&mut conn, &failing);
    assert!(
        results[0]
            .as_ref()
            .is_err_and(StoreError::is_foreign_key_violation),
        "{results:?}"
    );
    assert!(matches!(results[1], Ok(true)), "{results:?}");

    for (family, rotated) in [("1", true), ("2", false), ("3", false), ("4", true)] {
        let old_access =
            tokens::find_active_access(&mut conn, &h(&format!("grant-fam-{family}")), 20).unwrap();
        // fam-2's went with its revocation.
        assert_eq!(
            old_access.is_some(),
            !rotated && family != "2",
            "grant-fam-{family}"
        );
        let access = tokens::find_active_access(&mut conn, &h(&format!("a-{family}")), 20).unwrap();
        assert_eq!(access.is_some(), rotated, "a-{family}");
        let new = tokens::find_refresh_grant(&mut conn, &h(&format!("r-{family}"))).unwrap();
        assert_eq!(new.is_some_and(|g| g.is_current()), rotated, "r-{family}");
        let first = tokens::find_refresh_grant(&mut conn, &h(&format!("first-fam-{family}")))
            .unwrap()
            .unwrap();
        assert_eq!(first.is_current(), family == "3", "first-fam-{family}");
    }
}

/// A large batch is all or none: a row that cannot be stored, the last to be claimed, undoes
/// the rotations claimed before it; without it, every rotation is made, a repeated token's once.
async fn a_batch_larger_than_a_statement_is_all_or_none(db: TestDatabase) {
    let pool = pool(&db);
    let mut conn = pool.get().unwrap();
    let (user, app, gone) = client_and_a_gone_one(&mut conn, "mon");
    let ids: Vec<String> = (0..40).map(|i| format!("fam-{i:02}")).collect();
    for id in &ids {
        family(&mut conn, &app, user.id, id, 1000);
    }
    let rotation =
        |conn: &mut DbConnection, id: &str, new: &str, client: &Application| tokens::Rotation {
            old: tokens::find_refresh_by_hash(conn, &h(&format!("first-{id}")))
                .unwrap()
                .unwrap(),
            at: 20,
            access: access(client, Some(user.id), &format!("a-{new}"), 2000),
            refresh: refresh(&app, user.id, None, &format!("r-{new}"), id),
        };
    let mut batch: Vec<_> = ids
        .iter()
        .map(|id| rotation(&mut conn, id, id, &app))
        .collect();
    // The last family by id, the last to be claimed, names a client that does not exist.
    batch[39] = rotation(&mut conn, &ids[39], &ids[39], &gone);
    assert!(tokens::rotate_refresh_together(&mut conn, &batch)
        .is_err_and(|e| e.is_foreign_key_violation()));
    for id in &ids {
        let first = tokens::find_refresh_grant(&mut conn, &h(&format!("first-{id}")))
            .unwrap()
            .unwrap();
        assert!(first.is_current(), "{id} was rotated by a failed batch");
    }

    batch[39] = rotation(&mut conn, &ids[39], &ids[39], &app);
    // fam-05's token a second time, as two concurrent refreshes would send it.
    batch.push(rotation(&mut conn, &ids[5], "again", &app));
    let won = tokens::rotate_refresh_together(&mut conn, &batch).unwrap();
    assert_eq!(won.iter().filter(|&&w| w).count(), 40, "{won:?}");
    assert!(won[5] ^ won[40], "{won:?}");
    for id in &ids[..39] {
        let new = tokens::find_refresh_grant(&mut conn, &h(&format!("r-{id}"))).unwrap();
        assert_eq!(new.is_some_and(|g| g.is_current()), id != &ids[5] || won[5]);
        assert!(
            tokens::find_active_access(&mut conn, &h(&format!("grant-{id}")), 20)
                .unwrap()
                .is_none()
        );
    }
}

/// The batcher itself: many concurrent writes, each answered with its own result once
/// committed, however they were grouped.
async fn concurrent_writes_through_the_batcher_are_each_answered(db: TestDatabase) {
    let pool = pool(&db);
    let mut conn = pool.get().unwrap();
    let (_owner, app, gone) = client_and_a_gone_one(&mut conn, "sat");
    let batcher = std::sync::Arc::new(batch::Batcher::new(
        Database::new(pool.clone()),
        "access_tokens",
        tokens::insert_access_batch,
    ));
    let writes: Vec<_> = (0..200)
        .map(|i| {
            let batcher = batcher.clone();
            // Every tenth row names a client that does not exist.
            let row = access(
                if i % 10 == 3 { &gone } else { &app },
                None,
                &format!("c{i}"),
                2000,
            );
            actix_web::rt::spawn(async move { batcher.write(row).await })
        })
        .collect();
    for (i, write) in writes.into_iter().enumerate() {
        let result = write.await.unwrap();
        assert_eq!(result.is_ok(), i % 10 != 3, "write {i}: {result:?}");
        let stored = tokens::find_active_access(&mut conn, &h(&format!("c{i}")), 1000).unwrap();
        assert_eq!(stored.is_some(), i % 10 != 3, "row {i}");
    }
}

async fn a_deactivated_owner_shows_on_the_refresh_token(db: TestDatabase) {
    let pool = pool(&db);
    let mut conn = pool.get().unwrap();
    let mut gone = new_user("thu", "");
    gone.is_active = false;
    let user = users::create(&mut conn, &gone).unwrap();
    let app = applications::create(&mut conn, &new_app(user.id, "client-1")).unwrap();
    family(&mut conn, &app, user.id, "fam", 1000);
    let grant = tokens::find_refresh_grant(&mut conn, &h("first-fam"))
        .unwrap()
        .unwrap();
    assert!(!grant.owner_active);
    assert!(!grant.owner_current());
    assert!(tokens::find_refresh_grant(&mut conn, &h("nope"))
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

    let live = tokens::find_active_access(&mut conn, &h("live"), 50)
        .unwrap()
        .unwrap();
    assert_eq!(live.client_id, "client-1");
    assert_eq!(live.user, Some((user.id, "tue".to_string())));
    assert_eq!(
        tokens::find_active_access(&mut conn, &h("machine"), 50)
            .unwrap()
            .unwrap()
            .user,
        None
    );
    assert!(tokens::find_active_access(&mut conn, &h("live"), 100)
        .unwrap()
        .is_none());

    diesel::update(schema::users::table)
        .set(schema::users::is_active.eq(false))
        .execute(&mut conn)
        .unwrap();
    assert!(tokens::find_active_access(&mut conn, &h("live"), 50)
        .unwrap()
        .is_none());
}

async fn dead_tokens_are_deleted_and_live_refresh_tokens_survive(db: TestDatabase) {
    let pool = pool(&db);
    let mut conn = pool.get().unwrap();
    let user = users::create(&mut conn, &new_user("tue", "")).unwrap();
    let app = applications::create(&mut conn, &new_app(user.id, "client-1")).unwrap();
    family(&mut conn, &app, user.id, "f", 500);
    let old = tokens::insert_access(&mut conn, &access(&app, Some(user.id), "old", 10)).unwrap();
    tokens::insert_refresh(
        &mut conn,
        &refresh(&app, user.id, Some(old.token_hash), "r-live", "f"),
    )
    .unwrap();
    tokens::insert_access(&mut conn, &access(&app, Some(user.id), "fresh", 500)).unwrap();

    let cleared = tokens::delete_dead(&mut conn, 20).unwrap();
    assert_eq!(
        cleared,
        tokens::Cleared {
            access_tokens: 1,
            refresh_tokens: 0
        }
    );
    let r = tokens::find_refresh_by_hash(&mut conn, &h("r-live"))
        .unwrap()
        .unwrap();
    // Its link names the deleted access token, which nothing can bring back.
    assert_eq!(r.access_token_hash, Some(h("old")));
    assert!(tokens::find_access_by_hash(&mut conn, &h("old"))
        .unwrap()
        .is_none());
    assert!(tokens::find_access_by_hash(&mut conn, &h("fresh"))
        .unwrap()
        .is_some());
}

/// RFC 9700 §4.14.2 for the family's whole life: a used refresh token is kept, however long ago
/// it was used, until its family was revoked or reached its lifetime.
async fn used_refresh_tokens_stay_as_long_as_their_family(db: TestDatabase) {
    let pool = pool(&db);
    let mut conn = pool.get().unwrap();
    let user = users::create(&mut conn, &new_user("tue", "")).unwrap();
    let app = applications::create(&mut conn, &new_app(user.id, "client-1")).unwrap();
    family(&mut conn, &app, user.id, "long", 10_000);
    family(&mut conn, &app, user.id, "ended", 10_000);
    family(&mut conn, &app, user.id, "short", 100);
    let used = tokens::find_refresh_by_hash(&mut conn, &h("first-long"))
        .unwrap()
        .unwrap();
    assert!(
        tokens::claim_family(&mut conn, "long", &used.token_hash, &h("next-long"), 10).unwrap()
    );
    assert!(tokens::revoke_family(&mut conn, "ended", 10).unwrap());
    assert!(!tokens::revoke_family(&mut conn, "ended", 11).unwrap());

    // Long past any retention of the used token: it is still there to be recognised.
    let cleared = tokens::delete_dead(&mut conn, 5_000).unwrap();
    assert_eq!(cleared.refresh_tokens, 2, "the ended and the short family");
    let kept = tokens::find_refresh_grant(&mut conn, &h("first-long"))
        .unwrap()
        .expect("a used token of a live family is kept");
    assert!(!kept.is_current());
    for gone in ["first-ended", "first-short"] {
        assert!(tokens::find_refresh_grant(&mut conn, &h(gone))
            .unwrap()
            .is_none());
    }
}

/// A family's lifetime is absolute: past it, its live refresh token can no longer be claimed.
async fn a_family_past_its_lifetime_cannot_rotate(db: TestDatabase) {
    let pool = pool(&db);
    let mut conn = pool.get().unwrap();
    let user = users::create(&mut conn, &new_user("tue", "")).unwrap();
    let app = applications::create(&mut conn, &new_app(user.id, "client-1")).unwrap();
    family(&mut conn, &app, user.id, "f", 100);
    let live = tokens::find_refresh_by_hash(&mut conn, &h("first-f"))
        .unwrap()
        .unwrap();
    let before = test_support::row_counts(&pool);
    let next = refresh(&app, user.id, None, "next", "f");
    let next_access = access(&app, Some(user.id), "next-a", 2000);
    assert!(!tokens::rotate_refresh(&mut conn, &live, 100, &next_access, &next).unwrap());
    assert_eq!(test_support::row_counts(&pool), before);
    assert!(tokens::rotate_refresh(&mut conn, &live, 99, &next_access, &next).unwrap());
}

/// An access token issued under an older credentials version stands for nobody.
async fn a_credential_change_ends_access_tokens_issued_before_it(db: TestDatabase) {
    let pool = pool(&db);
    let mut conn = pool.get().unwrap();
    let user = users::create(&mut conn, &new_user("tue", "")).unwrap();
    let app = applications::create(&mut conn, &new_app(user.id, "client-1")).unwrap();
    tokens::insert_access(&mut conn, &access(&app, Some(user.id), "before", 100)).unwrap();
    let changed = users::update(
        &mut conn,
        user.id,
        &UserChanges {
            password_hash: Some("another hash".into()),
            ..Default::default()
        },
    )
    .unwrap()
    .unwrap();
    assert_eq!(changed.credentials_version, user.credentials_version + 1);
    let mut after = access(&app, Some(user.id), "after", 100);
    after.credentials_version = changed.credentials_version;
    tokens::insert_access(&mut conn, &after).unwrap();
    assert!(tokens::find_active_access(&mut conn, &h("before"), 50)
        .unwrap()
        .is_none());
    assert!(tokens::find_active_access(&mut conn, &h("after"), 50)
        .unwrap()
        .is_some());

    // Other changes leave sessions alone; deactivation ends them, and activation does not
    // bring them back.
    let renamed = users::update(
        &mut conn,
        user.id,
        &UserChanges {
            first_name: Some("Tue".into()),
            ..Default::default()
        },
    )
    .unwrap()
    .unwrap();
    assert_eq!(renamed.credentials_version, changed.credentials_version);
    users::set_active(&mut conn, "tue", false).unwrap().unwrap();
    let back = users::set_active(&mut conn, "tue", true).unwrap().unwrap();
    assert_eq!(back.credentials_version, changed.credentials_version + 1);
    assert!(tokens::find_active_access(&mut conn, &h("after"), 50)
        .unwrap()
        .is_none());
}

/// Rotation and revocation of one family, hammered in parallel: whichever wins each race, once
/// the revocation returns no token of the family is live. Without the family lock a rotation
/// committing between revocation's statements (or, on PostgreSQL, outside its snapshot) leaves a
/// live token behind.
async fn revocation_is_atomic_against_rotation(db: TestDatabase) {
    const ROUNDS: usize = 100;
    let pool = pool(&db);
    let user = users::create(&mut pool.get().unwrap(), &new_user("tue", "")).unwrap();
    let app =
        applications::create(&mut pool.get().unwrap(), &new_app(user.id, "client-1")).unwrap();
    for round in 0..ROUNDS {
        let fam = format!("family-{round}");
        family(&mut pool.get().unwrap(), &app, user.id, &fam, 1_000_000);
        let rotator = {
            let (pool, app, fam) = (pool.clone(), app.clone(), fam.clone());
            std::thread::spawn(move || {
                let mut conn = pool.get().unwrap();
                let mut current =
                    tokens::find_refresh_by_hash(&mut conn, &h(&format!("first-{fam}")))
                        .unwrap()
                        .unwrap();
                for step in 0..50 {
                    let hash = format!("{fam}-r{step}");
                    let next = refresh(&app, user.id, None, &hash, &fam);
                    let next_access = access(&app, Some(user.id), &format!("{fam}-a{step}"), 2000);
                    let rotated =
                        tokens::rotate_refresh(&mut conn, &current, 10, &next_access, &next)
                            .unwrap();
                    if !rotated {
                        return;
                    }
                    current = tokens::find_refresh_by_hash(&mut conn, &h(&hash))
                        .unwrap()
                        .unwrap();
                }
            })
        };
        let revoker = {
            let (pool, fam) = (pool.clone(), fam.clone());
            std::thread::spawn(move || {
                let mut conn = pool.get().unwrap();
                // A different moment each round, so that the revocation lands early, late and
                // in the middle of rotations.
                std::thread::sleep(std::time::Duration::from_micros((round as u64 % 40) * 50));
                tokens::revoke_family(&mut conn, &fam, 20).unwrap();
            })
        };
        revoker.join().unwrap();
        rotator.join().unwrap();

        let mut conn = pool.get().unwrap();
        let live_refresh: i64 = auth_store::schema::refresh_tokens::table
            .filter(auth_store::schema::refresh_tokens::family_id.eq(&fam))
            .filter(auth_store::schema::refresh_tokens::revoked_at.is_null())
            .count()
            .get_result(&mut conn)
            .unwrap();
        let family_access = auth_store::schema::refresh_tokens::table
            .filter(auth_store::schema::refresh_tokens::family_id.eq(&fam))
            .select(auth_store::schema::refresh_tokens::access_token_hash.assume_not_null());
        let live_access: i64 = auth_store::schema::access_tokens::table
            .filter(auth_store::schema::access_tokens::token_hash.eq_any(family_access))
            .filter(auth_store::schema::access_tokens::revoked_at.is_null())
            .count()
            .get_result(&mut conn)
            .unwrap();
        assert_eq!((live_refresh, live_access), (0, 0), "round {round}");
    }
}

/// Small batches: every batch but the last is full, the families' refresh tokens are counted
/// with their family, and a token between two batches' ranges is neither missed nor counted twice.
async fn clean_up_in_small_batches_deletes_and_counts_every_dead_row(db: TestDatabase) {
    let pool = pool(&db);
    let mut conn = pool.get().unwrap();
    let user = users::create(&mut conn, &new_user("tue", "")).unwrap();
    let app = applications::create(&mut conn, &new_app(user.id, "client-1")).unwrap();
    for i in 0..7 {
        // Dead families (100 is past the cutoff), each with its first and a second refresh token.
        family(&mut conn, &app, user.id, &format!("dead-{i}"), 100);
        let second = refresh(
            &app,
            user.id,
            None,
            &format!("second-{i}"),
            &format!("dead-{i}"),
        );
        tokens::insert_refresh(&mut conn, &second).unwrap();
    }
    family(&mut conn, &app, user.id, "live", 10_000);
    for i in 0..9 {
        let expires_at = if i % 3 == 0 { 10_000 } else { 100 };
        tokens::insert_access(
            &mut conn,
            &access(&app, None, &format!("a-{i}"), expires_at),
        )
        .unwrap();
    }

    let cleared = tokens::delete_dead_in_batches(&mut conn, 200, 2).unwrap();
    // 6 of the 9 access tokens and the 7 grants' access tokens, issued with the dead families.
    assert_eq!(
        cleared,
        tokens::Cleared {
            access_tokens: 6 + 7,
            refresh_tokens: 7 * 2
        }
    );
    assert!(tokens::find_refresh_grant(&mut conn, &h("first-live"))
        .unwrap()
        .is_some());
    for i in (0..9).step_by(3) {
        assert!(
            tokens::find_access_by_hash(&mut conn, &h(&format!("a-{i}")))
                .unwrap()
                .is_some()
        );
    }
    assert_eq!(
        tokens::delete_dead_in_batches(&mut conn, 200, 2).unwrap(),
        tokens::Cleared::default()
    );
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
    assert!(tokens::find_access_by_hash(&mut conn, &h("t"))
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
    a_family_is_claimed_once_and_revokes_together,
    a_rotation_links_the_new_pair_and_happens_once,
    a_batch_of_access_tokens_is_stored_and_a_bad_row_fails_alone,
    a_batch_of_rotations_has_one_winner_per_token,
    a_batch_of_rotations_revokes_inserts_and_fails_per_row,
    a_batch_larger_than_a_statement_is_all_or_none,
    concurrent_writes_through_the_batcher_are_each_answered,
    a_deactivated_owner_shows_on_the_refresh_token,
    introspection_lookup_sees_expiry_owner_and_client,
    dead_tokens_are_deleted_and_live_refresh_tokens_survive,
    used_refresh_tokens_stay_as_long_as_their_family,
    clean_up_in_small_batches_deletes_and_counts_every_dead_row,
    a_family_past_its_lifetime_cannot_rotate,
    a_credential_change_ends_access_tokens_issued_before_it,
    revocation_is_atomic_against_rotation,
    deleting_a_user_cascades_to_applications_tokens_and_albums,
    login_failures_count_within_a_window,
);

#[derive(diesel::QueryableByName)]
struct RowsRead {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    seq_scans: i64,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    rows: i64,
}

/// The refresh grant's statements stay on indexes when the tables have grown since the planner
/// last saw their statistics, as in the first minutes of a deployment or a burst of new grants:
/// they are prepared once per connection, so a plan made for a small table is kept until the
/// next ANALYZE. With the refresh token's hash only in a hash index (which the planner cannot
/// know is unique) the lookup expected two rows and hashed the whole family table for each
/// refresh, 2 ms of CPU a request at 9,000 families; with an index on the families' `revoked_at`
/// the claim read every live family through it; and a batch of rotations set-based (`unnest`
/// joined to the families) with its plan kept from when the family table was small joined it by
/// reading it whole (docs/benchmarks.md). So a batch of eight runs on the small tables too
/// before the tables grow. PostgreSQL only: SQLite plans each statement anew.
///
/// The connection is the auth server's: `Planning::KeyLookups`.
#[test]
fn the_refresh_grant_never_reads_whole_tables() {
    refresh_grant_reads_by_key(false);
}

/// The same with statistics taken while the tables held a dozen rows, one page each, as
/// autovacuum takes them in a new deployment's first minute: planned then, a lookup by key
/// reads the table whole, and the plan is kept until the next ANALYZE however large the table
/// grows (seen in docs/benchmarks.md as 22–59 ms a refresh). `Planning::KeyLookups` is what
/// keeps these plans on the indexes.
#[test]
fn the_refresh_grant_never_reads_whole_tables_planned_on_tiny_analyzed_tables() {
    refresh_grant_reads_by_key(true);
}

fn refresh_grant_reads_by_key(analyzed_while_tiny: bool) {
    let Some(db) = TestDatabase::postgres() else {
        return;
    };
    drop(pool(&db)); // migrated
    let pool = store::connect_with(&db.url, 1, store::Planning::KeyLookups).unwrap();
    let mut conn = pool.get().unwrap();
    let user = users::create(&mut conn, &new_user("fri", "")).unwrap();
    let app = applications::create(&mut conn, &new_app(user.id, "client-1")).unwrap();
    // No statistics at all, and none taken meanwhile: the planner's worst case. And generic
    // plans from the first execution on, made while the tables are still small, as in a new
    // deployment whose connections prepared their statements in its first minutes.
    for table in ["token_families", "refresh_tokens", "access_tokens"] {
        diesel::sql_query(format!(
            "ALTER TABLE {table} SET (autovacuum_enabled = false)"
        ))
        .execute(&mut conn)
        .unwrap();
    }
    diesel::sql_query("SET plan_cache_mode = force_generic_plan")
        .execute(&mut conn)
        .unwrap();
    let grow = |conn: &mut DbConnection, from: usize, to: usize| {
        for insert in [
            "INSERT INTO token_families (id, application_id, user_id, credentials_version, \
             current_hash, created_at, expires_at) \
             SELECT 'family-' || i, {app}, {user}, 0, sha256(convert_to('t' || i, 'UTF8')), 0, \
             1000 FROM generate_series({from}, {to}) AS i",
            "INSERT INTO access_tokens (token_hash, application_id, user_id, scope, issued_at, \
             expires_at) \
             SELECT sha256(convert_to('a' || i, 'UTF8')), {app}, {user}, 'read', 0, 1000 \
             FROM generate_series({from}, {to}) AS i",
            "INSERT INTO refresh_tokens (token_hash, access_token_hash, application_id, user_id, \
             family_id, scope, issued_at, expires_at) \
             SELECT sha256(convert_to('t' || i, 'UTF8')), sha256(convert_to('a' || i, 'UTF8')), \
             {app}, {user}, 'family-' || i, 'read', 0, 1000 FROM generate_series({from}, {to}) AS i",
        ] {
            diesel::sql_query(
                insert
                    .replace("{app}", &app.id.to_string())
                    .replace("{user}", &user.id.to_string())
                    .replace("{from}", &from.to_string())
                    .replace("{to}", &to.to_string()),
            )
            .execute(conn)
            .unwrap();
        }
    };
    // Rows this connection's statements read from the token tables, by any scan, not yet
    // reported; they are read before and after, in one transaction, so that only the refresh
    // grant's statements' own show.
    let rows_read = |conn: &mut DbConnection| {
        diesel::sql_query(
            "SELECT COALESCE(SUM(seq_scan), 0)::bigint AS seq_scans, \
             COALESCE(SUM(seq_tup_read + COALESCE(idx_tup_fetch, 0)), 0)::bigint AS rows \
             FROM pg_stat_xact_user_tables \
             WHERE relname IN ('token_families', 'refresh_tokens', 'access_tokens', 'users')",
        )
        .get_result::<RowsRead>(conn)
    };
    let grant = |conn: &mut DbConnection, i: usize| {
        tokens::find_refresh_grant(conn, &TokenHash::of(&format!("t{i}")))
            .unwrap()
            .expect("the refresh token is there")
    };
    let rotation = |grant: tokens::RefreshGrant| tokens::Rotation {
        access: access(
            &app,
            Some(user.id),
            &format!("new-a-{}", grant.family.id),
            2000,
        ),
        refresh: refresh(
            &app,
            user.id,
            None,
            &format!("new-r-{}", grant.family.id),
            &grant.family.id,
        ),
        old: grant.token,
        at: 20,
    };
    // Each statement prepared, and planned, on a dozen families: a rotation alone and a batch
    // of eight, the size used below.
    grow(&mut conn, 1, 12);
    if analyzed_while_tiny {
        diesel::sql_query("ANALYZE token_families, refresh_tokens, access_tokens, users")
            .execute(&mut conn)
            .unwrap();
    }
    let first = rotation(grant(&mut conn, 1));
    assert!(
        tokens::rotate_refresh(&mut conn, &first.old, 20, &first.access, &first.refresh).unwrap()
    );
    let eight: Vec<_> = (2..=9).map(|i| rotation(grant(&mut conn, i))).collect();
    let won = tokens::rotate_refresh_together(&mut conn, &eight).unwrap();
    assert_eq!(won, [true; 8]);
    grow(&mut conn, 13, 5000);
    conn.transaction(|conn| -> diesel::QueryResult<()> {
        let before = rows_read(conn)?;
        let looked_up = [10, 2500, 5000, 17, 4242, 99, 3000, 11, 4000].map(|i| grant(conn, i));
        for (i, found) in [10, 2500, 5000, 17, 4242, 99, 3000, 11, 4000]
            .iter()
            .zip(&looked_up)
        {
            assert_eq!(found.family.id, format!("family-{i}"));
        }
        let mut rotations = looked_up.map(rotation).into_iter();
        let alone = rotations.next().unwrap();
        assert!(
            tokens::rotate_refresh(conn, &alone.old, 20, &alone.access, &alone.refresh).unwrap()
        );
        let together: Vec<_> = rotations.collect();
        let won = tokens::rotate_refresh_together(conn, &together).unwrap();
        assert!(won.iter().all(|&w| w), "{won:?}");
        let after = rows_read(conn)?;
        assert_eq!(
            after.seq_scans - before.seq_scans,
            0,
            "a whole table was read"
        );
        // A lookup reads three rows, a rotation a few (the family, the old access token, and
        // the foreign keys' rows): far fewer than the 5,000 rows of any token table.
        let read = after.rows - before.rows;
        assert!(read <= 9 * 3 + 9 * 6, "the refresh grant read {read} rows");
        Ok(())
    })
    .unwrap();
}
