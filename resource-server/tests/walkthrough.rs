//! The README's curl walk-through, run as written against the real `auth-server` and
//! `resource-server` binaries, bootstrapped with the admin CLI as an operator would.

use std::io::Write;
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};
use std::time::Duration;

use test_support::on_both_backends;
use test_support::TestDatabase;

/// Kills the service when the test ends, however it ends.
struct Service(Child);

impl Drop for Service {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn resource_server_bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_resource-server"))
}

/// The auth-server binary beside this package's; built if a narrower `cargo test -p` skipped it.
fn auth_server_bin() -> PathBuf {
    let path = resource_server_bin()
        .with_file_name(format!("auth-server{}", std::env::consts::EXE_SUFFIX));
    if !path.exists() {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let status = Command::new(cargo)
            .args(["build", "-p", "auth-server", "--bin", "auth-server"])
            .status()
            .expect("run cargo build");
        assert!(status.success(), "building auth-server failed");
    }
    path
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn admin(db: &TestDatabase, args: &[&str], stdin: &str) -> Output {
    let mut child = Command::new(auth_server_bin())
        .args(args)
        .env("DATABASE_URL", &db.url)
        .env("BCRYPT_COST", "4")
        .env("RUST_LOG", "warn")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start auth-server");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "auth-server {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn credentials(out: &Output) -> (String, String) {
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("--json output");
    (
        v["client_id"].as_str().unwrap().to_string(),
        v["client_secret"].as_str().unwrap().to_string(),
    )
}

async fn wait_ready(url: &str) {
    let http = reqwest::Client::new();
    for _ in 0..100 {
        if let Ok(res) = http.get(url).send().await {
            if res.status().is_success() {
                return;
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{url} never became ready");
}

/// The README's bash block between the walkthrough markers.
fn readme_walkthrough() -> String {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md"))
        .expect("README.md");
    let start = readme
        .find("<!-- walkthrough:start")
        .expect("walkthrough start marker");
    let end = readme
        .find("<!-- walkthrough:end -->")
        .expect("walkthrough end marker");
    let block = &readme[start..end];
    let code_start = block.find("```bash\n").expect("a bash block") + "```bash\n".len();
    let code_end = block[code_start..]
        .find("```")
        .expect("end of the bash block")
        + code_start;
    block[code_start..code_end].to_string()
}

async fn the_readme_walkthrough_runs_as_written(db: TestDatabase) {
    admin(&db, &["create-permissions"], "");
    admin(
        &db,
        &[
            "create-user",
            "--username",
            "admin",
            "--email",
            "admin@example.com",
            "--password-stdin",
            "--group",
            "Admin",
        ],
        "admin-password\n",
    );
    let demo = credentials(&admin(
        &db,
        &[
            "create-client",
            "--name",
            "demo",
            "--owner",
            "admin",
            "--json",
            "--grants",
            "password refresh_token client_credentials",
            "--scopes",
            "read write groups albums music:read music:write",
            "--default-scopes",
            "read",
        ],
        "",
    ));
    let introspector = credentials(&admin(
        &db,
        &[
            "create-client",
            "--name",
            "resource-server",
            "--owner",
            "admin",
            "--json",
            "--grants",
            "client_credentials",
            "--scopes",
            "introspection",
            "--can-introspect",
        ],
        "",
    ));

    let (auth_port, api_port) = (free_port(), free_port());
    let auth = format!("http://127.0.0.1:{auth_port}");
    let api = format!("http://127.0.0.1:{api_port}");
    let _auth_server = Service(
        Command::new(auth_server_bin())
            .env("DATABASE_URL", &db.url)
            .env("AUTH_BIND", format!("127.0.0.1:{auth_port}"))
            .env("BCRYPT_COST", "4")
            .env("RUST_LOG", "warn")
            .spawn()
            .expect("start auth-server"),
    );
    wait_ready(&format!("{auth}/readyz")).await;
    let _resource_server = Service(
        Command::new(resource_server_bin())
            .env("DATABASE_URL", &db.url)
            .env("RESOURCE_BIND", format!("127.0.0.1:{api_port}"))
            .env("BCRYPT_COST", "4")
            .env("INTROSPECTION_URL", format!("{auth}/o/introspect/"))
            .env("INTROSPECTION_CLIENT_ID", &introspector.0)
            .env("INTROSPECTION_CLIENT_SECRET", &introspector.1)
            .env("INTROSPECTION_CACHE_SECONDS", "1")
            .env("RUST_LOG", "warn")
            .spawn()
            .expect("start resource-server"),
    );
    wait_ready(&format!("{api}/readyz")).await;

    let out = Command::new("bash")
        .args(["-euo", "pipefail", "-c", &readme_walkthrough()])
        .env("AUTH", &auth)
        .env("API", &api)
        .env("CLIENT", format!("{}:{}", demo.0, demo.1))
        .env("ADMIN_PASSWORD", "admin-password")
        .env("INTROSPECTION_CACHE_SECONDS", "2")
        .output()
        .expect("run bash");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "the walkthrough failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // The status codes the walkthrough prints, in order: read-only POST, album PATCH without
    // the albums scope, the refresh after the password change, the revoked token, and the token
    // from before the password change. curl prints a JSON body without a newline, so a
    // code may follow one on the same line.
    let codes: Vec<&str> = stdout
        .lines()
        .filter_map(|l| {
            let (head, code) = l.split_at(l.len().saturating_sub(3));
            let is_code = code.len() == 3 && code.bytes().all(|b| b.is_ascii_digit());
            (is_code && (head.is_empty() || head.ends_with('}'))).then_some(code)
        })
        .collect();
    assert_eq!(
        codes,
        ["403", "403", "400", "401", "401"],
        "output:\n{stdout}"
    );
    assert!(stdout.contains(r#""username":"foo""#), "output:\n{stdout}");
    assert!(
        !stdout.contains("password"),
        "a password field leaked:\n{stdout}"
    );
}

on_both_backends!(the_readme_walkthrough_runs_as_written);
