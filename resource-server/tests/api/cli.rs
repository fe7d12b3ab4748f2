//! The binary as an operator runs it.

use std::process::Command;

use resource_server::route_table::ROUTES;

fn binary() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_resource-server"));
    // Start from a clean slate whatever the test runner's environment holds.
    for (name, _) in std::env::vars() {
        if name.starts_with("INTROSPECTION_")
            || [
                "DATABASE_URL",
                "RESOURCE_BIND",
                "DOCS_CLIENT_ID",
                "AUTH_PUBLIC_URL",
            ]
            .contains(&name.as_str())
        {
            cmd.env_remove(name);
        }
    }
    cmd
}

#[test]
fn the_routes_command_lists_every_route_with_its_methods_and_policy() {
    let out = binary().arg("routes").output().unwrap();
    assert!(out.status.success());
    let listing = String::from_utf8(out.stdout).unwrap();
    for route in ROUTES {
        for op in route.operations {
            let line = listing
                .lines()
                .find(|l| {
                    let cols: Vec<&str> = l.split_whitespace().collect();
                    cols.first() == Some(&route.path) && cols.get(1) == Some(&op.method.as_str())
                })
                .unwrap_or_else(|| {
                    panic!("{} {} is not listed:\n{listing}", op.method, route.path)
                });
            assert!(
                line.contains(&route.policy_for(&op.method).to_string()),
                "{line}"
            );
        }
    }
    assert!(listing.contains("TokenMatchesOASRequirements(GET: [read] | [music:read]"));
    assert!(listing.contains("IsAuthenticatedOrTokenHasScope(groups) + ModelPermission(add_group)"));
    assert!(listing.contains("TokenHasReadWriteScope() + ModelPermission(delete_user)"));
}

#[test]
fn help_describes_the_commands() {
    let out = binary().arg("--help").output().unwrap();
    assert!(out.status.success());
    let help = String::from_utf8(out.stdout).unwrap();
    assert!(help.contains("routes"));
    assert!(help.contains("serve"));
}

#[test]
fn help_lists_every_variable_with_its_default_and_needs_no_setting() {
    // No INTROSPECTION_CLIENT_ID (binary() removes it), and a bad value elsewhere.
    let out = binary()
        .arg("--help")
        .env("INTROSPECTION_CACHE_SECONDS", "forever")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let help = String::from_utf8(out.stdout).unwrap();
    for (name, default) in [
        ("RESOURCE_BIND", Some("127.0.0.1:8001")),
        ("DATABASE_URL", Some("sqlite://data/oauth.sqlite3")),
        ("DATABASE_POOL_SIZE", Some("10")),
        ("BCRYPT_COST", Some("12")),
        (
            "INTROSPECTION_URL",
            Some("http://127.0.0.1:8000/o/introspect/"),
        ),
        ("INTROSPECTION_CLIENT_ID", None),
        ("INTROSPECTION_CLIENT_SECRET", None),
        ("INTROSPECTION_CACHE_SECONDS", Some("5")),
        ("INTROSPECTION_CACHE_CAPACITY", Some("100000")),
        ("INTROSPECTION_TIMEOUT_MS", Some("2000")),
        ("DOCS_CLIENT_ID", None),
        ("AUTH_PUBLIC_URL", None),
        ("RUST_LOG", Some("info")),
    ] {
        let at = help
            .find(&format!("[env: {name}"))
            .unwrap_or_else(|| panic!("{name} is not in the help:\n{help}"));
        if let Some(default) = default {
            let entry = &help[at..];
            let entry = &entry[..entry.find("  --").unwrap_or(entry.len())];
            assert!(entry.contains(&format!("[default: {default}]")), "{entry}");
        }
    }
}

#[test]
fn help_never_shows_a_secret() {
    let out = binary()
        .arg("--help")
        .env("INTROSPECTION_CLIENT_SECRET", "very-secret-value")
        .env("DATABASE_URL", "postgres://app:pw0rd@db/x")
        .output()
        .unwrap();
    assert!(out.status.success());
    let help = String::from_utf8(out.stdout).unwrap();
    assert!(!help.contains("very-secret-value"), "{help}");
    assert!(!help.contains("pw0rd"), "{help}");
}

fn assert_refuses_to_start(env: &[(&str, &str)], variable: &str) {
    let mut cmd = binary();
    cmd.env("INTROSPECTION_CLIENT_ID", "rs")
        .env("INTROSPECTION_CLIENT_SECRET", "very-secret-value")
        .env("DATABASE_URL", "sqlite://:memory:")
        .env("RESOURCE_BIND", "127.0.0.1:0");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains(variable), "{stderr}");
    assert!(!stderr.contains("very-secret-value"), "{stderr}");
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn a_bad_value_stops_the_server_with_one_line_naming_the_variable() {
    assert_refuses_to_start(
        &[("INTROSPECTION_CACHE_SECONDS", "forever")],
        "INTROSPECTION_CACHE_SECONDS",
    );
    assert_refuses_to_start(
        &[("INTROSPECTION_CACHE_SECONDS", "3601")],
        "INTROSPECTION_CACHE_SECONDS",
    );
    assert_refuses_to_start(
        &[("INTROSPECTION_TIMEOUT_MS", "0")],
        "INTROSPECTION_TIMEOUT_MS",
    );
    assert_refuses_to_start(&[("RESOURCE_BIND", "everywhere")], "RESOURCE_BIND");
    assert_refuses_to_start(&[("INTROSPECTION_URL", "auth-server")], "INTROSPECTION_URL");
    assert_refuses_to_start(&[("BCRYPT_COST", "99")], "BCRYPT_COST");
    assert_refuses_to_start(&[("AUTH_PUBLIC_URL", "localhost:8000")], "AUTH_PUBLIC_URL");
    assert_refuses_to_start(&[("DOCS_CLIENT_ID", "api\tdocs")], "DOCS_CLIENT_ID");
    assert_refuses_to_start(
        &[("DATABASE_URL", "mysql://app:very-secret-value@db/x")],
        "DATABASE_URL",
    );
    assert_refuses_to_start(
        &[("INTROSPECTION_URL", "ftp://rs:very-secret-value@auth/")],
        "INTROSPECTION_URL",
    );
}

#[test]
fn a_blank_secret_counts_as_unset() {
    assert_refuses_to_start(
        &[("INTROSPECTION_CLIENT_SECRET", " ")],
        "INTROSPECTION_CLIENT_SECRET",
    );
}

#[test]
fn the_introspection_credentials_are_required() {
    let out = binary()
        .env("DATABASE_URL", "sqlite://:memory:")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains("INTROSPECTION_CLIENT_ID"), "{stderr}");
}
