//! The database both services share: the connection pool over SQLite or PostgreSQL (chosen at
//! run time from `DATABASE_URL` through diesel's `MultiConnection`), an executor that runs
//! queries off the async workers, the migrations, and the tables both services own: users,
//! groups, permissions and music. The auth server's own tables live in `auth-store`, which the
//! resource server does not depend on.

/// Runs a diesel query on the concrete connection inside the `MultiConnection`, where `$body` is
/// written once and compiled for each backend. diesel's `MultiConnection` writes out a query's SQL
/// text on every execution, even for a statement it has already prepared; the concrete
/// connections find their prepared statements by the query's type and build no SQL then. Used
/// for the queries every request runs; elsewhere the difference is not worth the noise.
#[macro_export]
macro_rules! on_concrete_connection {
    ($conn:expr, |$c:ident| $body:expr) => {
        match $conn {
            $crate::DbConnection::Postgresql($c) => $body,
            $crate::DbConnection::Sqlite($c) => $body,
        }
    };
}

pub mod batch;
mod batch_metrics;
mod database;
mod error;
pub mod groups;
pub mod login_names;
pub mod models;
pub mod music;
pub mod page;
mod pool_metrics;
pub mod schema;
pub mod users;

use std::time::{Duration, Instant};

use diesel::connection::{Instrumentation, InstrumentationEvent, SimpleConnection};
use diesel::pg::PgConnection;
use diesel::r2d2::R2D2Connection;
use diesel::sqlite::SqliteConnection;
use diesel::{Connection, RunQueryDsl};
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};

pub use database::Database;
pub use error::{StoreError, StoreResult};
pub use oauth_core::config::DatabaseUrl;
pub use page::Page;

#[derive(diesel::MultiConnection)]
pub enum DbConnection {
    Postgresql(PgConnection),
    Sqlite(SqliteConnection),
}

pub type Pool = r2d2::Pool<ConnectionManager>;
pub type PooledConnection = r2d2::PooledConnection<ConnectionManager>;

const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("../../migrations/postgres");
const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("../../migrations/sqlite");

/// An r2d2 manager that opens the backend the URL names (diesel's own manager would try every
/// backend in turn and could create a stray SQLite file named like a PostgreSQL URL).
#[derive(Debug, Clone)]
pub struct ConnectionManager {
    url: DatabaseUrl,
    planning: Planning,
}

impl ConnectionManager {
    pub fn new(url: DatabaseUrl) -> Self {
        Self::with_planning(url, Planning::default())
    }

    pub fn with_planning(url: DatabaseUrl, planning: Planning) -> Self {
        Self { url, planning }
    }
}

/// How a pool's PostgreSQL sessions choose their plans. SQLite plans each statement anew and
/// is not affected.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Planning {
    /// PostgreSQL's own choice.
    #[default]
    Server,
    /// Never read a table whole where an index can serve (`enable_seqscan = off` for the
    /// session): for a service whose queries are all lookups by key, on tables that can grow a
    /// hundredfold between two ANALYZEs. A statement is prepared once per connection, and after
    /// each ANALYZE planned again on the table as it is then; planned on a table of a few pages,
    /// a lookup by key reads it whole, and keeps doing so for every request until the next
    /// ANALYZE, however large the table has grown meanwhile (a new deployment's first minute
    /// under load; docs/benchmarks.md, "A plan kept from a small table"). A table with no index
    /// that serves the query is still read whole.
    KeyLookups,
}

/// Opens a PostgreSQL connection. Every PostgreSQL connection of the services and their tests is
/// opened here, because the first one decides how OpenSSL (libpq's TLS) shuts down: left to
/// libpq, OpenSSL frees its state in an `atexit` handler while the pool's threads may still use
/// it, and the process dies with "free(): invalid pointer" as it exits. openssl-sys initialises
/// it without that handler; the operating system reclaims the memory anyway.
pub fn establish_postgres(url: &str) -> diesel::ConnectionResult<PgConnection> {
    openssl_sys::init();
    PgConnection::establish(url)
}

impl r2d2::ManageConnection for ConnectionManager {
    type Connection = DbConnection;
    type Error = diesel::r2d2::Error;

