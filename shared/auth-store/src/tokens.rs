//! Access and refresh tokens. Only SHA-256 hashes of tokens are stored or looked up.

use diesel::pg::Pg;
use diesel::prelude::*;
use diesel::query_builder::{AstPass, QueryFragment, QueryId};
use diesel::sql_types::{BigInt, Integer, Nullable, Text};

use crate::models::{AccessToken, NewAccessToken, NewRefreshToken, RefreshToken};
use crate::schema::{access_tokens, applications, refresh_tokens, users};
use store::{on_concrete_connection, DbConnection, StoreResult};

pub fn insert_access(conn: &mut DbConnection, new: &NewAccessToken) -> StoreResult<AccessToken> {
    Ok(on_concrete_connection!(conn, |c| diesel::insert_into(
        access_tokens::table
    )
    .values(new)
    .returning(access_tokens::all_columns)
    .get_result(c))?)
}

pub fn insert_refresh(conn: &mut DbConnection, new: &NewRefreshToken) -> StoreResult<RefreshToken> {
    Ok(on_concrete_connection!(conn, |c| diesel::insert_into(
        refresh_tokens::table
    )
    .values(new)
    .returning(refresh_tokens::all_columns)
    .get_result(c))?)
}

pub fn find_access_by_hash(
    conn: &mut DbConnection,
    hash: &str,
) -> StoreResult<Option<AccessToken>> {
    Ok(access_tokens::table
        .filter(access_tokens::token_hash.eq(hash))
        .select(AccessToken::as_select())
        .first(conn)
        .optional()?)
}

pub fn find_refresh_by_hash(
    conn: &mut DbConnection,
    hash: &str,
) -> StoreResult<Option<RefreshToken>> {
    Ok(refresh_tokens::table
        .filter(refresh_tokens::token_hash.eq(hash))
        .select(RefreshToken::as_select())
        .first(conn)
        .optional()?)
}

/// What introspection reports about a live access token.
#[derive(Debug, Clone)]
pub struct ActiveAccess {
    pub token: AccessToken,
    pub client_id: String,
    /// (id, username) of the resource owner; None for client_credentials tokens.
    pub user: Option<(i32, String)>,
}

/// The access token with this hash if it is unrevoked, unexpired and its owner (if any) is active,
/// in one query.
pub fn find_active_access(
    conn: &mut DbConnection,
    hash: &str,
    now: i64,
) -> StoreResult<Option<ActiveAccess>> {
    let row = on_concrete_connection!(conn, |c| access_tokens::table
        .inner_join(applications::table)
        .left_join(users::table.on(users::id.nullable().eq(access_tokens::user_id)))
        .filter(access_tokens::token_hash.eq(hash))
        .filter(access_tokens::revoked_at.is_null())
        .filter(access_tokens::expires_at.gt(now))
        .select((
            AccessToken::as_select(),
            applications::client_id,
            users::id.nullable(),
            users::username.nullable(),
            users::is_active.nullable(),
        ))
        .get_result::<(
            AccessToken,
            String,
            Option<i32>,
            Option<String>,
            Option<bool>,
        )>(c)
        .optional())?;
    Ok(
        row.and_then(|(token, client_id, user_id, username, active)| {
            let user = match (token.user_id, user_id, username, active) {
                (None, ..) => None,
                (Some(_), Some(id), Some(name), Some(true)) => Some((id, name)),
                // The owner is gone or deactivated: the token no longer stands for anyone.
                (Some(_), ..) => return None,
            };
            Some(ActiveAccess {
                token,
                client_id,
                user,
            })
        }),
    )
}

/// The refresh token with this hash, and whether its owner's account is active, in one query.
pub fn find_refresh_with_owner(
    conn: &mut DbConnection,
    hash: &str,
) -> StoreResult<Option<(RefreshToken, bool)>> {
    Ok(on_concrete_connection!(conn, |c| refresh_tokens::table
        .inner_join(users::table.on(users::id.eq(refresh_tokens::user_id)))
        .filter(refresh_tokens::token_hash.eq(hash))
        .select((RefreshToken::as_select(), users::is_active))
        .get_result(c)
        .optional())?)
}

