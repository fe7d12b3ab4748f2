//! The OpenID Connect signing keys. Which key signs and which are published is the auth server's
//! decision (it depends on its settings); this module keeps the rows. Every addition runs under
//! one lock (an advisory lock on PostgreSQL, the database's write lock on SQLite), so replicas
//! that start together on an empty table store one first key, and concurrent rotations each
//! retire every key added before them.

use diesel::prelude::*;
use diesel::result::{DatabaseErrorKind, Error as DieselError};
use diesel::sql_types::BigInt;

use crate::models::{NewSigningKey, SigningKey};
use crate::schema::signing_keys;
use store::{DbConnection, StoreResult};

/// Every key, in the order they were added (which `created_at`, in whole seconds, cannot tell
/// for keys added in one second).
pub fn list(conn: &mut DbConnection) -> StoreResult<Vec<SigningKey>> {
    Ok(signing_keys::table
        .order(signing_keys::id)
        .select(SigningKey::as_select())
        .load(conn)?)
}

pub fn is_empty(conn: &mut DbConnection) -> StoreResult<bool> {
    let any: Option<i64> = signing_keys::table
        .select(signing_keys::id)
        .first(conn)
        .optional()?;
    Ok(any.is_none())
}

/// Stores `key` if there is no key yet; false when another process stored one first (or this very
/// key: a kid is unique).
pub fn insert_first(conn: &mut DbConnection, key: &NewSigningKey) -> StoreResult<bool> {
    let inserted = under_key_lock(conn, |conn| {
        // The write comes first so that SQLite takes its write lock before the count.
        diesel::insert_into(signing_keys::table)
            .values(key)
            .execute(conn)?;
        let count: i64 = signing_keys::table.count().get_result(conn)?;
        if count > 1 {
            return Err(DieselError::RollbackTransaction);
        }
        Ok(())
    });
    match inserted {
        Ok(()) => Ok(true),
        Err(DieselError::RollbackTransaction)
        | Err(DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _)) => Ok(false),
        Err(e) => Err(e.into()),
    }
}

/// Retires every key not yet retired as of `key.created_at` and stores `key`, in one transaction.
/// Returns how many keys it retired.
pub fn rotate(conn: &mut DbConnection, key: &NewSigningKey) -> StoreResult<usize> {
    Ok(under_key_lock(conn, |conn| {
        let retired =
            diesel::update(signing_keys::table.filter(signing_keys::retired_at.is_null()))
                .set(signing_keys::retired_at.eq(key.created_at))
                .execute(conn)?;
        diesel::insert_into(signing_keys::table)
            .values(key)
            .execute(conn)?;
        Ok(retired)
    })?)
}

/// Deletes the keys retired at or before `cutoff` (their ID tokens have expired: the caller knows
/// when).
pub fn delete_retired_by(conn: &mut DbConnection, cutoff: i64) -> StoreResult<usize> {
    Ok(diesel::delete(
        signing_keys::table
            .filter(signing_keys::retired_at.is_not_null())
            .filter(signing_keys::retired_at.le(cutoff)),
    )
    .execute(conn)?)
}

/// Runs `f` in a transaction that holds the signing keys' lock. On SQLite the lock is the
/// database's write lock, which `f` takes with its first statement, a write.
fn under_key_lock<T>(
    conn: &mut DbConnection,
    f: impl FnOnce(&mut DbConnection) -> Result<T, DieselError>,
) -> Result<T, DieselError> {
    const LOCK_KEY: i64 = 0x6f69_6463_6b65_7973; // "oidckeys"
    conn.transaction(|conn| {
        if let DbConnection::Postgresql(pg) = conn {
            diesel::sql_query("SELECT pg_advisory_xact_lock($1)")
                .bind::<BigInt, _>(LOCK_KEY)
                .execute(pg)?;
        }
        f(conn)
    })
}
