//! Access and refresh tokens. Only SHA-256 hashes of tokens are stored or looked up.

use std::time::Instant;

use diesel::pg::Pg;
use diesel::prelude::*;
use diesel::query_builder::{AstPass, Query, QueryFragment, QueryId};
use diesel::sql_types::{Array, BigInt, Binary, Integer, Nullable, Text};

use crate::models::{AccessToken, NewAccessToken, NewRefreshToken, RefreshToken, TokenFamily};
use crate::schema::{access_tokens, applications, refresh_tokens, token_families, users};
use crate::TokenHash;
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
    hash: &TokenHash,
) -> StoreResult<Option<AccessToken>> {
    Ok(access_tokens::table
        .filter(access_tokens::token_hash.eq(hash))
        .select(AccessToken::as_select())
        .first(conn)
        .optional()?)
}

pub fn find_refresh_by_hash(
    conn: &mut DbConnection,
    hash: &TokenHash,
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
    hash: &TokenHash,
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
            users::credentials_version.nullable(),
        ))
        .get_result::<(
            AccessToken,
            String,
            Option<i32>,
            Option<String>,
            Option<bool>,
            Option<i32>,
        )>(c)
        .optional())?;
    Ok(
        row.and_then(|(token, client_id, user_id, username, active, version)| {
            let user = match (token.user_id, user_id, username, active, version) {
                (None, ..) => None,
                (Some(_), Some(id), Some(name), Some(true), Some(v))
                    if v == token.credentials_version =>
                {
                    Some((id, name))
                }
                // The owner is gone, deactivated, or changed their password since: the token no
                // longer stands for anyone.
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

/// A presented refresh token with what the refresh grant decides on.
#[derive(Debug, Clone)]
pub struct RefreshGrant {
    pub token: RefreshToken,
    pub family: TokenFamily,
    pub owner_active: bool,
    /// The owner's credentials version now: the family is dead unless it equals the family's.
    pub owner_credentials_version: i32,
}

impl RefreshGrant {
    /// The presented token is the family's current one: neither used nor revoked.
    pub fn is_current(&self) -> bool {
        self.token.revoked_at.is_none() && self.family.current_hash == Some(self.token.token_hash)
    }

    /// The owner still stands behind the grant: active, and no credential change since it began.
    pub fn owner_current(&self) -> bool {
        self.owner_active && self.owner_credentials_version == self.family.credentials_version
    }
}

/// The refresh token with this hash, its family and its owner's state, in one query.
pub fn find_refresh_grant(
    conn: &mut DbConnection,
    hash: &TokenHash,
) -> StoreResult<Option<RefreshGrant>> {
    let row = on_concrete_connection!(conn, |c| refresh_tokens::table
        .inner_join(token_families::table)
        .inner_join(users::table.on(users::id.eq(refresh_tokens::user_id)))
        .filter(refresh_tokens::token_hash.eq(hash))
        .select((
            RefreshToken::as_select(),
            TokenFamily::as_select(),
            users::is_active,
            users::credentials_version,
        ))
        .get_result::<(RefreshToken, TokenFamily, bool, i32)>(c)
        .optional())?;
    Ok(row.map(
        |(token, family, owner_active, owner_credentials_version)| RefreshGrant {
            token,
            family,
            owner_active,
            owner_credentials_version,
        },
    ))
}

/// Uses up the refresh token `old` and stores its successors: claims `old`'s family by moving
/// its current token from `old` to `refresh` (exactly one of several concurrent callers wins,
/// and only while the family is neither revoked nor past its lifetime), revokes the access token
/// issued with `old`, and stores `access` and `refresh`, linked. `Ok(false)`: somebody claimed
/// `old` first, or the family ended, and nothing was written.
///
/// The claim is an UPDATE of the family row, which [`revoke_family`] updates first too: the two
/// serialize on that row's lock, so a revocation either waits for the rotation and then sees its
/// new tokens, or is seen by it and nothing is written. Claiming the family row rather than the
/// token row makes that lock free: it is the one write a rotation needed anyway.
/// On PostgreSQL this is one statement, so one round trip with no BEGIN/COMMIT, prepared once per
/// connection: the refresh grant is the busiest write path. SQLite has no data-modifying CTEs; there
/// it is a transaction whose first statement, the claim, takes the write lock.
pub fn rotate_refresh(
    conn: &mut DbConnection,
    old: &RefreshToken,
    at: i64,
    access: &NewAccessToken,
    refresh: &NewRefreshToken,
) -> StoreResult<bool> {
    if let DbConnection::Postgresql(pg) = conn {
        let written = RotateRefresh {
            old,
            at,
            access,
            refresh,
        }
        .execute(pg)?;
        return Ok(written == 1);
    }
    conn.transaction(|conn| -> StoreResult<bool> {
        if !claim_family(
            conn,
            &old.family_id,
            &old.token_hash,
            &refresh.token_hash,
            at,
        )? {
            return Ok(false);
        }
        if let Some(hash) = &old.access_token_hash {
            revoke_access(conn, hash, at)?;
        }
        insert_linked(conn, access, Some(refresh))?;
        Ok(true)
    })
}

/// Stores access tokens issued at about the same time without a refresh token (the
/// client_credentials grant), for `store::batch`: one multi-row INSERT, one commit. When that
/// fails, each row is stored alone, so that one row's failure (its client deleted meanwhile) is
/// its own.
pub fn insert_access_batch(
    conn: &mut DbConnection,
    rows: &[NewAccessToken],
) -> Vec<StoreResult<()>> {
    if rows.len() > 1 {
        match on_concrete_connection!(conn, |c| diesel::insert_into(access_tokens::table)
            .values(rows)
            .execute(c))
        {
            Ok(_) => return rows.iter().map(|_| Ok(())).collect(),
            Err(e) => log::warn!(
                "a batch of {} access tokens failed as a whole, each is tried alone: {e}",
                rows.len()
            ),
        }
    }
    rows.iter()
        .map(|row| -> StoreResult<()> {
            on_concrete_connection!(conn, |c| diesel::insert_into(access_tokens::table)
                .values(row)
                .execute(c))?;
            Ok(())
        })
        .collect()
}

/// A refresh token to use up, and its successors: one [`rotate_refresh`].
#[derive(Debug, Clone)]
pub struct Rotation {
    pub old: RefreshToken,
    pub at: i64,
    pub access: NewAccessToken,
    pub refresh: NewRefreshToken,
}

/// [`rotate_refresh`] for several refreshes at once, for `store::batch`: one commit
/// ([`rotate_refresh_together`]). When that fails, each rotation is tried alone, so that one's
/// failure is its own.
pub fn rotate_refresh_batch(
    conn: &mut DbConnection,
    rotations: &[Rotation],
) -> Vec<StoreResult<bool>> {
    if rotations.len() > 1 {
        match rotate_refresh_together(conn, rotations) {
            Ok(won) => return won.into_iter().map(Ok).collect(),
            Err(e) => log::warn!(
                "a batch of {} refresh rotations failed as a whole, each is tried alone: {e}",
                rotations.len()
            ),
        }
    }
    rotations
        .iter()
        .map(|r| rotate_refresh(conn, &r.old, r.at, &r.access, &r.refresh))
        .collect()
}

/// The rotations, all or none, in one commit; for each, whether it won its claim. The families
/// are claimed in the order of their ids, so that two batches written at the same time take the
/// family rows' locks in the same order and cannot deadlock; two refreshes of one token in one
/// batch are decided as ever, by the claim (the second finds the family moved on). On
/// PostgreSQL the whole batch is one statement ([`RotateRefreshBatch`]), on SQLite one
/// transaction of [`rotate_refresh`]s.
pub fn rotate_refresh_together(
    conn: &mut DbConnection,
    rotations: &[Rotation],
) -> StoreResult<Vec<bool>> {
    let mut order: Vec<usize> = (0..rotations.len()).collect();
    order.sort_by(|&a, &b| rotations[a].old.family_id.cmp(&rotations[b].old.family_id));
    let mut won = vec![false; rotations.len()];
    if let DbConnection::Postgresql(pg) = conn {
        for i in RotateRefreshBatch::new(rotations, &order).load::<i32>(pg)? {
            won[i as usize] = true;
        }
        return Ok(won);
    }
    conn.transaction(|conn| -> StoreResult<Vec<bool>> {
        for i in order {
            let r = &rotations[i];
            won[i] = rotate_refresh(conn, &r.old, r.at, &r.access, &r.refresh)?;
        }
        Ok(won)
    })
}

/// Stores the tokens of a new grant: the access token and, when a refresh token is issued, its
/// family and the refresh token, linked to the access token.
pub fn insert_grant(
    conn: &mut DbConnection,
    access: &NewAccessToken,
    refresh: Option<(&TokenFamily, &NewRefreshToken)>,
) -> StoreResult<()> {
    if let Some((family, first)) = refresh {
        let family = TokenFamily {
            current_hash: Some(first.token_hash),
            ..family.clone()
        };
        diesel::insert_into(token_families::table)
            .values(&family)
            .execute(conn)?;
    }
    insert_linked(conn, access, refresh.map(|(_, r)| r))
}

/// Stores an access token, and the refresh token issued with it linked to it.
fn insert_linked(
    conn: &mut DbConnection,
    access: &NewAccessToken,
    refresh: Option<&NewRefreshToken>,
) -> StoreResult<()> {
    on_concrete_connection!(conn, |c| diesel::insert_into(access_tokens::table)
        .values(access)
        .execute(c))?;
    if let Some(refresh) = refresh {
        let refresh = NewRefreshToken {
            access_token_hash: Some(access.token_hash),
            ..refresh.clone()
        };
        on_concrete_connection!(conn, |c| diesel::insert_into(refresh_tokens::table)
            .values(&refresh)
            .execute(c))?;
    }
    Ok(())
}

/// Moves the family's current token from `from` to `to`, if `from` is still current and the
/// family is neither revoked nor past its lifetime at `now`: true for exactly one of several
/// concurrent callers, as the conditional UPDATE is the arbiter on both backends.
pub fn claim_family(
    conn: &mut DbConnection,
    family_id: &str,
    from: &TokenHash,
    to: &TokenHash,
    now: i64,
) -> StoreResult<bool> {
    let claimed = diesel::update(
        token_families::table
            .filter(token_families::id.eq(family_id))
            .filter(token_families::current_hash.eq(from))
            .filter(token_families::revoked_at.is_null())
            .filter(token_families::expires_at.gt(now)),
    )
    .set(token_families::current_hash.eq(to))
    .execute(conn)?;
    Ok(claimed == 1)
}

/// `rotate_refresh` on PostgreSQL. diesel builds no data-modifying CTE, and its `sql_query` and
/// UPDATEs are never kept prepared; this query has a static id, so each connection prepares it once.
/// The claim of the family decides: when the family ended or another caller got there first,
/// `claimed` is empty, and so are the UPDATE and both INSERTs that read from it. A claim that
/// waited for a revocation holding the row re-checks it (READ COMMITTED) and finds it revoked.
struct RotateRefresh<'a> {
    old: &'a RefreshToken,
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
        let (old, access, refresh) = (self.old, self.access, self.refresh);
        out.push_sql("WITH claimed AS (UPDATE token_families SET current_hash = ");
        out.push_bind_param::<Binary, _>(&refresh.token_hash)?;
        out.push_sql(" WHERE id = ");
        out.push_bind_param::<Text, _>(&old.family_id)?;
        out.push_sql(" AND current_hash = ");
        out.push_bind_param::<Binary, _>(&old.token_hash)?;
        out.push_sql(" AND revoked_at IS NULL AND expires_at > ");
        out.push_bind_param::<BigInt, _>(&self.at)?;
        out.push_sql(
            " RETURNING id), \
             revoked AS (UPDATE access_tokens SET revoked_at = ",
        );
        out.push_bind_param::<BigInt, _>(&self.at)?;
        out.push_sql(" WHERE token_hash = ");
        out.push_bind_param::<Nullable<Binary>, _>(&old.access_token_hash)?;
        out.push_sql(
            " AND revoked_at IS NULL AND EXISTS (SELECT 1 FROM claimed)), \
             access AS (INSERT INTO access_tokens \
             (token_hash, application_id, user_id, scope, issued_at, expires_at, \
             credentials_version) SELECT ",
        );
        out.push_bind_param::<Binary, _>(&access.token_hash)?;
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
        out.push_sql(", ");
        out.push_bind_param::<Integer, _>(&access.credentials_version)?;
        out.push_sql(
            " FROM claimed) \
             INSERT INTO refresh_tokens (token_hash, access_token_hash, application_id, user_id, \
             family_id, scope, issued_at, expires_at) SELECT ",
        );
        out.push_bind_param::<Binary, _>(&refresh.token_hash)?;
        out.push_sql(", ");
        out.push_bind_param::<Binary, _>(&access.token_hash)?;
        out.push_sql(", ");
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
        out.push_sql(" FROM claimed");
        Ok(())
    }
}

impl<Conn> RunQueryDsl<Conn> for RotateRefresh<'_> {}

/// [`RotateRefresh`] for a whole batch in one statement: each column of the rotations is one
/// array parameter, so the statement text is the same for any batch size. It is planned for each
/// batch and never kept (see `walk_ast`). A batch of n refreshes then costs PostgreSQL one round
/// trip and one commit, not n statements between a BEGIN and a COMMIT (docs/benchmarks.md has
/// the A/B).
///
/// The rows are unnested in the order given (by family id), which is the order the UPDATE claims
/// the families in. When two rows of a batch name the same family, the UPDATE claims the row once,
/// through one of them: only the row whose `current_hash` matched is returned, so exactly one
/// wins, as with separate statements. The statement returns the position (in the caller's slice)
/// of each rotation that won; the revocation and inserts read the same claimed rows.
struct RotateRefreshBatch {
    position: Vec<i32>,
    family_id: Vec<String>,
    old_hash: Vec<TokenHash>,
    old_access_hash: Vec<Option<TokenHash>>,
    at: Vec<i64>,
    access_hash: Vec<TokenHash>,
    access_application_id: Vec<i32>,
    access_user_id: Vec<Option<i32>>,
    access_scope: Vec<String>,
    access_issued_at: Vec<i64>,
    access_expires_at: Vec<i64>,
    access_credentials_version: Vec<i32>,
    refresh_hash: Vec<TokenHash>,
    refresh_application_id: Vec<i32>,
    refresh_user_id: Vec<i32>,
    refresh_scope: Vec<String>,
    refresh_issued_at: Vec<i64>,
    refresh_expires_at: Vec<i64>,
}

impl RotateRefreshBatch {
    /// `order`: the positions of `rotations` in the order to claim them.
    fn new(rotations: &[Rotation], order: &[usize]) -> Self {
        let rows = || order.iter().map(|&i| &rotations[i]);
        Self {
            position: order.iter().map(|&i| i as i32).collect(),
            family_id: rows().map(|r| r.old.family_id.clone()).collect(),
            old_hash: rows().map(|r| r.old.token_hash).collect(),
            old_access_hash: rows().map(|r| r.old.access_token_hash).collect(),
            at: rows().map(|r| r.at).collect(),
            access_hash: rows().map(|r| r.access.token_hash).collect(),
            access_application_id: rows().map(|r| r.access.application_id).collect(),
            access_user_id: rows().map(|r| r.access.user_id).collect(),
            access_scope: rows().map(|r| r.access.scope.clone()).collect(),
            access_issued_at: rows().map(|r| r.access.issued_at).collect(),
            access_expires_at: rows().map(|r| r.access.expires_at).collect(),
            access_credentials_version: rows().map(|r| r.access.credentials_version).collect(),
            refresh_hash: rows().map(|r| r.refresh.token_hash).collect(),
            refresh_application_id: rows().map(|r| r.refresh.application_id).collect(),
            refresh_user_id: rows().map(|r| r.refresh.user_id).collect(),
            refresh_scope: rows().map(|r| r.refresh.scope.clone()).collect(),
            refresh_issued_at: rows().map(|r| r.refresh.issued_at).collect(),
            refresh_expires_at: rows().map(|r| r.refresh.expires_at).collect(),
        }
    }
}

impl QueryId for RotateRefreshBatch {
    type QueryId = RotateRefreshBatch;
    const HAS_STATIC_QUERY_ID: bool = true;
}

impl Query for RotateRefreshBatch {
    type SqlType = Integer;
}

impl QueryFragment<Pg> for RotateRefreshBatch {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        // Planned for each batch, with its arrays in view, never kept: a plan kept from when the
        // family table was small joins the batch to it by reading it whole (a hash join over a
        // sequential scan), and keeps doing so as the table grows until the next ANALYZE. One
        // planning per batch costs each refresh a few microseconds.
        out.unsafe_to_cache_prepared();
        out.push_sql("WITH batch AS MATERIALIZED (SELECT * FROM unnest(");
        out.push_bind_param::<Array<Integer>, _>(&self.position)?;
        out.push_sql(", ");
        out.push_bind_param::<Array<Text>, _>(&self.family_id)?;
        out.push_sql(", ");
        out.push_bind_param::<Array<Binary>, _>(&self.old_hash)?;
        out.push_sql(", ");
        out.push_bind_param::<Array<Nullable<Binary>>, _>(&self.old_access_hash)?;
        out.push_sql(", ");
        out.push_bind_param::<Array<BigInt>, _>(&self.at)?;
        out.push_sql(", ");
        out.push_bind_param::<Array<Binary>, _>(&self.access_hash)?;
        out.push_sql(", ");
        out.push_bind_param::<Array<Integer>, _>(&self.access_application_id)?;
        out.push_sql(", ");
        out.push_bind_param::<Array<Nullable<Integer>>, _>(&self.access_user_id)?;
        out.push_sql(", ");
        out.push_bind_param::<Array<Text>, _>(&self.access_scope)?;
        out.push_sql(", ");
        out.push_bind_param::<Array<BigInt>, _>(&self.access_issued_at)?;
        out.push_sql(", ");
        out.push_bind_param::<Array<BigInt>, _>(&self.access_expires_at)?;
        out.push_sql(", ");
        out.push_bind_param::<Array<Integer>, _>(&self.access_credentials_version)?;
        out.push_sql(", ");
        out.push_bind_param::<Array<Binary>, _>(&self.refresh_hash)?;
        out.push_sql(", ");
        out.push_bind_param::<Array<Integer>, _>(&self.refresh_application_id)?;
        out.push_sql(", ");
        out.push_bind_param::<Array<Integer>, _>(&self.refresh_user_id)?;
        out.push_sql(", ");
        out.push_bind_param::<Array<Text>, _>(&self.refresh_scope)?;
        out.push_sql(", ");
        out.push_bind_param::<Array<BigInt>, _>(&self.refresh_issued_at)?;
        out.push_sql(", ");
        out.push_bind_param::<Array<BigInt>, _>(&self.refresh_expires_at)?;
        out.push_sql(
            ") WITH ORDINALITY AS b (position, family_id, old_hash, old_access_hash, at, \
             access_hash, access_application_id, access_user_id, access_scope, \
             access_issued_at, access_expires_at, access_credentials_version, refresh_hash, \
             refresh_application_id, refresh_user_id, refresh_scope, refresh_issued_at, \
             refresh_expires_at, n) ORDER BY n), \
             claimed AS (UPDATE token_families f SET current_hash = b.refresh_hash FROM batch b \
             WHERE f.id = b.family_id AND f.current_hash = b.old_hash \
             AND f.revoked_at IS NULL AND f.expires_at > b.at RETURNING b.position), \
             won AS MATERIALIZED (SELECT b.* FROM batch b JOIN claimed c USING (position)), \
             revoked AS (UPDATE access_tokens a SET revoked_at = w.at FROM won w \
             WHERE a.token_hash = w.old_access_hash AND a.revoked_at IS NULL), \
             access AS (INSERT INTO access_tokens (token_hash, application_id, user_id, scope, \
             issued_at, expires_at, credentials_version) SELECT access_hash, \
             access_application_id, access_user_id, access_scope, access_issued_at, \
             access_expires_at, access_credentials_version FROM won), \
             refresh AS (INSERT INTO refresh_tokens (token_hash, access_token_hash, \
             application_id, user_id, family_id, scope, issued_at, expires_at) SELECT \
             refresh_hash, access_hash, refresh_application_id, refresh_user_id, family_id, \
             refresh_scope, refresh_issued_at, refresh_expires_at FROM won) \
             SELECT position FROM won",
        );
        Ok(())
    }
}

impl<Conn> RunQueryDsl<Conn> for RotateRefreshBatch {}

pub fn revoke_access(conn: &mut DbConnection, hash: &TokenHash, now: i64) -> StoreResult<()> {
    diesel::update(
        access_tokens::table
            .filter(access_tokens::token_hash.eq(hash))
            .filter(access_tokens::revoked_at.is_null()),
    )
    .set(access_tokens::revoked_at.eq(Some(now)))
    .execute(conn)?;
    Ok(())
}

/// Ends the grant: revokes the family, every refresh token of it and every access token issued
/// with them, in one transaction. True when this call revoked the family, false when it was
/// already revoked (its tokens are revoked again all the same, which changes nothing).
///
/// The family row is updated first: that waits for a rotation holding it and, on PostgreSQL,
/// each later statement takes a new snapshot that includes what the rotation wrote.
pub fn revoke_family(conn: &mut DbConnection, family_id: &str, now: i64) -> StoreResult<bool> {
    conn.transaction(|conn| -> StoreResult<bool> {
        let revoked_now = diesel::update(
            token_families::table
                .filter(token_families::id.eq(family_id))
                .filter(token_families::revoked_at.is_null()),
        )
        .set(token_families::revoked_at.eq(Some(now)))
        .execute(conn)?
            == 1;
        let family_access = refresh_tokens::table
            .filter(refresh_tokens::family_id.eq(family_id))
            .filter(refresh_tokens::access_token_hash.is_not_null())
            .select(refresh_tokens::access_token_hash.assume_not_null());
        diesel::update(
            access_tokens::table
                .filter(access_tokens::token_hash.eq_any(family_access))
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
        Ok(revoked_now)
    })
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Cleared {
    pub access_tokens: usize,
    pub refresh_tokens: usize,
}

/// Rows one clean-up statement deletes at most: each batch is its own short transaction, so the
/// clean-up never holds locks for long (on SQLite, the database-wide write lock).
pub const DELETE_BATCH_ROWS: usize = 5_000;

/// Deletes access tokens that expired or were revoked at or before `cutoff`, and the families
/// (with all their refresh tokens) that were revoked or reached their lifetime by then. A used
/// refresh token stays as long as its family does: replayed, it still revokes the family. A
/// refresh token still in use keeps working after its old access token is deleted (its link then
/// names nothing: no access token is ever issued with the same hash again). Deletes in batches
/// of [`DELETE_BATCH_ROWS`].
pub fn delete_dead(conn: &mut DbConnection, cutoff: i64) -> StoreResult<Cleared> {
    delete_dead_in_batches(conn, cutoff, DELETE_BATCH_ROWS)
}

/// [`delete_dead`], `batch` rows (access tokens) or families at a time, each batch its own
/// transaction. Families are walked by their key, access tokens by where they lie (pages on
/// PostgreSQL, rowids on SQLite), so each batch starts where the last ended rather than scanning
/// again past the live rows; a token that dies during the walk behind it is left for the next
/// clean-up. On SQLite, whose writers poll for the lock, each batch is followed
/// by a pause as long as the batch took, so that the service's writers get in between.
pub fn delete_dead_in_batches(
    conn: &mut DbConnection,
    cutoff: i64,
    batch: usize,
) -> StoreResult<Cleared> {
    let batch = batch.max(1);
    let limit = i64::try_from(batch).unwrap_or(i64::MAX);
    let sqlite = matches!(conn, DbConnection::Sqlite(_));
    // The same statements on both backends; SQLite numbers its parameters ?1, not $1.
    let dialect = |sql: &str| {
        if sqlite {
            sql.replace('$', "?")
        } else {
            sql.to_string()
        }
    };
    let pace = |started: Instant| {
        if sqlite {
            std::thread::sleep(started.elapsed());
        }
    };
    let mut cleared = Cleared::default();

    let dead_families = "SELECT id FROM token_families WHERE id > $1 \
         AND (expires_at <= $2 OR revoked_at <= $2) ORDER BY id LIMIT $3";
    // Deleted here rather than by the cascade, to count them. The first statement writes, so on
    // SQLite it takes the write lock before anything is read.
    let delete_refresh = dialect(&format!(
        "DELETE FROM refresh_tokens WHERE family_id IN ({dead_families})"
    ));
    let delete_families = dialect(&format!(
        "DELETE FROM token_families WHERE id IN ({dead_families}) RETURNING id"
    ));
    let mut after = String::new();
    loop {
        let started = Instant::now();
        let (refresh, families) = conn.transaction(|conn| -> StoreResult<_> {
            let refresh = on_concrete_connection!(conn, |c| diesel::sql_query(&delete_refresh)
                .bind::<Text, _>(&after)
                .bind::<BigInt, _>(cutoff)
                .bind::<BigInt, _>(limit)
                .execute(c))?;
            let families: Vec<DeletedFamily> =
                on_concrete_connection!(conn, |c| diesel::sql_query(&delete_families)
                    .bind::<Text, _>(&after)
                    .bind::<BigInt, _>(cutoff)
                    .bind::<BigInt, _>(limit)
                    .load(c))?;
            Ok((refresh, families))
        })?;
        cleared.refresh_tokens += refresh;
        let done = families.len() < batch;
        if let Some(last) = families.into_iter().map(|f| f.id).max() {
            after = last;
        }
        if done {
            break;
        }
        pace(started);
    }

    // Access tokens have no key to walk (they are found by their hash alone, to keep rows
    // small): the walk is over where rows lie. PostgreSQL: ranges of heap pages by ctid (a TID
    // range scan, PostgreSQL 14 and later), DELETE_PAGES at a time up to the table's size;
    // SQLite: ranges of rowid. Each range is scanned once, whatever is dead or alive in it.
    let dead = "(expires_at <= $3 OR revoked_at <= $3)";
    let (delete_access, end) = if sqlite {
        (
            format!("DELETE FROM access_tokens WHERE rowid > ?1 AND rowid <= ?2 AND {dead}")
                .replace('$', "?"),
            "SELECT COALESCE(MAX(rowid), 0) AS n FROM access_tokens",
        )
    } else {
        (
            format!(
                "DELETE FROM access_tokens WHERE ctid >= format('(%s,0)', $1)::tid \
                 AND ctid < format('(%s,0)', $2)::tid AND {dead}"
            ),
            "SELECT (pg_relation_size('access_tokens') / current_setting('block_size')::bigint) \
             AS n",
        )
    };
    // Pages hold about 70 access tokens each; rowids are one a row.
    let step = if sqlite { limit } else { (limit / 70).max(1) };
    let end = on_concrete_connection!(conn, |c| diesel::sql_query(end).get_result::<Count>(c))?.n;
    let mut from = 0_i64;
    while from <= end {
        let started = Instant::now();
        let to = from + step;
        cleared.access_tokens +=
            on_concrete_connection!(conn, |c| diesel::sql_query(&delete_access)
                .bind::<BigInt, _>(from)
                .bind::<BigInt, _>(to)
                .bind::<BigInt, _>(cutoff)
                .execute(c))?;
        from = to;
        pace(started);
    }
    Ok(cleared)
}

#[derive(QueryableByName)]
struct DeletedFamily {
    #[diesel(sql_type = Text)]
    id: String,
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}
