//! Fresh databases for integration tests: a temporary SQLite file, or, when
//! `OAUTH_TEST_POSTGRES_URL` names a PostgreSQL server, a database with a unique name that is
//! dropped afterwards.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::time::Duration;

use diesel::{QueryDsl, RunQueryDsl};

use crate::db::{establish_postgres, schema, Pool};

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

/// A PostgreSQL server of the test's own, so that a test can stop and restart it: initialised
/// in a temporary directory (its unix socket there too) and listening on a free loopback port.
/// Run as the `postgres` OS user when the tests run as root, as PostgreSQL refuses root.
pub struct PostgresServer {
    dir: tempfile::TempDir,
    bin: std::path::PathBuf,
    port: u16,
    as_root: bool,
}

impl PostgresServer {
    /// Starts one, or None when PostgreSQL tests are off (`OAUTH_TEST_POSTGRES_URL` unset) or no
    /// server binaries are installed under /usr/lib/postgresql/*/bin.
    pub fn start_new() -> Option<Self> {
        std::env::var(POSTGRES_ENV).ok().filter(|v| !v.is_empty())?;
        let bin = postgres_bin()?;
        let dir = tempfile::Builder::new()
            .prefix("oauth-pg-")
            .tempdir()
            .expect("a temporary directory");
        let as_root = std::process::Command::new("id")
            .arg("-u")
            .output()
            .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0");
        if as_root {
            let status = std::process::Command::new("chown")
                .arg("postgres:postgres")
                .arg(dir.path())
                .status()
                .expect("chown");
            assert!(status.success(), "chown the PostgreSQL directory");
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let server = Self {
            dir,
            bin,
            port,
            as_root,
        };
        let data = server.data_dir();
        server.run(
            "initdb",
            &[
                "-D",
                &data,
                "-U",
                "postgres",
                "-A",
                "trust",
                "-E",
                "UTF8",
                "--no-sync",
            ],
        );
        server.start();
        Some(server)
    }

    fn data_dir(&self) -> String {
        self.dir.path().join("data").display().to_string()
    }

    fn run(&self, tool: &str, args: &[&str]) -> bool {
        let program = self.bin.join(tool);
        let mut command = if self.as_root {
            let mut c = std::process::Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(&program);
            c
        } else {
            std::process::Command::new(&program)
        };
        command
            .args(args)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    }

    /// Starts the server and waits until it accepts connections.
    pub fn start(&self) {
        let log = self.dir.path().join("server.log").display().to_string();
        let options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=50",
            self.port,
            self.dir.path().display()
        );
        let started = self.run(
            "pg_ctl",
            &[
                "-D",
                &self.data_dir(),
                "-l",
                &log,
                "-o",
                &options,
                "-w",
                "-t",
                "60",
                "start",
            ],
        );
        assert!(started, "PostgreSQL did not start; see {log}");
    }

    /// A fast shutdown, as an operator's restart does: sessions are cut, then the server stops.
    pub fn stop(&self) {
        let stopped = self.run(
            "pg_ctl",
            &[
                "-D",
                &self.data_dir(),
                "-m",
                "fast",
                "-w",
                "-t",
                "60",
                "stop",
            ],
        );
        assert!(stopped, "PostgreSQL did not stop");
    }

    pub fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }
}

impl Drop for PostgresServer {
    fn drop(&mut self) {
        self.run(
            "pg_ctl",
            &["-D", &self.data_dir(), "-m", "immediate", "-w", "stop"],
        );
    }
}

/// The newest /usr/lib/postgresql/<version>/bin holding initdb and pg_ctl.
fn postgres_bin() -> Option<std::path::PathBuf> {
    let mut found: Vec<(u32, std::path::PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|entry| {
            let entry = entry.ok()?;
            let version = entry.file_name().to_str()?.parse::<u32>().ok()?;
            let bin = entry.path().join("bin");
            (bin.join("initdb").exists() && bin.join("pg_ctl").exists()).then_some((version, bin))
        })
        .collect();
    found.sort();
    found.pop().map(|(_, bin)| bin)
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
        .set_read_timeout(Some(Duration::from_secs(60)))
        .expect("a read timeout");
    // The server may answer and close before reading everything: a failed write is expected
    // then, and the answer is still in the socket to be read.
    for piece in request.chunks(4096) {
        if stream.write_all(piece).is_err() {
            break;
        }
    }
    // Read until the server closes, or until the body its Content-Length announces is in.
    let mut answer = Vec::new();
    let mut buf = [0u8; 8192];
    loop {
        match stream.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => answer.extend_from_slice(&buf[..n]),
        }
        let text = String::from_utf8_lossy(&answer);
        if let Some((head, body)) = text.split_once("\r\n\r\n") {
            let length = head.lines().find_map(|l| {
                let (name, value) = l.split_once(':')?;
                name.eq_ignore_ascii_case("content-length")
                    .then(|| value.trim().parse::<usize>().ok())
                    .flatten()
            });
            if length.is_some_and(|n| body.len() >= n) {
                break;
            }
        }
    }
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
