//! Authorization codes (RFC 6749 §4.1), by hash. A code is redeemed once: the exchange claims it
//! with one conditional UPDATE, which exactly one of several concurrent exchanges wins.

use diesel::prelude::*;

use crate::models::AuthorizationCode;
use crate::schema::authorization_codes;
use crate::TokenHash;
use store::{on_concrete_connection, DbConnection, StoreResult};

pub fn insert(conn: &mut DbConnection, code: &AuthorizationCode) -> StoreResult<()> {
    diesel::insert_into(authorization_codes::table)
        .values(code)
        .execute(conn)?;
    Ok(())
}

/// What presenting a code found.
#[derive(Debug)]
pub enum Claim {
    /// First presentation: the code is now used, whatever the exchange decides next.
    Claimed(AuthorizationCode),
    /// Presented before: what the first exchange issued must be revoked.
    Replayed(AuthorizationCode),
    Unknown,
}

pub fn claim(conn: &mut DbConnection, code_hash: &TokenHash, now: i64) -> StoreResult<Claim> {
    let claimed = on_concrete_connection!(conn, |c| diesel::update(
        authorization_codes::table
            .filter(authorization_codes::code_hash.eq(code_hash))
            .filter(authorization_codes::used_at.is_null()),
    )
    .set(authorization_codes::used_at.eq(Some(now)))
    .returning(authorization_codes::all_columns)
    .get_result::<AuthorizationCode>(c)
    .optional())?;
    if let Some(code) = claimed {
        return Ok(Claim::Claimed(code));
    }
    let used = authorization_codes::table
        .find(code_hash)
        .select(AuthorizationCode::as_select())
        .first(conn)
        .optional()?;
    Ok(used.map_or(Claim::Unknown, Claim::Replayed))
}

/// Records what the exchange of a claimed code issued.
pub fn record_issued(
    conn: &mut DbConnection,
    code_hash: &TokenHash,
    access_token_hash: &TokenHash,
    family_id: Option<&str>,
) -> StoreResult<()> {
    diesel::update(authorization_codes::table.find(code_hash))
        .set((
            authorization_codes::access_token_hash.eq(Some(access_token_hash)),
            authorization_codes::family_id.eq(family_id),
        ))
        .execute(conn)?;
    Ok(())
}

/// Deletes the codes that expired at or before `cutoff`. A used code is kept until then, so that
/// a replay within its lifetime is still recognised; after it, a replay is merely unknown, and
/// what the code issued stays valid (a code expired by then could not be replayed anyway).
pub fn delete_expired(conn: &mut DbConnection, cutoff: i64) -> StoreResult<usize> {
    Ok(diesel::delete(
        authorization_codes::table.filter(authorization_codes::expires_at.le(cutoff)),
    )
    .execute(conn)?)
}
