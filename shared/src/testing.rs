//! Fresh databases for integration tests: a temporary SQLite file, or, when
//! `OAUTH_TEST_POSTGRES_URL` names a PostgreSQL server, a database with a unique name that is
//! dropped afterwards.

use diesel::{Connection, PgConnection, RunQueryDsl};

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
