//! What the tests of every crate share: fresh databases on both backends, a PostgreSQL server
//! a test can stop and start, seed builders, raw HTTP, (feature `auth-server`) a spawned auth
//! server for the resource server's tests, and (feature `browser`) headless Chromium. A dev-dependency only: nothing here ships.
//!
//! Fresh databases for integration tests: a temporary SQLite file, or, when
//! `OAUTH_TEST_POSTGRES_URL` names a PostgreSQL server, a database with a unique name that is
//! dropped afterwards.

use diesel::RunQueryDsl;
use store::establish_postgres;

pub mod audit_log;
#[cfg(feature = "auth-server")]
mod auth_server;
#[cfg(feature = "browser")]
pub mod browser;
mod http;
mod postgres_server;
mod rows;
pub mod scrape;
pub mod seed;

#[cfg(feature = "auth-server")]
pub use auth_server::{spawn_auth_server, store_signing_key, SpawnedAuthServer};
pub use http::{chunked_body, raw_http};
pub use postgres_server::PostgresServer;
pub use rows::row_counts;

/// A migrated pool on the test's database.
pub fn migrated_pool(db: &TestDatabase) -> store::Pool {
    store::connect_and_migrate(&db.url, 4).expect("connect and migrate")
}

/// Reverts the newest migration that ran on `conn` (migration tests check a down step); its
/// version.
pub fn revert_last_migration(conn: &mut store::DbConnection) -> String {
    use diesel_migrations::MigrationHarness;
    let migrations = store::migrations_for(conn);
    let reverted = match conn {
        store::DbConnection::Postgresql(pg) => pg.revert_last_migration(migrations),
        store::DbConnection::Sqlite(lite) => lite.revert_last_migration(migrations),
    };
    reverted.expect("revert a migration").to_string()
}

pub const POSTGRES_ENV: &str = "OAUTH_TEST_POSTGRES_URL";

pub struct TestDatabase {
    pub url: String,
    kind: Kind,
}

enum Kind {
    Sqlite(#[allow(dead_code)] tempfile::TempDir),
    Postgres {
        admin_url: String,
        name: String,
    },
    /// A database someone else owns and cleans up, e.g. a [`PostgresServer`]'s.
    External,
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
        let mut admin = establish_postgres(&admin_url).unwrap_or_else(|e| {
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

    /// A database at `url` that outlives this value.
    pub fn external(url: &str) -> Self {
        Self {
            url: url.to_string(),
            kind: Kind::External,
        }
    }

    pub fn is_postgres(&self) -> bool {
        match self.kind {
            Kind::Postgres { .. } => true,
            Kind::Sqlite(_) => false,
            Kind::External => self.url.starts_with("postgres"),
        }
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        if let Kind::Postgres { admin_url, name } = &self.kind {
            if let Ok(mut admin) = establish_postgres(admin_url) {
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
                super::$name($crate::TestDatabase::sqlite()).await;
            }

            #[actix_web::test]
            async fn postgres() {
                match $crate::TestDatabase::postgres() {
                    Some(db) => super::$name(db).await,
                    None => eprintln!("skipped: set {} to run PostgreSQL tests", $crate::POSTGRES_ENV),
                }
            }
        }
    )+};
}
