//! A login name (what the password grant takes: a username, or an e-mail in any case) names at
//! most one account. Usernames are unique by themselves (case-sensitive); besides, a username may
//! not equal another account's e-mail, nor an e-mail another account's username or e-mail,
//! compared case-insensitively. Blank e-mails never clash.
//!
//! E-mails are unique in the database (`users_email_lower_key`); the rules across the two
//! columns cannot be an index, so every write of a login name checks them and writes inside
//! [`serialized`], which lets one such transaction run at a time.

use diesel::connection::{AnsiTransactionManager, TransactionManager};
use diesel::dsl::sql;
use diesel::expression::SqlLiteral;
use diesel::prelude::*;
use diesel::sql_types::Bool;

use crate::schema::users;
use crate::{DbConnection, StoreError, StoreResult};

diesel::define_sql_function!(fn lower(x: diesel::sql_types::Text) -> diesel::sql_types::Text);

/// One of the two columns a login name lives in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoginName {
    Username,
    Email,
}

/// The login names of a write that another account already answers to: one of them, or both.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("another account already answers to the {taken:?} given")]
pub struct LoginNameClash {
    pub taken: Vec<LoginName>,
}

/// Which of `username` and `email` (each `None` when the write leaves it as it is) another account
/// than `except` already answers to.
pub fn clash(
    conn: &mut DbConnection,
    except: Option<i32>,
    username: Option<&str>,
    email: Option<&str>,
) -> StoreResult<Option<LoginNameClash>> {
    let others = || {
        let query = users::table.select(users::id).into_boxed();
        match except {
            Some(id) => query.filter(users::id.ne(id)),
            None => query,
        }
    };
    let mut taken = Vec::new();
    if let Some(username) = username {
        let holders = others()
            .filter(
                users::username
                    .eq(username)
                    .or(email_not_blank().and(lower(users::email).eq(lower(username)))),
            )
            .limit(1)
            .load::<i32>(conn)?;
        if !holders.is_empty() {
            taken.push(LoginName::Username);
        }
    }
    if let Some(email) = email.filter(|e| !e.is_empty()) {
        let holders = others()
            .filter(
                lower(users::username)
                    .eq(lower(email))
                    .or(email_not_blank().and(lower(users::email).eq(lower(email)))),
            )
            .limit(1)
            .load::<i32>(conn)?;
        if !holders.is_empty() {
            taken.push(LoginName::Email);
        }
    }
    Ok((!taken.is_empty()).then_some(LoginNameClash { taken }))
}

/// The unique e-mail index covers only e-mails that are not blank; a query states the same
/// condition, as written in the index, for either database to use it.
pub(crate) fn email_not_blank() -> SqlLiteral<Bool> {
    sql("users.email <> ''")
}

type Manager = <DbConnection as Connection>::TransactionManager;

/// The key of the PostgreSQL advisory lock that serialises writes of login names ("logins").
const LOCK_KEY: i64 = 0x6c6f_6769_6e73;

/// Runs `f` in a transaction that no other writer of login names runs beside: on PostgreSQL it
/// first takes a transaction-scoped advisory lock, on SQLite it begins with `BEGIN IMMEDIATE`,
/// which takes the write lock before the check reads anything. (A deferred SQLite transaction
/// would fail at its first write if another writer had committed since its read, instead of
/// waiting.) Inside a transaction the caller already holds, SQLite can only open a savepoint, so
/// the caller's transaction must have taken the write lock for the check to be race-free.
pub fn serialized<T, E>(
    conn: &mut DbConnection,
    f: impl FnOnce(&mut DbConnection) -> Result<T, E>,
) -> Result<T, E>
where
    E: From<diesel::result::Error>,
{
    let immediate = matches!(conn, DbConnection::Sqlite(_)) && outermost(conn);
    match conn {
        DbConnection::Sqlite(lite) if immediate => {
            AnsiTransactionManager::begin_transaction_sql(lite, "BEGIN IMMEDIATE")?
        }
        _ => Manager::begin_transaction(conn)?,
    }
    let result = lock(conn).map_err(E::from).and_then(|()| f(conn));
    // As diesel's own `Connection::transaction` ends one.
    match result {
        Ok(value) => {
            Manager::commit_transaction(conn)?;
            Ok(value)
        }
        Err(error) => match Manager::rollback_transaction(conn) {
            Ok(()) | Err(diesel::result::Error::BrokenTransactionManager) => Err(error),
            Err(rollback) => Err(rollback.into()),
        },
    }
}

fn outermost(conn: &mut DbConnection) -> bool {
    matches!(
        Manager::transaction_manager_status_mut(conn).transaction_depth(),
        Ok(None)
    )
}

fn lock(conn: &mut DbConnection) -> QueryResult<()> {
    match conn {
        DbConnection::Postgresql(pg) => {
            diesel::sql_query(format!("SELECT pg_advisory_xact_lock({LOCK_KEY})")).execute(pg)?;
        }
        // BEGIN IMMEDIATE has taken the write lock.
        DbConnection::Sqlite(_) => {}
    }
    Ok(())
}

/// A write that broke a unique index anyway (a writer that did not take the lock) is a clash
/// on the column the index covers.
pub(crate) fn clash_on_unique_violation(error: StoreError) -> Result<LoginNameClash, StoreError> {
    if !error.is_unique_violation() {
        return Err(error);
    }
    // PostgreSQL names the index (users_email_lower_key), SQLite the index or the column.
    let name = if error.to_string().contains("email") {
        LoginName::Email
    } else {
        LoginName::Username
    };
    Ok(LoginNameClash { taken: vec![name] })
}
