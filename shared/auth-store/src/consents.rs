//! The scopes a user approved for a confidential client, so that the consent page is not shown
//! again for the same or fewer scopes.

use diesel::prelude::*;

use crate::schema::consents;
use oauth_core::scopes::ScopeSet;
use store::{DbConnection, StoreResult};

/// The scopes the user approved for the application so far (empty when none).
pub fn approved(
    conn: &mut DbConnection,
    application_id: i32,
    user_id: i32,
) -> StoreResult<ScopeSet> {
    let scope: Option<String> = consents::table
        .find((application_id, user_id))
        .select(consents::scope)
        .first(conn)
        .optional()?;
    Ok(scope.map_or_else(ScopeSet::default, |s| ScopeSet::parse_lenient(&s)))
}

/// Adds `scope` to what the user approved for the application.
pub fn approve(
    conn: &mut DbConnection,
    application_id: i32,
    user_id: i32,
    scope: &ScopeSet,
    now: i64,
) -> StoreResult<()> {
    conn.transaction(|conn| {
        let before = approved(conn, application_id, user_id)?;
        let all: ScopeSet = before.iter().chain(scope.iter()).collect();
        diesel::delete(consents::table.find((application_id, user_id))).execute(conn)?;
        diesel::insert_into(consents::table)
            .values((
                consents::application_id.eq(application_id),
                consents::user_id.eq(user_id),
                consents::scope.eq(all.to_string()),
                consents::granted_at.eq(now),
            ))
            .execute(conn)?;
        Ok(())
    })
}
