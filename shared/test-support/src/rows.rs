use std::collections::BTreeMap;

use auth_store::schema::{
    access_tokens, applications, authorization_codes, browser_sessions, consents, refresh_tokens,
};
use diesel::{QueryDsl, RunQueryDsl};
use store::schema::{albums, group_permissions, groups, permissions, songs, user_groups, users};
use store::Pool;

/// Rows in every table, to show that a refused request changed nothing.
pub fn row_counts(pool: &Pool) -> BTreeMap<&'static str, i64> {
    let mut conn = pool.get().expect("a connection");
    let conn = &mut *conn;
    let mut counts = BTreeMap::new();
    macro_rules! count {
        ($($table:ident),+) => {$(
            counts.insert(
                stringify!($table),
                $table::table.count().get_result::<i64>(conn).expect("count rows"),
            );
        )+};
    }
    count!(
        users,
        groups,
        permissions,
        user_groups,
        group_permissions,
        applications,
        access_tokens,
        refresh_tokens,
        authorization_codes,
        browser_sessions,
        consents,
        albums,
        songs
    );
    counts
}