/// Uses up the refresh token `old` and stores its successors: claims `old` (exactly one of several
/// concurrent callers wins), revokes the access token issued with it, and stores `access` and
/// `refresh`, linked. `Ok(false)`: somebody claimed `old` first and nothing was written.
///
/// On PostgreSQL this is one statement, so one round trip with no BEGIN/COMMIT, prepared once per
/// connection: the refresh grant is the busiest write path. SQLite has no data-modifying CTEs; there
/// it is a transaction whose first statement, the claim, takes the write lock.
pub fn rotate_refresh(
    conn: &mut DbConnection,
    old_id: i64,
    at: i64,
    access: &NewAccessToken,
    refresh: &NewRefreshToken,
) -> StoreResult<bool> {
    if let DbConnection::Postgresql(pg) = conn {
        let written = RotateRefresh {
            old_id,
            at,
            access,
            refresh,
        }
        .execute(pg)?;
        return Ok(written == 1);
    }
    conn.transaction(|conn| -> StoreResult<bool> {
        let Some(old_access_id) = claim_refresh(conn, old_id, at)? else {
            return Ok(false);
        };
        if let Some(id) = old_access_id {
            revoke_access(conn, id, at)?;
        }
        insert_pair(conn, access, Some(refresh))?;
        Ok(true)
    })
}

/// Stores an access token, and the refresh token issued with it linked to it.
pub fn insert_pair(
    conn: &mut DbConnection,
    access: &NewAccessToken,
    refresh: Option<&NewRefreshToken>,
) -> StoreResult<()> {
    let stored = insert_access(conn, access)?;
    if let Some(refresh) = refresh {
        insert_refresh(
            conn,
            &NewRefreshToken {
                access_token_id: Some(stored.id),
                ..refresh.clone()
            },
        )?;
    }
    Ok(())
}

/// Marks the refresh token used, if nobody has yet: `Some(the access token issued with it)` for
/// exactly one of several concurrent callers, as the conditional UPDATE is the arbiter on both
/// backends.
pub fn claim_refresh(
    conn: &mut DbConnection,
    id: i64,
    now: i64,
) -> StoreResult<Option<Option<i64>>> {
    Ok(diesel::update(
        refresh_tokens::table
            .filter(refresh_tokens::id.eq(id))
            .filter(refresh_tokens::revoked_at.is_null()),
    )
    .set(refresh_tokens::revoked_at.eq(Some(now)))
    .returning(refresh_tokens::access_token_id)
    .get_result(conn)
    .optional()?)
}

/// `rotate_refresh` on PostgreSQL. diesel builds no data-modifying CTE, and its `sql_query` and
/// UPDATEs are never kept prepared; this query has a static id, so each connection prepares it once.
/// The claim decides: when another caller got there first, `claimed` is empty, and so are the
/// UPDATE and both INSERTs that read from it.
struct RotateRefresh<'a> {
    old_id: i64,
    at: i64,
    access: &'a NewAccessToken,
    refresh: &'a NewRefreshToken,
}

impl QueryId for RotateRefresh<'_> {
    type QueryId = RotateRefresh<'static>;
    const HAS_STATIC_QUERY_ID: bool = true;
}

impl QueryFragment<Pg> for RotateRefresh<'_> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        let (access, refresh) = (self.access, self.refresh);
        out.push_sql("WITH claimed AS (UPDATE refresh_tokens SET revoked_at = ");
        out.push_bind_param::<BigInt, _>(&self.at)?;
        out.push_sql(" WHERE id = ");
        out.push_bind_param::<BigInt, _>(&self.old_id)?;
        out.push_sql(
            " AND revoked_at IS NULL RETURNING access_token_id), \
             revoked AS (UPDATE access_tokens SET revoked_at = ",
        );
        out.push_bind_param::<BigInt, _>(&self.at)?;
        out.push_sql(
            " WHERE id IN (SELECT access_token_id FROM claimed) AND revoked_at IS NULL), \
             access AS (INSERT INTO access_tokens \
             (token_hash, application_id, user_id, scope, issued_at, expires_at) SELECT ",
        );
        out.push_bind_param::<Text, _>(&access.token_hash)?;
        out.push_sql(", ");
        out.push_bind_param::<Integer, _>(&access.application_id)?;
        out.push_sql(", ");
        out.push_bind_param::<Nullable<Integer>, _>(&access.user_id)?;
        out.push_sql(", ");
        out.push_bind_param::<Text, _>(&access.scope)?;
        out.push_sql(", ");
        out.push_bind_param::<BigInt, _>(&access.issued_at)?;
        out.push_sql(", ");
        out.push_bind_param::<BigInt, _>(&access.expires_at)?;
        out.push_sql(
            " FROM claimed RETURNING id) \
             INSERT INTO refresh_tokens (token_hash, access_token_id, application_id, user_id, \
             family_id, scope, issued_at, expires_at) SELECT ",
        );
        out.push_bind_param::<Text, _>(&refresh.token_hash)?;
        out.push_sql(", access.id, ");
        out.push_bind_param::<Integer, _>(&refresh.application_id)?;
        out.push_sql(", ");
        out.push_bind_param::<Integer, _>(&refresh.user_id)?;
        out.push_sql(", ");
        out.push_bind_param::<Text, _>(&refresh.family_id)?;
        out.push_sql(", ");
        out.push_bind_param::<Text, _>(&refresh.scope)?;
        out.push_sql(", ");
        out.push_bind_param::<BigInt, _>(&refresh.issued_at)?;
        out.push_sql(", ");
        out.push_bind_param::<BigInt, _>(&refresh.expires_at)?;
        out.push_sql(" FROM access");
        Ok(())
    }
}

