//! What the token tables key tokens by: the SHA-256 of the token, as 32 raw bytes (PostgreSQL
//! `BYTEA`, SQLite `BLOB`), half the size of its hex form in the row and in every index.

use diesel::backend::Backend;
use diesel::deserialize::{self, FromSql, FromSqlRow};
use diesel::expression::AsExpression;
use diesel::serialize::{self, Output, ToSql};
use diesel::sql_types::Binary;
use oauth_core::secrets::{constant_time_eq, sha256};

/// The SHA-256 of a token (access, refresh or authorization code). Equality is constant-time;
/// there is deliberately no ordering, which would not be.
#[derive(Clone, Copy, Eq, AsExpression, FromSqlRow)]
#[diesel(sql_type = Binary)]
pub struct TokenHash([u8; 32]);

impl TokenHash {
    /// The hash the store looks a presented token up by.
    pub fn of(token: &str) -> Self {
        Self(sha256(token))
    }

    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// Lower-case hex, as earlier versions stored it.
    pub fn to_hex(&self) -> String {
        self.0.iter().map(|b| format!("{b:02x}")).collect()
    }
}

impl From<[u8; 32]> for TokenHash {
    fn from(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }
}

impl PartialEq for TokenHash {
    fn eq(&self, other: &Self) -> bool {
        constant_time_eq(&self.0, &other.0)
    }
}

impl std::hash::Hash for TokenHash {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.0.hash(state);
    }
}

impl std::fmt::Debug for TokenHash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "TokenHash({})", self.to_hex())
    }
}

impl<DB> ToSql<Binary, DB> for TokenHash
where
    DB: Backend,
    [u8]: ToSql<Binary, DB>,
{
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, DB>) -> serialize::Result {
        <[u8] as ToSql<Binary, DB>>::to_sql(&self.0[..], out)
    }
}

impl<DB> FromSql<Binary, DB> for TokenHash
where
    DB: Backend,
    Vec<u8>: FromSql<Binary, DB>,
{
    fn from_sql(bytes: DB::RawValue<'_>) -> deserialize::Result<Self> {
        let bytes = Vec::<u8>::from_sql(bytes)?;
        let bytes: [u8; 32] = bytes
            .try_into()
            .map_err(|b: Vec<u8>| format!("a token hash is 32 bytes, not {}", b.len()))?;
        Ok(Self(bytes))
    }
}
