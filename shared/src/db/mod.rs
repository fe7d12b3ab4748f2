//! The database layer: one schema and one set of queries over SQLite or PostgreSQL, chosen at run
//! time from `DATABASE_URL` through diesel's `MultiConnection`.

pub mod applications;
pub mod groups;
pub mod login_failures;
pub mod models;
pub mod music;
pub mod page;
pub mod schema;
pub mod tokens;
pub mod users;

use std::time::Duration;

use diesel::connection::SimpleConnection;
use diesel::pg::PgConnection;
use diesel::r2d2::R2D2Connection;
use diesel::sqlite::SqliteConnection;
use diesel::{Connection, RunQueryDsl};
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};

pub use page::Page;

#[derive(diesel::MultiConnection)]
pub enum DbConnection {
    Postgresql(PgConnection),
    Sqlite(SqliteConnection),
}

pub type Pool = r2d2::Pool<ConnectionManager>;
pub type PooledConnection = r2d2::PooledConnection<ConnectionManager>;

const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("../migrations/postgres");
const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("../migrations/sqlite");

/// Which backend a `DATABASE_URL` names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DatabaseUrl {
    Postgres(String),
    /// A file path (relative to the working directory) or `:memory:`.
    Sqlite(String),
}

impl DatabaseUrl {
    pub fn parse(url: &str) -> Result<Self, String> {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(Self::Postgres(url.to_string()))
        } else if let Some(path) = url.strip_prefix("sqlite://") {
            if path.is_empty() {
                return Err("sqlite:// needs a file path, e.g. sqlite://data/oauth.sqlite3".into());
            }
            Ok(Self::Sqlite(path.to_string()))
        } else {
            Err("must start with sqlite:// or postgres://".into())
        }
    }
}

/// An r2d2 manager that opens the backend the URL names (diesel's own manager would try every
/// backend in turn and could create a stray SQLite file named like a PostgreSQL URL).
#[derive(Debug, Clone)]
pub struct ConnectionManager {
    url: DatabaseUrl,
}

impl ConnectionManager {
    pub fn new(url: DatabaseUrl) -> Self {
        Self { url }
    }
}

impl r2d2::ManageConnection for ConnectionManager {
    type Connection = DbConnection;
    type Error = diesel::r2d2::Error;

    fn connect(&self) -> Result<DbConnection, Self::Error> {
        match &self.url {
            DatabaseUrl::Postgres(url) => PgConnection::establish(url)
                .map(DbConnection::Postgresql)
                .map_err(diesel::r2d2::Error::ConnectionError),
            DatabaseUrl::Sqlite(path) => {
                let mut conn = SqliteConnection::establish(path)
                    .map_err(diesel::r2d2::Error::ConnectionError)?;
                // WAL lets readers run beside the one writer; busy_timeout makes writers queue
                // instead of failing; SQLite enforces foreign keys only when asked.
                conn.batch_execute(
                    "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; \
                     PRAGMA busy_timeout = 10000; PRAGMA foreign_keys = ON;",
                )
                .map_err(diesel::r2d2::Error::QueryError)?;
                Ok(DbConnection::Sqlite(conn))
            }
        }
    }

    fn is_valid(&self, conn: &mut DbConnection) -> Result<(), Self::Error> {
        conn.ping().map_err(diesel::r2d2::Error::QueryError)
    }

    fn has_broken(&self, conn: &mut DbConnection) -> bool {
        conn.is_broken()
    }
}

/// Builds the pool. SQLite's parent directory is created so the default works on a fresh checkout.
pub fn connect(url: &str, pool_size: u32) -> anyhow::Result<Pool> {
    let url = DatabaseUrl::parse(url).map_err(|e| anyhow::anyhow!("DATABASE_URL {e}"))?;
    if let DatabaseUrl::Sqlite(path) = &url {
        if let Some(dir) = std::path::Path::new(path).parent() {
            if !dir.as_os_str().is_empty() {
                std::fs::create_dir_all(dir).map_err(|e| {
                    anyhow::anyhow!("cannot create the directory {}: {e}", dir.display())
                })?;
            }
        }
    }
    // diesel cannot tell that a PostgreSQL connection died with its server (is_broken only looks
    // at transaction state), so each checkout pings it; otherwise dead connections would keep
    // coming back after a database restart. An SQLite connection cannot die that way.
    let ping_on_checkout = matches!(url, DatabaseUrl::Postgres(_));
    let pool = r2d2::Pool::builder()
        .max_size(pool_size)
        .min_idle(Some(1))
        .connection_timeout(Duration::from_secs(5))
        .test_on_check_out(ping_on_checkout)
        .build(ConnectionManager::new(url))
        .map_err(|e| anyhow::anyhow!("cannot connect to the database: {e}"))?;
    Ok(pool)
}

/// Applies every pending migration. On PostgreSQL an advisory lock keeps replicas that start
/// together from migrating at once.
pub fn run_migrations(conn: &mut DbConnection) -> anyhow::Result<Vec<String>> {
    const LOCK_KEY: i64 = 0x006f_6175_7468; // "oauth"
    let applied = match conn {
        DbConnection::Postgresql(pg) => {
            diesel::sql_query(format!("SELECT pg_advisory_lock({LOCK_KEY})")).execute(pg)?;
            let result = pg
                .run_pending_migrations(POSTGRES_MIGRATIONS)
                .map(|v| v.iter().map(|m| m.to_string()).collect::<Vec<_>>());
            diesel::sql_query(format!("SELECT pg_advisory_unlock({LOCK_KEY})")).execute(pg)?;
            result
        }
        DbConnection::Sqlite(lite) => lite
            .run_pending_migrations(SQLITE_MIGRATIONS)
            .map(|v| v.iter().map(|m| m.to_string()).collect::<Vec<_>>()),
    };
    applied.map_err(|e| anyhow::anyhow!("migration failed: {e}"))
}

/// Connects, migrates, and returns the pool: what each service does at start.
pub fn connect_and_migrate(url: &str, pool_size: u32) -> anyhow::Result<Pool> {
    let pool = connect(url, pool_size)?;
    let mut conn = pool.get()?;
    run_migrations(&mut conn)?;
    Ok(pool)
}

/// True when the database answers a trivial query.
pub fn is_ready(pool: &Pool) -> bool {
    pool.get().map(|mut c| c.ping().is_ok()).unwrap_or(false)
}

#[cfg(test)]
mod tests;
