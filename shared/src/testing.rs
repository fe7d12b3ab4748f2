//! Fresh databases for integration tests: a temporary SQLite file, or, when
//! `OAUTH_TEST_POSTGRES_URL` names a PostgreSQL server, a database with a unique name that is
//! dropped afterwards.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::time::Duration;

use diesel::{Connection, PgConnection, QueryDsl, RunQueryDsl};

use crate::db::{schema, Pool};

pub const POSTGRES_ENV: &str = "OAUTH_TEST_POSTGRES_URL";

pub struct TestDatabase {
    pub url: String,
    kind: Kind,
}

enum Kind {
    Sqlite(#[allow(dead_code)] tempfile::TempDir),
    Postgres { admin_url: String, name: String },
}

impl TestDatabase {
    pub fn sqlite() -> Self {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let url = format!("sqlite://{}", dir.path().join("test.sqlite3").display());
        Self {
            url,
            kind: Kind::Sqlite(dir),
        }
    }

    /// None when PostgreSQL tests are not turned on.
    pub fn postgres() -> Option<Self> {
        let admin_url = std::env::var(POSTGRES_ENV).ok().filter(|v| !v.is_empty())?;
        let name = format!("oauth_test_{}", uuid::Uuid::new_v4().simple());
        let mut admin = PgConnection::establish(&admin_url).unwrap_or_else(|e| {
            panic!("{POSTGRES_ENV} is set but PostgreSQL is not reachable: {e}")
        });
        diesel::sql_query(format!("CREATE DATABASE {name}"))
            .execute(&mut admin)
            .expect("create the test database");
        let base = admin_url
            .rsplit_once('/')
            .map(|(b, _)| b)
            .unwrap_or(&admin_url);
        Some(Self {
            url: format!("{base}/{name}"),
            kind: Kind::Postgres { admin_url, name },
        })
    }

    pub fn is_postgres(&self) -> bool {
        matches!(self.kind, Kind::Postgres { .. })
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        if let Kind::Postgres { admin_url, name } = &self.kind {
            if let Ok(mut admin) = PgConnection::establish(admin_url) {
                let _ = diesel::sql_query(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                    .execute(&mut admin);
            }
        }
    }
}

/// Declares `mod $name { sqlite, postgres }` tests that run `async fn $name(db: TestDatabase)`
/// once per backend; the PostgreSQL one passes without running when PostgreSQL tests are off.
#[macro_export]
macro_rules! on_both_backends {
    ($($name:ident),+ $(,)?) => {$(
        mod $name {
            #[actix_web::test]
            async fn sqlite() {
                super::$name($crate::testing::TestDatabase::sqlite()).await;
            }

            #[actix_web::test]
            async fn postgres() {
                match $crate::testing::TestDatabase::postgres() {
                    Some(db) => super::$name(db).await,
                    None => eprintln!("skipped: set {} to run PostgreSQL tests", $crate::testing::POSTGRES_ENV),
                }
            }
        }
    )+};
}

/// Rows in every table, to show that a refused request changed nothing.
pub fn row_counts(pool: &Pool) -> BTreeMap<&'static str, i64> {
    use schema::*;
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
        albums,
        songs
    );
    counts
}

/// One raw HTTP/1.1 exchange with `addr` (`host:port`), for requests no HTTP client sends:
/// bytes that are not UTF-8, oversized heads, chunked bodies. The request should say
/// `Connection: close`. Returns the status (0 when there was no answer) and the body. Runs on a
/// blocking thread so that a server spawned on the test's runtime keeps being polled.
pub async fn raw_http(addr: &str, request: &[u8]) -> (u16, String) {
    let (addr, request) = (addr.to_string(), request.to_vec());
    actix_web::rt::task::spawn_blocking(move || raw_http_blocking(&addr, &request))
        .await
        .expect("the raw HTTP exchange")
}

fn raw_http_blocking(addr: &str, request: &[u8]) -> (u16, String) {
    let mut stream = std::net::TcpStream::connect(addr).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .expect("a read timeout");
    // The server may answer and close before reading everything: a failed write is expected
    // then, and the answer is still in the socket to be read.
    for piece in request.chunks(4096) {
        if stream.write_all(piece).is_err() {
            break;
        }
    }
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer);
    let text = String::from_utf8_lossy(&answer);
    let status = text
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    (status, body)
}

/// A chunked request body of `total` bytes of `fill`, in chunks of 1 KiB.
pub fn chunked_body(total: usize, fill: u8) -> Vec<u8> {
    let mut out = Vec::with_capacity(total + total / 100 + 16);
    let mut left = total;
    while left > 0 {
        let n = left.min(1024);
        out.extend_from_slice(format!("{n:x}\r\n").as_bytes());
        out.extend(std::iter::repeat_n(fill, n));
        out.extend_from_slice(b"\r\n");
        left -= n;
    }
    out.extend_from_slice(b"0\r\n\r\n");
    out
}
