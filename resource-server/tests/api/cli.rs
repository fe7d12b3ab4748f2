//! The binary as an operator runs it.

use std::process::Command;

use resource_server::route_table::ROUTES;

fn binary() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_resource-server"));
    // Start from a clean slate whatever the test runner's environment holds.
    for (name, _) in std::env::vars() {
        if name.starts_with("INTROSPECTION_") || name == "DATABASE_URL" || name == "RESOURCE_BIND" {
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
    assert!(!stderr.contains("very-secret-value"));
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
