//! The migration to raw token hashes: tokens issued before it still work after it, and reverting
//! it gives the hex rows back.

use auth_store::{authorization_codes, tokens, TokenHash};
use diesel::prelude::*;
use diesel::sql_types::Text;
use test_support::{migrated_pool as pool, TestDatabase};

const SMALLER_TOKEN_ROWS: &str = "20261203000005";

fn hex(token: &str) -> String {
    oauth_core::secrets::sha256_hex(token)
}

#[derive(QueryableByName)]
struct Hash {
    #[diesel(sql_type = Text)]
    token_hash: String,
}

async fn tokens_issued_before_the_raw_hash_migration_still_work_after_it(db: TestDatabase) {
    let pool = pool(&db);
    let mut conn = pool.get().unwrap();
    while test_support::revert_last_migration(&mut conn) != SMALLER_TOKEN_ROWS {}
    // Rows as the earlier versions wrote them: hex hashes, links by access-token id.
    let statements = [
        "INSERT INTO users (username, password_hash, date_joined) VALUES ('ann', 'x', 0)".into(),
        "INSERT INTO applications (client_id, name, client_type, grant_types, allowed_scopes, \
         default_scopes, owner_id, created_at) \
         VALUES ('client-1', 'demo', 'confidential', '', 'read', 'read', 1, 0)"
            .into(),
        format!(
            "INSERT INTO access_tokens (token_hash, application_id, user_id, scope, issued_at, \
             expires_at) VALUES ('{}', 1, 1, 'read', 0, 1000), ('{}', 1, NULL, 'read', 0, 1000)",
            hex("old-access"),
            hex("old-machine"),
        ),
        format!(
            "INSERT INTO token_families (id, application_id, user_id, credentials_version, \
             current_hash, created_at, expires_at) VALUES ('fam', 1, 1, 0, '{}', 0, 5000)",
            hex("old-refresh"),
        ),
        format!(
            "INSERT INTO refresh_tokens (token_hash, access_token_id, application_id, user_id, \
             family_id, scope, issued_at, expires_at) \
             VALUES ('{}', 1, 1, 1, 'fam', 'read', 0, 5000)",
            hex("old-refresh"),
        ),
        format!(
            "INSERT INTO authorization_codes (code_hash, application_id, user_id, \
             credentials_version, code_challenge, scope, auth_time, issued_at, expires_at, \
             used_at, access_token_id, family_id) \
             VALUES ('{}', 1, 1, 0, 'x', 'read', 0, 0, 1000, 10, 1, 'fam')",
            hex("old-code"),
        ),
    ];
    for statement in &statements {
        diesel::sql_query(statement).execute(&mut *conn).unwrap();
    }

    store::run_migrations(&mut conn).unwrap();

    let access = tokens::find_active_access(&mut conn, &TokenHash::of("old-access"), 10)
        .unwrap()
        .expect("an access token issued before the migration is still active");
    assert_eq!(access.user, Some((1, "ann".into())));
    assert!(
        tokens::find_active_access(&mut conn, &TokenHash::of("old-machine"), 10)
            .unwrap()
            .is_some()
    );
    let grant = tokens::find_refresh_grant(&mut conn, &TokenHash::of("old-refresh"))
        .unwrap()
        .expect("the refresh token is found");
    assert!(grant.is_current(), "and is still its family's current one");
    assert_eq!(
        grant.token.access_token_hash,
        Some(TokenHash::of("old-access"))
    );
    let code = match authorization_codes::claim(&mut conn, &TokenHash::of("old-code"), 20).unwrap()
    {
        authorization_codes::Claim::Replayed(code) => code,
        other => panic!("expected the used code, got {other:?}"),
    };
    assert_eq!(code.access_token_hash, Some(TokenHash::of("old-access")));

    // Reverting gives the hex hashes and the links by id back.
    while test_support::revert_last_migration(&mut conn) != SMALLER_TOKEN_ROWS {}
    let access: Vec<Hash> = diesel::sql_query(
        "SELECT a.token_hash FROM refresh_tokens r JOIN access_tokens a ON a.id = r.access_token_id",
    )
    .load(&mut *conn)
    .unwrap();
    assert_eq!(access.len(), 1);
    assert_eq!(access[0].token_hash, hex("old-access"));
    let current: Vec<Hash> =
        diesel::sql_query("SELECT current_hash AS token_hash FROM token_families")
            .load(&mut *conn)
            .unwrap();
    assert_eq!(current[0].token_hash, hex("old-refresh"));
    store::run_migrations(&mut conn).unwrap();
    assert!(
        tokens::find_active_access(&mut conn, &TokenHash::of("old-access"), 10)
            .unwrap()
            .is_some()
    );
}

test_support::on_both_backends!(tokens_issued_before_the_raw_hash_migration_still_work_after_it,);
