//! The clean-up deletes in batches: more dead rows than one batch all go, each counted once, and
//! the live ones stay.

use auth_server::clean_up::clear_dead_rows;
use auth_store::models::{NewAccessToken, NewRefreshToken, TokenFamily};
use auth_store::schema::{access_tokens, refresh_tokens, token_families};
use auth_store::tokens::DELETE_BATCH_ROWS;
use auth_store::TokenHash;
use diesel::{ExpressionMethods, QueryDsl, RunQueryDsl};
use store::{on_concrete_connection, DbConnection};
use test_support::seed::{confidential_client, user};
use test_support::{migrated_pool, on_both_backends, TestDatabase};

/// Rows per multi-row INSERT: under both databases' limits on bound parameters.
const INSERT_CHUNK: usize = 1_000;

fn insert_access(conn: &mut DbConnection, rows: &[NewAccessToken]) {
    for chunk in rows.chunks(INSERT_CHUNK) {
        on_concrete_connection!(conn, |c| diesel::insert_into(access_tokens::table)
            .values(chunk)
            .execute(c))
        .unwrap();
    }
}

fn insert_families(conn: &mut DbConnection, rows: &[TokenFamily]) {
    for chunk in rows.chunks(INSERT_CHUNK) {
        on_concrete_connection!(conn, |c| diesel::insert_into(token_families::table)
            .values(chunk)
            .execute(c))
        .unwrap();
    }
}

fn insert_refresh(conn: &mut DbConnection, rows: &[NewRefreshToken]) {
    for chunk in rows.chunks(INSERT_CHUNK) {
        on_concrete_connection!(conn, |c| diesel::insert_into(refresh_tokens::table)
            .values(chunk)
            .execute(c))
        .unwrap();
    }
}

fn count(conn: &mut DbConnection) -> (i64, i64, i64) {
    (
        access_tokens::table.count().get_result(conn).unwrap(),
        refresh_tokens::table.count().get_result(conn).unwrap(),
        token_families::table.count().get_result(conn).unwrap(),
    )
}

async fn a_clean_up_of_more_rows_than_one_batch_deletes_and_counts_them_all(db: TestDatabase) {
    let pool = migrated_pool(&db);
    let mut conn = pool.get().unwrap();
    let owner = user("tue").create(&mut conn);
    confidential_client("client-1")
        .owned_by(owner.id)
        .create(&mut conn);
    let app = auth_store::applications::find_by_client_id(&mut conn, "client-1")
        .unwrap()
        .unwrap();
    // The clean-up runs with no retention: "dead" is expired or revoked in the past, and the
    // tokens expire in the past (1) or far ahead.
    let (past, future) = (1, i64::MAX / 2);

    // Dead access tokens interleaved with live ones, so that no batch is one contiguous range:
    // two full batches and a part of a third are dead; one in five is expired, one in five
    // revoked, and the rest live.
    let dead_access = 2 * DELETE_BATCH_ROWS + 7;
    let mut access = Vec::new();
    let (mut dead, mut i) = (0, 0);
    while dead < dead_access {
        let kind = i % 5;
        access.push(NewAccessToken {
            token_hash: TokenHash::of(&format!("a{i:07}")),
            application_id: app.id,
            user_id: Some(owner.id),
            scope: "read".into(),
            issued_at: 0,
            expires_at: if kind == 0 { past } else { future },
            credentials_version: 0,
        });
        if kind < 2 {
            dead += 1;
        }
        i += 1;
    }
    let live_access = access.len() - dead_access;
    insert_access(&mut conn, &access);
    // Revoke the second of each five (those with kind 1) in one statement.
    let revoke: Vec<TokenHash> = (0..access.len())
        .filter(|i| i % 5 == 1)
        .map(|i| TokenHash::of(&format!("a{i:07}")))
        .collect();
    for chunk in revoke.chunks(INSERT_CHUNK) {
        diesel::update(access_tokens::table.filter(access_tokens::token_hash.eq_any(chunk)))
            .set(access_tokens::revoked_at.eq(Some(past)))
            .execute(&mut conn)
            .unwrap();
    }

    // Families: one batch and a bit more are dead (half expired, half revoked), each with two
    // refresh tokens (the used one and the current one); one family in three is live.
    let dead_families = DELETE_BATCH_ROWS + 3;
    let mut families = Vec::new();
    let mut dead = 0;
    let mut i = 0;
    while dead < dead_families {
        let live = i % 3 == 2;
        families.push(TokenFamily {
            id: format!("family-{i:07}"),
            application_id: app.id,
            user_id: owner.id,
            credentials_version: 0,
            current_hash: Some(TokenHash::of(&format!("r{i:07}-1"))),
            created_at: 0,
            expires_at: if live || i % 2 == 0 { future } else { past },
            revoked_at: if !live && i % 2 == 0 {
                Some(past)
            } else {
                None
            },
        });
        if !live {
            dead += 1;
        }
        i += 1;
    }
    let live_families = families.len() - dead_families;
    insert_families(&mut conn, &families);
    let refresh: Vec<NewRefreshToken> = families
        .iter()
        .enumerate()
        .flat_map(|(i, f)| {
            (0..2).map(move |n| NewRefreshToken {
                token_hash: TokenHash::of(&format!("r{i:07}-{n}")),
                access_token_hash: None,
                application_id: f.application_id,
                user_id: f.user_id,
                family_id: f.id.clone(),
                scope: "read".into(),
                issued_at: 0,
                expires_at: f.expires_at,
            })
        })
        .collect();
    insert_refresh(&mut conn, &refresh);

    let cleared = clear_dead_rows(&mut conn, 0, 900).unwrap();
    assert_eq!(cleared.access_tokens, dead_access);
    assert_eq!(cleared.refresh_tokens, 2 * dead_families);
    assert_eq!(
        count(&mut conn),
        (
            live_access as i64,
            2 * live_families as i64,
            live_families as i64
        )
    );
    // Nothing is left to delete, and a second run says so.
    let again = clear_dead_rows(&mut conn, 0, 900).unwrap();
    assert_eq!((again.access_tokens, again.refresh_tokens), (0, 0));
}

on_both_backends!(a_clean_up_of_more_rows_than_one_batch_deletes_and_counts_them_all);