impl<Conn> RunQueryDsl<Conn> for RotateRefresh<'_> {}

pub fn revoke_access(conn: &mut DbConnection, id: i64, now: i64) -> StoreResult<()> {
    diesel::update(
        access_tokens::table
            .filter(access_tokens::id.eq(id))
            .filter(access_tokens::revoked_at.is_null()),
    )
    .set(access_tokens::revoked_at.eq(Some(now)))
    .execute(conn)?;
    Ok(())
}

/// Revokes every refresh token of the grant family and every access token issued with them.
pub fn revoke_family(conn: &mut DbConnection, family_id: &str, now: i64) -> StoreResult<()> {
    let family_access = refresh_tokens::table
        .filter(refresh_tokens::family_id.eq(family_id))
        .filter(refresh_tokens::access_token_id.is_not_null())
        .select(refresh_tokens::access_token_id.assume_not_null());
    diesel::update(
        access_tokens::table
            .filter(access_tokens::id.eq_any(family_access))
            .filter(access_tokens::revoked_at.is_null()),
    )
    .set(access_tokens::revoked_at.eq(Some(now)))
    .execute(conn)?;
    diesel::update(
        refresh_tokens::table
            .filter(refresh_tokens::family_id.eq(family_id))
            .filter(refresh_tokens::revoked_at.is_null()),
    )
    .set(refresh_tokens::revoked_at.eq(Some(now)))
    .execute(conn)?;
    Ok(())
}

/// Revokes a refresh token and the access token issued with it.
pub fn revoke_refresh(conn: &mut DbConnection, token: &RefreshToken, now: i64) -> StoreResult<()> {
    diesel::update(
        refresh_tokens::table
            .filter(refresh_tokens::id.eq(token.id))
            .filter(refresh_tokens::revoked_at.is_null()),
    )
    .set(refresh_tokens::revoked_at.eq(Some(now)))
    .execute(conn)?;
    if let Some(access_id) = token.access_token_id {
        revoke_access(conn, access_id, now)?;
    }
    Ok(())
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Cleared {
    pub access_tokens: usize,
    pub refresh_tokens: usize,
}

/// Deletes tokens that expired or were revoked at or before `cutoff`. A refresh token still in use
/// keeps working after its old access token is deleted (the link is set to NULL).
pub fn delete_dead(conn: &mut DbConnection, cutoff: i64) -> StoreResult<Cleared> {
    conn.transaction(|conn| -> StoreResult<Cleared> {
        let refresh_tokens = diesel::delete(
            refresh_tokens::table.filter(
                refresh_tokens::expires_at
                    .le(cutoff)
                    .or(refresh_tokens::revoked_at.le(cutoff)),
            ),
        )
        .execute(conn)?;
        let access_tokens = diesel::delete(
            access_tokens::table.filter(
                access_tokens::expires_at
                    .le(cutoff)
                    .or(access_tokens::revoked_at.le(cutoff)),
            ),
        )
        .execute(conn)?;
        Ok(Cleared {
            access_tokens,
            refresh_tokens,
        })
    })
}