    fn connect(&self) -> Result<DbConnection, Self::Error> {
        match &self.url {
            DatabaseUrl::Postgres(url) => {
                let mut conn =
                    establish_postgres(url).map_err(diesel::r2d2::Error::ConnectionError)?;
                if self.planning == Planning::KeyLookups {
                    conn.batch_execute("SET enable_seqscan = off")
                        .map_err(diesel::r2d2::Error::QueryError)?;
                }
                conn.set_instrumentation(ConnectionWatch::default());
                Ok(DbConnection::Postgresql(conn))
            }
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

    /// A PostgreSQL connection that answered within the last second is taken as alive: under
    /// load that spares a round trip per request, and after an outage (connections idle while
    /// the server was away) every connection is pinged before it is handed out again.
    fn is_valid(&self, conn: &mut DbConnection) -> Result<(), Self::Error> {
        let DbConnection::Postgresql(pg) = conn else {
            return Ok(());
        };
        let recently_fine = pg
            .instrumentation()
            .downcast_ref::<ConnectionWatch>()
            .is_some_and(|w| !w.lost && w.last_success.is_some_and(|t| t.elapsed() < RECENT));
        if recently_fine {
            return Ok(());
        }
        conn.ping().map_err(diesel::r2d2::Error::QueryError)
    }

    fn has_broken(&self, conn: &mut DbConnection) -> bool {
        let lost = match conn {
            DbConnection::Postgresql(pg) => pg
                .instrumentation()
                .downcast_ref::<ConnectionWatch>()
                .is_some_and(|watch| watch.lost),
            DbConnection::Sqlite(_) => false,
        };
        lost || conn.is_broken()
    }
}

/// Remembers that a query found the server gone. diesel's own `is_broken` looks only at the
/// transaction state, so without this a connection that died with its server (a restart, a
/// terminated backend) would go back to the pool and fail every request that drew it.
/// It also notes when the connection last answered, so that a busy connection is not pinged.
#[derive(Debug, Default)]
struct ConnectionWatch {
    lost: bool,
    last_success: Option<Instant>,
}

const RECENT: Duration = Duration::from_secs(1);

impl Instrumentation for ConnectionWatch {
    fn on_connection_event(&mut self, event: InstrumentationEvent<'_>) {
        use diesel::result::{DatabaseErrorKind, Error};
        match event {
            InstrumentationEvent::FinishQuery { error: None, .. } => {
                self.last_success = Some(Instant::now())
            }
            InstrumentationEvent::FinishQuery {
                error: Some(error), ..
            } => {
                if matches!(
                    error,
                    Error::DatabaseError(
                        DatabaseErrorKind::ClosedConnection
                            | DatabaseErrorKind::UnableToSendCommand,
                        _
                    )
                ) {
                    self.lost = true;
                }
            }
            _ => {}
        }
    }
}

/// Builds the pool. SQLite's parent directory is created so the default works on a fresh checkout.
pub fn connect(url: &str, pool_size: u32) -> anyhow::Result<Pool> {
    connect_with(url, pool_size, Planning::default())
}

/// [`connect`], with the sessions planning as `planning` says.
pub fn connect_with(url: &str, pool_size: u32, planning: Planning) -> anyhow::Result<Pool> {
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
    let pool = r2d2::Pool::builder()
        .max_size(pool_size)
        .min_idle(Some(1))
        .connection_timeout(Duration::from_secs(5))
        // Checkout validates a connection, but pings only one that has been idle (see is_valid).
        .test_on_check_out(true)
        .build(ConnectionManager::with_planning(url, planning))
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

/// The embedded migrations of a connection's backend, for tests that step through them.
pub fn migrations_for(conn: &DbConnection) -> EmbeddedMigrations {
    match conn {
        DbConnection::Postgresql(_) => POSTGRES_MIGRATIONS,
        DbConnection::Sqlite(_) => SQLITE_MIGRATIONS,
    }
}

/// Connects, migrates, and returns the pool: what each service does at start.
pub fn connect_and_migrate(url: &str, pool_size: u32) -> anyhow::Result<Pool> {
    connect_and_migrate_with(url, pool_size, Planning::default())
}

/// [`connect_and_migrate`], with the sessions planning as `planning` says.
pub fn connect_and_migrate_with(
    url: &str,
    pool_size: u32,
    planning: Planning,
) -> anyhow::Result<Pool> {
    let pool = connect_with(url, pool_size, planning)?;
    let mut conn = pool.get()?;
    run_migrations(&mut conn)?;
    Ok(pool)
}

/// True when the database answers a trivial query.
pub fn is_ready(pool: &Pool) -> bool {
    pool.get().map(|mut c| c.ping().is_ok()).unwrap_or(false)
}
