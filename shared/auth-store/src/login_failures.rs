//! Failed password grants, kept in the database so that every auth-server replica counts them.

use diesel::prelude::*;

use crate::schema::login_failures;
use store::{DbConnection, StoreResult};

pub fn record(conn: &mut DbConnection, account: &str, now: i64) -> StoreResult<()> {
    diesel::insert_into(login_failures::table)
        .values((
            login_failures::account.eq(account),
            login_failures::failed_at.eq(now),
        ))
        .execute(conn)?;
    Ok(())
}

pub fn count_since(conn: &mut DbConnection, account: &str, since: i64) -> StoreResult<i64> {
    Ok(login_failures::table
        .filter(login_failures::account.eq(account))
        .filter(login_failures::failed_at.gt(since))
        .count()
        .get_result(conn)?)
}

pub fn clear(conn: &mut DbConnection, account: &str) -> StoreResult<()> {
    diesel::delete(login_failures::table.filter(login_failures::account.eq(account)))
        .execute(conn)?;
    Ok(())
}

pub fn delete_older_than(conn: &mut DbConnection, cutoff: i64) -> StoreResult<usize> {
    Ok(
        diesel::delete(login_failures::table.filter(login_failures::failed_at.le(cutoff)))
            .execute(conn)?,
    )
}
