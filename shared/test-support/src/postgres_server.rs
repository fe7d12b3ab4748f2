//! A PostgreSQL server of a test's own, for tests that stop and restart the database.

use crate::POSTGRES_ENV;

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
