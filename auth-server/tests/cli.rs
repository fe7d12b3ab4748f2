//! The admin CLI as an operator uses it: each command runs the real `auth-server` binary as a
//! child process against a fresh database, once on SQLite and once on PostgreSQL (when
//! `OAUTH_TEST_POSTGRES_URL` is set), and the tests read back what it stored.

use std::io::Write;
use std::process::{Command, Stdio};

use auth_store::models::{NewAccessToken, NewRefreshToken, TokenFamily};
use auth_store::{applications, login_failures, signing_keys, tokens, TokenHash};
use diesel::prelude::*;
use oauth_core::secrets::{new_token, sha256_hex, verify_secret, PasswordHasher};
use oauth_core::time::now;
use store::schema;
use store::{groups, users, PooledConnection};
use test_support::TestDatabase;

/// What one run of the binary did.
#[derive(Debug)]
struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

impl Run {
    fn succeeded(&self) -> bool {
        self.code == Some(0)
    }

    /// Asserts a clean success and returns stdout.
    fn ok(self) -> String {
        assert!(
            self.succeeded(),
            "expected success, got {:?}\nstdout: {}\nstderr: {}",
            self.code,
            self.stdout,
            self.stderr
        );
        self.stdout
    }

    /// Asserts a failure whose stderr holds exactly one `error: …` line containing `needle`,
    /// and nothing on stdout.
    fn fails_with(self, needle: &str) {
        assert!(
            !self.succeeded() && self.code.is_some(),
            "expected a non-zero exit, got {:?}\nstdout: {}\nstderr: {}",
            self.code,
            self.stdout,
            self.stderr
        );
        let errors: Vec<&str> = self
            .stderr
            .lines()
            .filter(|l| l.starts_with("error: "))
            .collect();
        assert_eq!(
            errors.len(),
            1,
            "expected one `error: …` line on stderr, got: {:?}",
            self.stderr
        );
        assert!(
            errors[0].contains(needle),
            "expected the error to mention {needle:?}, got {:?}",
            errors[0]
        );
        assert!(
            self.stdout.trim().is_empty(),
            "a failed command printed on stdout: {:?}",
            self.stdout
        );
    }
}

/// Runs `auth-server` against one test database, with a clean environment: only the variables a
/// test gives, so nothing from the developer's shell leaks in.
struct Cli {
    db: TestDatabase,
}

impl Cli {
    fn new(db: TestDatabase) -> Self {
        Self { db }
    }

    fn run(&self, args: &[&str]) -> Run {
        self.run_with(args, None, &[])
    }

    fn run_stdin(&self, args: &[&str], stdin: &str) -> Run {
        self.run_with(args, Some(stdin), &[])
    }

    fn run_with(&self, args: &[&str], stdin: Option<&str>, env: &[(&str, &str)]) -> Run {
        let mut command = Command::new(env!("CARGO_BIN_EXE_auth-server"));
        command
            .args(args)
            .env_clear()
            .env("DATABASE_URL", &self.db.url)
            .env("BCRYPT_COST", "4")
            .stdin(if stdin.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        if let Ok(path) = std::env::var("PATH") {
            command.env("PATH", path);
        }
        for (name, value) in env {
            command.env(name, value);
        }
        let mut child = command.spawn().expect("start auth-server");
        if let Some(input) = stdin {
            let mut pipe = child.stdin.take().expect("stdin pipe");
            pipe.write_all(input.as_bytes()).expect("write stdin");
        }
        let output = child.wait_with_output().expect("wait for auth-server");
        Run {
            code: output.status.code(),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }

    /// A direct connection to the same database, to check what the CLI stored.
    fn conn(&self) -> PooledConnection {
        store::connect(&self.db.url, 1)
            .expect("connect to the test database")
            .get()
            .expect("a connection")
    }

    fn create_permissions(&self) {
        self.run(&["create-permissions"]).ok();
    }

    fn create_user(&self, username: &str, extra: &[&str]) -> String {
        let mut args = vec!["create-user", "--username", username, "--password-stdin"];
        args.extend_from_slice(extra);
        self.run_stdin(&args, "s3cret-pass\n").ok()
    }

    fn client_count(&self) -> usize {
        applications::list(&mut self.conn()).unwrap().len()
    }
}

/// `client_id: …` / `client_secret: …` lines, as scripts read them.
fn parse_credentials(stdout: &str) -> (String, Option<String>) {
    let mut id = None;
    let mut secret = None;
    for line in stdout.lines() {
        if let Some(v) = line.strip_prefix("client_id: ") {
            id = Some(v.to_string());
        } else if let Some(v) = line.strip_prefix("client_secret: ") {
            secret = Some(v.to_string());
        } else {
            panic!("unexpected line in the credentials: {line:?}");
        }
    }
    (id.expect("a client_id line"), secret)
}

fn access_active(cli: &Cli, token: &str) -> bool {
    tokens::find_active_access(&mut cli.conn(), &TokenHash::of(token), now())
        .unwrap()
        .is_some()
}

fn deactivate_user_ends_every_session_and_activate_does_not_revive_them(cli: Cli) {
    cli.create_user("admin", &[]);
    cli.create_user("tue", &[]);
    let (client, _) = parse_credentials(&create_demo_client(&cli, &[]).ok());
    let (access, refresh) = insert_tokens(&cli, &client, "tue", now() + 3600);
    let (admin_access, _) = insert_tokens(&cli, &client, "admin", now() + 3600);
    assert!(access_active(&cli, &access));

    let out = cli.run(&["deactivate-user", "tue"]).ok();
    assert!(out.starts_with("deactivated user tue (id "), "{out}");
    assert!(!access_active(&cli, &access));
    let tue = users::find_by_username(&mut cli.conn(), "tue")
        .unwrap()
        .unwrap();
    assert!(!tue.is_active);

    let out = cli.run(&["activate-user", "tue"]).ok();
    assert!(out.starts_with("activated user tue (id "), "{out}");
    assert!(!access_active(&cli, &access), "activation revived a token");
    let grant = tokens::find_refresh_grant(&mut cli.conn(), &TokenHash::of(&refresh))
        .unwrap()
        .unwrap();
    assert!(!grant.owner_current(), "activation revived a refresh token");
    // Nobody else's session was touched.
    assert!(access_active(&cli, &admin_access));

    cli.run(&["deactivate-user", "nobody"])
        .fails_with("no user named nobody");
    cli.run(&["activate-user", "nobody"])
        .fails_with("no user named nobody");
}

fn create_client_leaves_introspection_out_unless_named(cli: Cli) {
    cli.create_user("admin", &[]);
    let create = |extra: &[&str]| {
        let mut args = vec![
            "create-client",
            "--name",
            "spa",
            "--owner",
            "admin",
            "--grants",
            "password",
        ];
        args.extend_from_slice(extra);
        let (client_id, _) = parse_credentials(&cli.run(&args).ok());
        applications::find_by_client_id(&mut cli.conn(), &client_id)
            .unwrap()
            .unwrap()
            .allowed_scopes()
    };
    let unnamed = create(&[]);
    assert!(!unnamed.contains("introspection"), "{unnamed}");
    assert!(
        unnamed.contains("read") && unnamed.contains("write"),
        "{unnamed}"
    );
    let named = create(&["--scopes", "read introspection"]);
    assert!(named.contains("introspection"), "{named}");
}

/// One audit line per client change, on stderr under the target `audit`, without the secret.
fn client_changes_are_audited_without_secrets(cli: Cli) {
    cli.create_user("admin", &[]);
    let created = create_demo_client(&cli, &[]);
    let (client_id, secret) = parse_credentials(&created.stdout);
    let rotated = cli.run(&["rotate-client-secret", &client_id]);
    let (_, new_secret) = parse_credentials(&rotated.stdout);
    let deleted = cli.run(&["delete-client", &client_id]);
    let (secret, new_secret) = (secret.unwrap(), new_secret.unwrap());
    for (run, event) in [
        (&created, "client.create"),
        (&rotated, "client.rotate_secret"),
        (&deleted, "client.delete"),
    ] {
        let line = run
            .stderr
            .lines()
            .find(|l| l.contains(&format!("event={event} ")))
            .unwrap_or_else(|| panic!("no {event} line in {:?}", run.stderr));
        assert!(line.contains(" audit"), "{line}");
        assert!(line.contains(&format!("client_id={client_id}")), "{line}");
        for secret in [&secret, &new_secret] {
            assert!(!run.stderr.contains(secret.as_str()), "{:?}", run.stderr);
        }
    }
}

/// Declares `mod $name { sqlite, postgres }` running `fn $name(cli: Cli)` on each backend; the
/// PostgreSQL one passes without running when `OAUTH_TEST_POSTGRES_URL` is unset.
macro_rules! on_both_backends {
    ($($name:ident),+ $(,)?) => {$(
        mod $name {
            #[test]
            fn sqlite() {
                super::$name(super::Cli::new(test_support::TestDatabase::sqlite()));
            }

            #[test]
            fn postgres() {
                match test_support::TestDatabase::postgres() {
                    Some(db) => super::$name(super::Cli::new(db)),
                    None => eprintln!(
                        "skipped: set {} to run PostgreSQL tests",
                        test_support::POSTGRES_ENV
                    ),
                }
            }
        }
    )+};
}

on_both_backends!(
    deactivate_user_ends_every_session_and_activate_does_not_revive_them,
    create_client_leaves_introspection_out_unless_named,
    client_changes_are_audited_without_secrets,
    migrate_creates_the_schema_and_can_run_again,
    create_permissions_makes_admin_and_leader_and_running_it_twice_changes_nothing,
    create_user_stores_a_superuser_in_the_admin_group_with_a_bcrypt_hash,
    create_user_refuses_a_duplicate_username_and_keeps_the_first,
    create_user_refuses_an_unknown_group_and_creates_nothing,
    create_user_refuses_an_invalid_username_and_creates_nothing,
    create_user_refuses_empty_stdin_and_creates_nothing,
    create_user_refuses_an_email_past_254_characters_and_creates_nothing,
    create_user_refuses_a_password_outside_the_rule_and_creates_nothing,
    create_user_refuses_a_login_name_another_account_answers_to,
    create_client_prints_two_lines_and_stores_only_a_hash_of_the_secret,
    create_client_with_json_prints_one_object,
    create_client_registers_redirect_uris_for_the_code_grant,
    a_public_client_gets_no_secret_line,
    create_client_refuses_bad_arguments_and_creates_nothing,
    create_client_refuses_a_duplicate_client_id,
    create_client_accepts_a_fixed_id_and_a_secret_from_stdin,
    list_clients_never_prints_a_secret_or_its_hash,
    rotate_client_secret_makes_the_old_secret_stop_matching,
    rotate_client_secret_refuses_an_unknown_or_public_client,
    delete_client_removes_the_client_and_its_tokens,
    delete_client_of_an_unknown_id_is_an_error,
    clear_tokens_deletes_dead_tokens_and_keeps_live_ones,
    rotate_signing_key_adds_a_current_key_and_retires_the_others,
    clear_tokens_deletes_signing_keys_whose_tokens_have_all_expired,
);

/// The stored keys as (kid, created_at, retired_at), oldest first.
fn signing_key_rows(cli: &Cli) -> Vec<(String, i64, Option<i64>)> {
    signing_keys::list(&mut cli.conn())
        .unwrap()
        .into_iter()
        .map(|k| (k.kid, k.created_at, k.retired_at))
        .collect()
}

fn rotate_signing_key_adds_a_current_key_and_retires_the_others(cli: Cli) {
    // On a database no server has started on, the first rotation makes the first key.
    let first = cli.run(&["rotate-signing-key"]);
    let rows = signing_key_rows(&cli);
    assert_eq!(rows.len(), 1);
    let (kid, created_at, retired_at) = rows[0].clone();
    assert_eq!(retired_at, None);
    assert!((now() - created_at).abs() < 60);
    // The default cache (60 s) twice and a second: every server and client has it by then.
    assert_eq!(
        first.stdout,
        format!(
            "added signing key {kid}: it signs new ID tokens in 121 s, once every server and client has loaded it\n"
        )
    );
    let line = first
        .stderr
        .lines()
        .find(|l| l.contains("event=signing_key.rotate "))
        .unwrap_or_else(|| panic!("no audit line in {:?}", first.stderr));
    assert!(line.contains(&format!("kid={kid} ")), "{line}");
    assert!(line.ends_with("retired=0"), "{line}");
    assert!(!first.stderr.contains("PRIVATE KEY"), "{}", first.stderr);

    let second = cli.run_with(
        &["rotate-signing-key"],
        None,
        &[("SIGNING_KEY_CACHE_SECONDS", "0")],
    );
    let rows = signing_key_rows(&cli);
    assert_eq!(rows.len(), 2);
    let (new_kid, new_created_at, _) = rows[1].clone();
    assert_ne!(new_kid, kid);
    assert_eq!(
        second.ok(),
        format!("added signing key {new_kid}: it signs new ID tokens from now on\n")
    );
    // The old key was retired by the new one, at its creation.
    assert_eq!(rows[0], (kid, created_at, Some(new_created_at)));
    assert_eq!(rows[1].2, None);
}

fn clear_tokens_deletes_signing_keys_whose_tokens_have_all_expired(cli: Cli) {
    for _ in 0..2 {
        cli.run(&["rotate-signing-key"]).ok();
    }
    // With the defaults the retired key is published for two minutes and an hour more.
    let kept = cli.run(&["clear-tokens"]).ok();
    assert!(!kept.contains("signing key"), "{kept}");
    assert_eq!(signing_key_rows(&cli).len(), 2);
    // Retired a second ago, with tokens that lived a second and no caching: nothing to keep.
    std::thread::sleep(std::time::Duration::from_millis(2100));
    let cleared = cli
        .run_with(
            &["clear-tokens"],
            None,
            &[
                ("SIGNING_KEY_CACHE_SECONDS", "0"),
                ("ID_TOKEN_EXPIRE_SECONDS", "1"),
            ],
        )
        .ok();
    assert!(
        cleared.ends_with("deleted 1 retired signing keys\n"),
        "{cleared}"
    );
    let rows = signing_key_rows(&cli);
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].2, None);
}

fn migrate_creates_the_schema_and_can_run_again(cli: Cli) {
    assert!(cli.run(&["migrate"]).ok().contains("up to date"));
    assert!(cli.run(&["migrate"]).ok().contains("up to date"));
    assert!(applications::list(&mut cli.conn()).unwrap().is_empty());
    assert!(users::find_by_username(&mut cli.conn(), "nobody")
        .unwrap()
        .is_none());
}

fn permission_rows(cli: &Cli) -> (i64, i64, i64) {
    let mut conn = cli.conn();
    (
        schema::groups::table.count().get_result(&mut conn).unwrap(),
        schema::permissions::table
            .count()
            .get_result(&mut conn)
            .unwrap(),
        schema::group_permissions::table
            .count()
            .get_result(&mut conn)
            .unwrap(),
    )
}

fn create_permissions_makes_admin_and_leader_and_running_it_twice_changes_nothing(cli: Cli) {
    let first = cli.run(&["create-permissions"]).ok();
    assert!(first.contains("created group Admin"), "{first}");
    assert!(first.contains("created group Leader"), "{first}");
    let rows = permission_rows(&cli);
    // Admin: add/change/delete/view on four models; Leader: add/change/view on two.
    assert_eq!(rows, (2, 16, 16 + 6));

    let second = cli.run(&["create-permissions"]).ok();
    assert!(second.contains("kept group Admin"), "{second}");
    assert!(second.contains("kept group Leader"), "{second}");
    assert_eq!(permission_rows(&cli), rows);

    let mut conn = cli.conn();
    let admin = groups::find_by_name(&mut conn, "Admin").unwrap().unwrap();
    let leader = groups::find_by_name(&mut conn, "Leader").unwrap().unwrap();
    assert_ne!(admin.id, leader.id);

    cli.create_user("leader", &["--group", "Leader"]);
    let leader_user = users::find_by_username(&mut conn, "leader")
        .unwrap()
        .unwrap();
    assert!(users::has_permission(&mut conn, leader_user.id, "add_album").unwrap());
    assert!(!users::has_permission(&mut conn, leader_user.id, "delete_album").unwrap());
    assert!(!users::has_permission(&mut conn, leader_user.id, "add_user").unwrap());
}

fn create_user_stores_a_superuser_in_the_admin_group_with_a_bcrypt_hash(cli: Cli) {
    cli.create_permissions();
    let out = cli
        .run_stdin(
            &[
                "create-user",
                "--username",
                "admin",
                "--email",
                "admin@example.com",
                "--password-stdin",
                "--group",
                "Admin",
                "--superuser",
            ],
            "correct horse\n",
        )
        .ok();
    assert!(out.contains("created user admin"), "{out}");

    let mut conn = cli.conn();
    let admin = users::find_by_username(&mut conn, "admin")
        .unwrap()
        .unwrap();
    assert!(admin.is_superuser);
    assert!(admin.is_active);
    assert_eq!(admin.email, "admin@example.com");
    assert!(admin.password_hash.starts_with("$2"), "not a bcrypt hash");
    let hasher = PasswordHasher::new(4).unwrap();
    assert!(hasher.verify("correct horse", Some(&admin.password_hash)));
    assert!(!hasher.verify("wrong horse", Some(&admin.password_hash)));
    let in_admin = schema::user_groups::table
        .inner_join(schema::groups::table)
        .filter(schema::user_groups::user_id.eq(admin.id))
        .select(schema::groups::name)
        .load::<String>(&mut conn)
        .unwrap();
    assert_eq!(in_admin, vec!["Admin".to_string()]);

    cli.create_user("plain", &[]);
    let plain = users::find_by_username(&mut conn, "plain")
        .unwrap()
        .unwrap();
    assert!(!plain.is_superuser);
    assert!(!users::has_permission(&mut conn, plain.id, "add_user").unwrap());
}

fn create_user_refuses_a_duplicate_username_and_keeps_the_first(cli: Cli) {
    cli.create_user("tue", &[]);
    let before = users::find_by_username(&mut cli.conn(), "tue")
        .unwrap()
        .unwrap();
    cli.run_stdin(
        &["create-user", "--username", "tue", "--password-stdin"],
        "another password\n",
    )
    .fails_with("a user named tue (or with that e-mail address) already exists");
    let after = users::find_by_username(&mut cli.conn(), "tue")
        .unwrap()
        .unwrap();
    assert_eq!(before.id, after.id);
    assert_eq!(before.password_hash, after.password_hash);
}

fn create_user_refuses_an_unknown_group_and_creates_nothing(cli: Cli) {
    cli.run_stdin(
        &[
            "create-user",
            "--username",
            "tue",
            "--password-stdin",
            "--group",
            "Wizards",
        ],
        "pw\n",
    )
    .fails_with("unknown group Wizards");
    assert!(users::find_by_username(&mut cli.conn(), "tue")
        .unwrap()
        .is_none());
}

fn create_user_refuses_an_invalid_username_and_creates_nothing(cli: Cli) {
    let too_long = "x".repeat(151);
    for name in ["has space", "semi;colon", "", too_long.as_str()] {
        cli.run_stdin(
            &["create-user", "--username", name, "--password-stdin"],
            "pw\n",
        )
        .fails_with("invalid username");
    }
    let count: i64 = schema::users::table
        .count()
        .get_result(&mut cli.conn())
        .unwrap();
    assert_eq!(count, 0);
}

fn create_user_refuses_an_email_past_254_characters_and_creates_nothing(cli: Cli) {
    // Every part within its own limit, the whole past 254.
    let label = "b".repeat(63);
    let too_long = format!("{}@{label}.{label}.{label}.com", "a".repeat(64));
    assert_eq!(too_long.len(), 260);
    cli.run_stdin(
        &[
            "create-user",
            "--username",
            "tue",
            "--email",
            &too_long,
            "--password-stdin",
        ],
        "long enough\n",
    )
    .fails_with("invalid e-mail address");
    assert!(users::find_by_username(&mut cli.conn(), "tue")
        .unwrap()
        .is_none());
}

fn create_user_refuses_empty_stdin_and_creates_nothing(cli: Cli) {
    for input in ["", "\n"] {
        cli.run_stdin(
            &["create-user", "--username", "tue", "--password-stdin"],
            input,
        )
        .fails_with("no password on standard input");
    }
    // Without --password-stdin and without a terminal there is nobody to prompt.
    cli.run(&["create-user", "--username", "tue"])
        .fails_with("--password-stdin");
    assert!(users::find_by_username(&mut cli.conn(), "tue")
        .unwrap()
        .is_none());
}

fn create_user_refuses_a_login_name_another_account_answers_to(cli: Cli) {
    cli.create_user("tue", &["--email", "Tue@Example.com"]);
    cli.create_user("dave@example.org", &[]);
    let create = |username: &str, email: &str| {
        cli.run_stdin(
            &[
                "create-user",
                "--username",
                username,
                "--email",
                email,
                "--password-stdin",
            ],
            "long enough\n",
        )
    };
    create("tue@example.com", "").fails_with("a user named tue@example.com");
    create("ann", "TUE@example.com").fails_with("e-mail address TUE@example.com");
    create("ann", "Dave@Example.org").fails_with("e-mail address Dave@Example.org");
    let count: i64 = schema::users::table
        .count()
        .get_result(&mut cli.conn())
        .unwrap();
    assert_eq!(count, 2);
    // Usernames differ by case; blank e-mails never clash.
    create("Tue", "").ok();
    create("ann", "").ok();
}

fn create_user_refuses_a_password_outside_the_rule_and_creates_nothing(cli: Cli) {
    let past_72 = format!("{}abc", "é".repeat(35));
    for (password, problem) in [
        ("1234567", "too short"),
        ("ééééééé", "too short"),
        (past_72.as_str(), "too long"),
        (&"x".repeat(73), "too long"),
    ] {
        cli.run_stdin(
            &["create-user", "--username", "tue", "--password-stdin"],
            &format!("{password}\n"),
        )
        .fails_with(problem);
    }
    let count: i64 = schema::users::table
        .count()
        .get_result(&mut cli.conn())
        .unwrap();
    assert_eq!(count, 0);
    let exactly_72 = format!("{}ab", "é".repeat(35));
    cli.run_stdin(
        &["create-user", "--username", "tue", "--password-stdin"],
        &format!("{exactly_72}\n"),
    )
    .ok();
    let tue = users::find_by_username(&mut cli.conn(), "tue")
        .unwrap()
        .unwrap();
    assert!(PasswordHasher::new(4)
        .unwrap()
        .verify(&exactly_72, Some(&tue.password_hash)));
}

const DEMO_SCOPES: &str = "read write groups albums music:read music:write";

fn create_demo_client(cli: &Cli, extra: &[&str]) -> Run {
    let mut args = vec![
        "create-client",
        "--name",
        "demo",
        "--owner",
        "admin",
        "--grants",
        "password refresh_token client_credentials",
        "--scopes",
        DEMO_SCOPES,
        "--default-scopes",
        "read",
    ];
    args.extend_from_slice(extra);
    cli.run(&args)
}

fn create_client_prints_two_lines_and_stores_only_a_hash_of_the_secret(cli: Cli) {
    cli.create_user("admin", &[]);
    let out = create_demo_client(&cli, &[]).ok();
    assert_eq!(out.lines().count(), 2, "{out}");
    let (client_id, secret) = parse_credentials(&out);
    let secret = secret.expect("a confidential client has a secret");
    // 384 random bits, URL-safe base64 without padding.
    assert_eq!(secret.len(), 64);

    let app = applications::find_by_client_id(&mut cli.conn(), &client_id)
        .unwrap()
        .unwrap();
    let stored = app.client_secret_hash.clone().expect("a stored hash");
    assert_ne!(stored, secret, "the secret itself must not be stored");
    assert!(verify_secret(&secret, &stored));
    assert!(app.is_confidential());
    assert_eq!(app.grant_types, "password refresh_token client_credentials");
    assert_eq!(app.default_scopes, "read");
    for scope in DEMO_SCOPES.split(' ') {
        assert!(
            app.allowed_scopes.split(' ').any(|s| s == scope),
            "{scope} missing from {}",
            app.allowed_scopes
        );
    }
    assert!(!app.can_introspect);
}

fn create_client_with_json_prints_one_object(cli: Cli) {
    cli.create_user("admin", &[]);
    let out = create_demo_client(&cli, &["--json"]).ok();
    assert_eq!(out.trim().lines().count(), 1, "{out}");
    let value: serde_json::Value = serde_json::from_str(&out).expect("JSON");
    let client_id = value["client_id"].as_str().expect("client_id");
    let secret = value["client_secret"].as_str().expect("client_secret");
    let app = applications::find_by_client_id(&mut cli.conn(), client_id)
        .unwrap()
        .unwrap();
    assert!(verify_secret(secret, &app.client_secret_hash.unwrap()));

    let public = cli
        .run(&[
            "create-client",
            "--name",
            "spa",
            "--owner",
            "admin",
            "--type",
            "public",
            "--grants",
            "password",
            "--json",
        ])
        .ok();
    let value: serde_json::Value = serde_json::from_str(&public).expect("JSON");
    assert!(value["client_id"].is_string());
    assert!(value.get("client_secret").is_none(), "{public}");
}

fn create_client_registers_redirect_uris_for_the_code_grant(cli: Cli) {
    cli.create_user("admin", &[]);
    let out = cli
        .run(&[
            "create-client",
            "--name",
            "API docs",
            "--owner",
            "admin",
            "--type",
            "public",
            "--client-id",
            "api-docs",
            "--grants",
            "authorization_code,refresh_token",
            "--redirect-uri",
            "http://127.0.0.1:8001/docs/oauth2-redirect",
            "--redirect-uri",
            "https://docs.example.com/docs/oauth2-redirect",
            "--post-logout-redirect-uri",
            "https://docs.example.com/",
            "--skip-consent",
        ])
        .ok();
    assert_eq!(out.trim(), "client_id: api-docs");
    let app = applications::find_by_client_id(&mut cli.conn(), "api-docs")
        .unwrap()
        .unwrap();
    assert_eq!(
        app.redirect_uris().collect::<Vec<_>>(),
        [
            "http://127.0.0.1:8001/docs/oauth2-redirect",
            "https://docs.example.com/docs/oauth2-redirect"
        ]
    );
    assert_eq!(
        app.post_logout_redirect_uris().collect::<Vec<_>>(),
        ["https://docs.example.com/"]
    );
    assert!(app.skip_consent);
    assert_eq!(app.grant_types, "authorization_code refresh_token");

    let listed = cli.run(&["list-clients"]).ok();
    assert!(
        listed.contains("http://127.0.0.1:8001/docs/oauth2-redirect,https://docs.example.com/docs/oauth2-redirect"),
        "{listed}"
    );
    let json: serde_json::Value =
        serde_json::from_str(&cli.run(&["list-clients", "--json"]).ok()).unwrap();
    assert_eq!(
        json[0]["redirect_uris"][1],
        "https://docs.example.com/docs/oauth2-redirect"
    );
    assert_eq!(json[0]["skip_consent"], true);
}

fn a_public_client_gets_no_secret_line(cli: Cli) {
    cli.create_user("admin", &[]);
    let out = cli
        .run(&[
            "create-client",
            "--name",
            "spa",
            "--owner",
            "admin",
            "--type",
            "public",
            "--grants",
            "password,refresh_token",
        ])
        .ok();
    assert_eq!(out.lines().count(), 1, "{out}");
    let (client_id, secret) = parse_credentials(&out);
    assert_eq!(secret, None);
    let app = applications::find_by_client_id(&mut cli.conn(), &client_id)
        .unwrap()
        .unwrap();
    assert!(!app.is_confidential());
    assert_eq!(app.client_secret_hash, None);
    assert_eq!(app.grant_types, "password refresh_token");
}

fn create_client_refuses_bad_arguments_and_creates_nothing(cli: Cli) {
    cli.create_user("admin", &[]);
    let base = |owner: &'static str, grants: &'static str| {
        vec![
            "create-client",
            "--name",
            "x",
            "--owner",
            owner,
            "--grants",
            grants,
        ]
    };
    cli.run(&base("ghost", "password"))
        .fails_with("unknown owner");
    cli.run(&base("admin", "password implicit"))
        .fails_with("unknown grant type \"implicit\"");
    cli.run(&base("admin", "authorization_code"))
        .fails_with("the authorization_code grant needs at least one --redirect-uri");
    for (uri, problem) in [
        ("http://app.example.com/cb", "must use https"),
        ("https://app.example.com/cb#x", "must not have a fragment"),
        ("/cb", "is not an absolute URI"),
        ("javascript:alert(1)", "must be an https URI"),
    ] {
        let mut bad_uri = base("admin", "authorization_code");
        bad_uri.extend(["--redirect-uri", uri]);
        cli.run(&bad_uri).fails_with(problem);
    }
    let mut uri_without_code = base("admin", "password");
    uri_without_code.extend(["--redirect-uri", "https://app.example.com/cb"]);
    cli.run(&uri_without_code)
        .fails_with("--redirect-uri is for clients with the authorization_code grant");
    let mut bad_logout = base("admin", "authorization_code");
    bad_logout.extend([
        "--redirect-uri",
        "https://app.example.com/cb",
        "--post-logout-redirect-uri",
        "http://app.example.com/bye",
    ]);
    cli.run(&bad_logout)
        .fails_with("--post-logout-redirect-uri");
    let mut public_cc = base("admin", "client_credentials");
    public_cc.extend(["--type", "public"]);
    cli.run(&public_cc)
        .fails_with("a public client cannot use client_credentials");
    let mut unknown_scope = base("admin", "password");
    unknown_scope.extend(["--scopes", "read launch_missiles"]);
    cli.run(&unknown_scope)
        .fails_with("unknown scope launch_missiles");
    let mut unknown_default = base("admin", "password");
    unknown_default.extend(["--default-scopes", "teleport"]);
    cli.run(&unknown_default)
        .fails_with("unknown scope teleport");
    let mut default_outside = base("admin", "password");
    default_outside.extend(["--scopes", "read", "--default-scopes", "write"]);
    cli.run(&default_outside)
        .fails_with("--default-scopes must be among --scopes");
    let mut public_introspector = base("admin", "password");
    public_introspector.extend(["--type", "public", "--can-introspect"]);
    cli.run(&public_introspector)
        .fails_with("a public client cannot introspect");
    let mut public_with_secret = base("admin", "password");
    public_with_secret.extend(["--type", "public", "--secret-stdin"]);
    cli.run_stdin(
        &public_with_secret,
        "a-secret-long-enough-to-be-accepted-otherwise\n",
    )
    .fails_with("a public client has no secret");
    let mut bad_client_id = base("admin", "password");
    bad_client_id.extend(["--client-id", "has:colon"]);
    cli.run(&bad_client_id).fails_with("--client-id");
    let mut bad_type = base("admin", "password");
    bad_type.extend(["--type", "secretive"]);
    cli.run(&bad_type).fails_with("--type");
    assert_eq!(cli.client_count(), 0);
}

fn create_client_refuses_a_duplicate_client_id(cli: Cli) {
    cli.create_user("admin", &[]);
    let first = create_demo_client(&cli, &["--client-id", "fixed-id"]).ok();
    let (_, secret) = parse_credentials(&first);
    create_demo_client(&cli, &["--client-id", "fixed-id"])
        .fails_with("a client with client_id fixed-id already exists");
    assert_eq!(cli.client_count(), 1);
    // The first client's secret still works: the failed attempt changed nothing.
    let app = applications::find_by_client_id(&mut cli.conn(), "fixed-id")
        .unwrap()
        .unwrap();
    assert!(verify_secret(
        &secret.unwrap(),
        &app.client_secret_hash.unwrap()
    ));
}

fn create_client_accepts_a_fixed_id_and_a_secret_from_stdin(cli: Cli) {
    cli.create_user("admin", &[]);
    let secret = "a-fixed-introspection-secret-of-48-characters-xx";
    let out = cli
        .run_stdin(
            &[
                "create-client",
                "--name",
                "resource-server",
                "--owner",
                "admin",
                "--grants",
                "client_credentials",
                "--client-id",
                "resource-server",
                "--secret-stdin",
                "--can-introspect",
            ],
            &format!("{secret}\n"),
        )
        .ok();
    assert_eq!(
        parse_credentials(&out),
        ("resource-server".to_string(), Some(secret.to_string()))
    );
    let app = applications::find_by_client_id(&mut cli.conn(), "resource-server")
        .unwrap()
        .unwrap();
    assert!(app.can_introspect);
    assert!(verify_secret(secret, &app.client_secret_hash.unwrap()));

    cli.run_stdin(
        &[
            "create-client",
            "--name",
            "weak",
            "--owner",
            "admin",
            "--grants",
            "client_credentials",
            "--secret-stdin",
        ],
        "short\n",
    )
    .fails_with("at least 32 characters");
    assert_eq!(cli.client_count(), 1);
}

fn list_clients_never_prints_a_secret_or_its_hash(cli: Cli) {
    cli.create_user("admin", &[]);
    let empty = cli.run(&["list-clients", "--json"]).ok();
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&empty).unwrap(),
        serde_json::json!([])
    );

    let (demo_id, demo_secret) = parse_credentials(&create_demo_client(&cli, &[]).ok());
    let demo_secret = demo_secret.unwrap();
    let (intro_id, intro_secret) = parse_credentials(
        &cli.run(&[
            "create-client",
            "--name",
            "resource-server",
            "--owner",
            "admin",
            "--grants",
            "client_credentials",
            "--can-introspect",
        ])
        .ok(),
    );
    let intro_secret = intro_secret.unwrap();
    let forbidden = [
        demo_secret.clone(),
        sha256_hex(&demo_secret),
        intro_secret.clone(),
        sha256_hex(&intro_secret),
    ];

    let plain = cli.run(&["list-clients"]).ok();
    let json = cli.run(&["list-clients", "--json"]).ok();
    for out in [&plain, &json] {
        for needle in &forbidden {
            assert!(!out.contains(needle.as_str()), "leaked a secret: {out}");
        }
        assert!(!out.contains("secret"), "{out}");
    }
    assert!(
        plain.contains(&demo_id) && plain.contains(&intro_id),
        "{plain}"
    );
    assert_eq!(
        plain.lines().count(),
        3,
        "a header and one line per client: {plain}"
    );

    let listed: serde_json::Value = serde_json::from_str(&json).unwrap();
    let listed = listed.as_array().unwrap();
    assert_eq!(listed.len(), 2);
    assert_eq!(listed[0]["client_id"], demo_id.as_str());
    assert_eq!(listed[0]["can_introspect"], false);
    assert_eq!(listed[0]["default_scopes"], "read");
    assert_eq!(listed[1]["client_id"], intro_id.as_str());
    assert_eq!(listed[1]["can_introspect"], true);
}

fn rotate_client_secret_makes_the_old_secret_stop_matching(cli: Cli) {
    cli.create_user("admin", &[]);
    let (client_id, old) = parse_credentials(&create_demo_client(&cli, &[]).ok());
    let old = old.unwrap();

    let out = cli.run(&["rotate-client-secret", &client_id]).ok();
    let (rotated_id, new) = parse_credentials(&out);
    let new = new.expect("a new secret line");
    assert_eq!(rotated_id, client_id);
    assert_ne!(new, old);

    let stored = applications::find_by_client_id(&mut cli.conn(), &client_id)
        .unwrap()
        .unwrap()
        .client_secret_hash
        .unwrap();
    assert!(
        !verify_secret(&old, &stored),
        "the old secret still matches"
    );
    assert!(
        verify_secret(&new, &stored),
        "the new secret does not match"
    );

    let json = cli
        .run(&["rotate-client-secret", &client_id, "--json"])
        .ok();
    let value: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(value["client_id"], client_id.as_str());
    let newest = value["client_secret"].as_str().unwrap();
    let stored = applications::find_by_client_id(&mut cli.conn(), &client_id)
        .unwrap()
        .unwrap()
        .client_secret_hash
        .unwrap();
    assert!(!verify_secret(&new, &stored));
    assert!(verify_secret(newest, &stored));
}

fn rotate_client_secret_refuses_an_unknown_or_public_client(cli: Cli) {
    cli.create_user("admin", &[]);
    cli.run(&["rotate-client-secret", "no-such-client"])
        .fails_with("no client with client_id no-such-client");
    let (public_id, _) = parse_credentials(
        &cli.run(&[
            "create-client",
            "--name",
            "spa",
            "--owner",
            "admin",
            "--type",
            "public",
            "--grants",
            "password",
        ])
        .ok(),
    );
    cli.run(&["rotate-client-secret", &public_id])
        .fails_with("is public and has no secret");
    let app = applications::find_by_client_id(&mut cli.conn(), &public_id)
        .unwrap()
        .unwrap();
    assert_eq!(app.client_secret_hash, None);
}

/// Inserts an access token and a refresh token for `client_id`, expiring at `expires_at`.
fn insert_tokens(cli: &Cli, client_id: &str, user: &str, expires_at: i64) -> (String, String) {
    let mut conn = cli.conn();
    let app = applications::find_by_client_id(&mut conn, client_id)
        .unwrap()
        .unwrap();
    let user = users::find_by_username(&mut conn, user).unwrap().unwrap();
    let access = new_token();
    let refresh = new_token();
    let issued_at = expires_at - 3600;
    let family = TokenFamily {
        id: uuid_like(&refresh),
        application_id: app.id,
        user_id: user.id,
        credentials_version: user.credentials_version,
        current_hash: None,
        created_at: issued_at,
        expires_at,
        revoked_at: None,
    };
    tokens::insert_grant(
        &mut conn,
        &NewAccessToken {
            token_hash: TokenHash::of(&access),
            application_id: app.id,
            user_id: Some(user.id),
            scope: "read".into(),
            issued_at,
            expires_at,
            credentials_version: user.credentials_version,
        },
        Some((
            &family,
            &NewRefreshToken {
                token_hash: TokenHash::of(&refresh),
                access_token_hash: None,
                application_id: app.id,
                user_id: user.id,
                family_id: family.id.clone(),
                scope: "read".into(),
                issued_at,
                expires_at,
            },
        )),
    )
    .unwrap();
    (access, refresh)
}

/// A family id of the stored width, derived from the token so each family is distinct.
fn uuid_like(seed: &str) -> String {
    sha256_hex(seed)[..36].to_string()
}

fn access_exists(cli: &Cli, token: &str) -> bool {
    tokens::find_access_by_hash(&mut cli.conn(), &TokenHash::of(token))
        .unwrap()
        .is_some()
}

fn refresh_exists(cli: &Cli, token: &str) -> bool {
    tokens::find_refresh_by_hash(&mut cli.conn(), &TokenHash::of(token))
        .unwrap()
        .is_some()
}

fn delete_client_removes_the_client_and_its_tokens(cli: Cli) {
    cli.create_user("admin", &[]);
    let (doomed, _) = parse_credentials(&create_demo_client(&cli, &[]).ok());
    let (kept, _) = parse_credentials(&create_demo_client(&cli, &[]).ok());
    let (doomed_access, doomed_refresh) = insert_tokens(&cli, &doomed, "admin", now() + 3600);
    let (kept_access, kept_refresh) = insert_tokens(&cli, &kept, "admin", now() + 3600);

    let out = cli.run(&["delete-client", &doomed]).ok();
    assert!(out.contains(&doomed), "{out}");
    assert!(applications::find_by_client_id(&mut cli.conn(), &doomed)
        .unwrap()
        .is_none());
    assert!(!access_exists(&cli, &doomed_access));
    assert!(!refresh_exists(&cli, &doomed_refresh));
    assert!(applications::find_by_client_id(&mut cli.conn(), &kept)
        .unwrap()
        .is_some());
    assert!(access_exists(&cli, &kept_access));
    assert!(refresh_exists(&cli, &kept_refresh));
}

fn delete_client_of_an_unknown_id_is_an_error(cli: Cli) {
    cli.create_user("admin", &[]);
    create_demo_client(&cli, &[]).ok();
    cli.run(&["delete-client", "no-such-client"])
        .fails_with("no client with client_id no-such-client");
    assert_eq!(cli.client_count(), 1);
}

fn clear_tokens_deletes_dead_tokens_and_keeps_live_ones(cli: Cli) {
    cli.create_user("admin", &[]);
    let (client_id, _) = parse_credentials(&create_demo_client(&cli, &[]).ok());
    let t = now();
    // Expired two days ago: past the default retention of one day.
    let (old_access, old_refresh) = insert_tokens(&cli, &client_id, "admin", t - 2 * 86_400);
    // Expired a minute ago: still within the retention.
    let (recent_access, recent_refresh) = insert_tokens(&cli, &client_id, "admin", t - 60);
    let (live_access, live_refresh) = insert_tokens(&cli, &client_id, "admin", t + 3600);

    let out = cli.run(&["clear-tokens"]).ok();
    assert!(
        out.contains("deleted 1 access tokens and 1 refresh tokens"),
        "{out}"
    );
    assert!(!access_exists(&cli, &old_access));
    assert!(!refresh_exists(&cli, &old_refresh));
    assert!(access_exists(&cli, &recent_access));
    assert!(refresh_exists(&cli, &recent_refresh));

    cli.run(&["clear-tokens", "--retention-seconds", "0"]).ok();
    assert!(!access_exists(&cli, &recent_access));
    assert!(!refresh_exists(&cli, &recent_refresh));
    assert!(access_exists(&cli, &live_access));
    assert!(refresh_exists(&cli, &live_refresh));

    cli.run(&["clear-tokens", "--retention-seconds=-5"])
        .fails_with("--retention-seconds must not be negative");

    // Login failures older than the throttling window go too; recent ones stay.
    login_failures::record(&mut cli.conn(), "user:1", t - 901).unwrap();
    login_failures::record(&mut cli.conn(), "user:1", t - 10).unwrap();
    cli.run(&["clear-tokens"]).ok();
    assert_eq!(
        login_failures::count_since(&mut cli.conn(), "user:1", 0).unwrap(),
        1
    );
}

#[test]
fn a_bad_config_value_stops_every_command_with_one_line_naming_the_variable() {
    let cli = Cli::new(TestDatabase::sqlite());
    for (name, value) in [
        ("BCRYPT_COST", "abc"),
        ("BCRYPT_COST", "99"),
        ("DATABASE_POOL_SIZE", "0"),
        ("ACCESS_TOKEN_EXPIRE_SECONDS", "soon"),
        ("DATABASE_URL", "mysql://localhost/oauth"),
    ] {
        for command in ["migrate", "list-clients"] {
            let run = cli.run_with(&[command], None, &[(name, value)]);
            assert!(
                !run.succeeded() && run.code.is_some(),
                "{name}={value} {command}: {run:?}"
            );
            let lines: Vec<&str> = run.stderr.lines().collect();
            assert_eq!(lines.len(), 1, "{name}={value} {command}: {:?}", run.stderr);
            assert!(lines[0].starts_with("error: "), "{:?}", lines[0]);
            assert!(
                lines[0].contains(name),
                "{:?} does not name {name}",
                lines[0]
            );
            assert!(run.stdout.is_empty(), "{:?}", run.stdout);
        }
    }
}

#[test]
fn a_bad_database_url_is_named_without_its_password() {
    let cli = Cli::new(TestDatabase::sqlite());
    let run = cli.run_with(
        &["migrate"],
        None,
        &[("DATABASE_URL", "mysql://app:pw0rd@localhost/oauth")],
    );
    assert_eq!(run.code, Some(2), "{run:?}");
    assert_eq!(run.stderr.lines().count(), 1, "{:?}", run.stderr);
    assert!(
        run.stderr
            .starts_with("error: invalid configuration: DATABASE_URL: "),
        "{:?}",
        run.stderr
    );
    assert!(!run.stderr.contains("pw0rd"), "{:?}", run.stderr);
}

#[test]
fn bad_operations_settings_stop_the_server_with_one_line_naming_them() {
    let cli = Cli::new(TestDatabase::sqlite());
    for (name, value) in [
        ("LOG_FORMAT", "yaml"),
        ("METRICS_BIND", "localhost"),
        ("METRICS_BIND", "0.0.0.0:99999"),
        ("SHUTDOWN_DRAIN_SECONDS", "-1"),
        ("SHUTDOWN_DRAIN_SECONDS", "601"),
    ] {
        let run = cli.run_with(&["serve"], None, &[(name, value)]);
        assert_eq!(run.code, Some(2), "{name}={value}: {run:?}");
        assert_eq!(run.stderr.lines().count(), 1, "{:?}", run.stderr);
        assert!(
            run.stderr
                .starts_with(&format!("error: invalid configuration: {name}: ")),
            "{:?}",
            run.stderr
        );
    }
}

/// LOG_FORMAT=json: every line the server writes is one JSON object, the access log's included,
/// with its request id, and no secret sent in the request is in any of them.
#[test]
fn json_logs_are_one_object_a_line_without_secrets() {
    use std::io::{BufRead, BufReader, Read, Write};
    use std::net::TcpStream;
    let db = TestDatabase::sqlite();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut child = Command::new(env!("CARGO_BIN_EXE_auth-server"))
        .env("DATABASE_URL", &db.url)
        .env("BCRYPT_COST", "4")
        .env("TOKEN_CLEANUP_INTERVAL_SECONDS", "0")
        .env("LOG_FORMAT", "json")
        .env("RUST_LOG", "info")
        .env("SHUTDOWN_DRAIN_SECONDS", "0")
        .env("AUTH_BIND", format!("127.0.0.1:{port}"))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let started = std::time::Instant::now();
    let mut stream = loop {
        match TcpStream::connect(("127.0.0.1", port)) {
            Ok(stream) => break stream,
            Err(_) if started.elapsed() < std::time::Duration::from_secs(30) => {
                std::thread::sleep(std::time::Duration::from_millis(50))
            }
            Err(e) => panic!("the server did not start: {e}"),
        }
    };
    let body = "grant_type=password&username=SECRET-USER&password=SECRET-PASSWORD";
    write!(
        stream,
        "POST /o/token/?code=SECRET-QUERY HTTP/1.1\r\nHost: x\r\nX-Request-Id: trace-json-1\r\n\
         Authorization: Basic U0VDUkVULUlEOlNFQ1JFVC1TRUNSRVQ=\r\n\
         Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\
         Connection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 401"), "{answer}");
    Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let lines: Vec<String> = BufReader::new(stderr).lines().map(Result::unwrap).collect();
    child.wait().unwrap();
    assert!(lines.len() >= 3, "{lines:?}");
    let mut access = None;
    for line in &lines {
        let object: serde_json::Value =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"));
        for field in ["time", "level", "target", "message"] {
            assert!(object[field].is_string(), "{field} in {line}");
        }
        assert!(!line.contains("SECRET"), "{line}");
        if object["message"]
            .as_str()
            .unwrap()
            .contains("\"POST /o/token/\" 401")
        {
            access = Some(object);
        }
    }
    let access = access.unwrap_or_else(|| panic!("no access log line in {lines:?}"));
    assert!(access["message"]
        .as_str()
        .unwrap()
        .ends_with("request_id=trace-json-1"));
}

#[test]
fn help_lists_every_variable_with_its_default_whatever_their_values() {
    let cli = Cli::new(TestDatabase::sqlite());
    // --help needs no valid setting, and never shows the database password.
    let help = cli
        .run_with(
            &["--help"],
            None,
            &[
                ("BCRYPT_COST", "abc"),
                ("DATABASE_URL", "postgres://app:pw0rd@db/oauth"),
            ],
        )
        .ok();
    for (name, default) in [
        ("AUTH_BIND", Some("127.0.0.1:8000")),
        ("DATABASE_URL", Some("sqlite://data/oauth.sqlite3")),
        ("DATABASE_POOL_SIZE", Some("10")),
        ("ACCESS_TOKEN_EXPIRE_SECONDS", Some("36000")),
        ("REFRESH_TOKEN_EXPIRE_SECONDS", Some("2592000")),
        ("REFRESH_TOKEN_MAX_LIFETIME_SECONDS", Some("7776000")),
        ("AUTHORIZATION_CODE_EXPIRE_SECONDS", Some("60")),
        ("SESSION_EXPIRE_SECONDS", Some("86400")),
        ("BCRYPT_COST", Some("12")),
        (
            "OAUTH_SCOPES",
            Some("albums delete email groups introspection music:read"),
        ),
        ("AUTH_ISSUER", None),
        ("LOGIN_FAILURE_LIMIT", Some("10")),
        ("LOGIN_FAILURE_WINDOW_SECONDS", Some("900")),
        ("CLIENT_CACHE_SECONDS", Some("5")),
        ("TOKEN_CLEANUP_INTERVAL_SECONDS", Some("3600")),
        ("TOKEN_RETENTION_SECONDS", Some("86400")),
        ("ID_TOKEN_EXPIRE_SECONDS", Some("3600")),
        ("SIGNING_KEY_CACHE_SECONDS", Some("60")),
        ("CORS_ORIGINS_CACHE_SECONDS", Some("60")),
        ("RUST_LOG", Some("info")),
        ("LOG_FORMAT", Some("text")),
        ("METRICS_BIND", None),
        ("SHUTDOWN_DRAIN_SECONDS", Some("5")),
    ] {
        let entry = help_entry(&help, name);
        if let Some(default) = default {
            // clap quotes a default that holds spaces.
            assert!(
                entry.contains(&format!("[default: {default}"))
                    || entry.contains(&format!("[default: \"{default}")),
                "{entry}"
            );
        }
    }
    assert!(!help.contains("pw0rd"), "{help}");
    assert!(help.contains("[env: BCRYPT_COST=abc]"), "{help}");
    let version = cli.run_with(&["--version"], None, &[("BCRYPT_COST", "abc")]);
    assert!(version.ok().starts_with("auth-server "));
}

/// The text of the option that `[env: NAME…]` belongs to, from its flag to the next one.
fn help_entry<'a>(help: &'a str, name: &str) -> &'a str {
    let env = help
        .find(&format!("[env: {name}"))
        .unwrap_or_else(|| panic!("{name} is not in the help:\n{help}"));
    let start = help[..env].rfind("  --").unwrap_or(0);
    let end = help[env..].find("  --").map_or(help.len(), |i| env + i);
    &help[start..end]
}

/// scripts/bootstrap, as compose runs it: the secrets it makes go to a file only its owner can
/// read, never to stdout (container logs), and it says where they are.
#[test]
fn bootstrap_writes_its_secrets_to_an_owner_only_file_and_never_prints_them() {
    use std::os::unix::fs::PermissionsExt;
    let db = TestDatabase::sqlite();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("credentials.env");
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../scripts/bootstrap");
    let output = Command::new("bash")
        .arg(script)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("AUTH_SERVER", env!("CARGO_BIN_EXE_auth-server"))
        .env("DATABASE_URL", &db.url)
        .env("BCRYPT_COST", "4")
        .env("BOOTSTRAP_ENV_FILE", &file)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stdout}\n{stderr}");
    assert_eq!(
        std::fs::metadata(&file).unwrap().permissions().mode() & 0o777,
        0o600
    );
    let written = std::fs::read_to_string(&file).unwrap();
    let value = |key: &str| {
        written
            .lines()
            .find_map(|l| l.strip_prefix(&format!("{key}=")))
            .unwrap_or_else(|| panic!("no {key} in {written}"))
            .to_string()
    };
    for key in [
        "ADMIN_PASSWORD",
        "DEMO_CLIENT_SECRET",
        "INTROSPECTION_CLIENT_SECRET",
    ] {
        let secret = value(key);
        assert!(secret.len() >= 8, "{key}");
        assert!(!stdout.contains(&secret), "{key} on stdout: {stdout}");
        assert!(!stderr.contains(&secret), "{key} on stderr: {stderr}");
    }
    assert!(stdout.contains(&file.display().to_string()), "{stdout}");
    // The written credentials are the real ones.
    let demo = applications::find_by_client_id(
        &mut store::connect(&db.url, 1).unwrap().get().unwrap(),
        &value("DEMO_CLIENT_ID"),
    )
    .unwrap()
    .unwrap();
    assert!(verify_secret(
        &value("DEMO_CLIENT_SECRET"),
        demo.client_secret_hash.as_deref().unwrap()
    ));
}

#[test]
fn an_unreachable_database_is_one_clear_error() {
    // A directory under a regular file cannot be created.
    let blocker = std::env::temp_dir().join(format!("oauth-cli-{}", uuid::Uuid::new_v4().simple()));
    std::fs::write(&blocker, "").unwrap();
    let url = format!("sqlite://{}/sub/oauth.sqlite3", blocker.display());
    let cli = Cli::new(TestDatabase::sqlite());
    let run = cli.run_with(&["migrate"], None, &[("DATABASE_URL", url.as_str())]);
    assert!(!run.succeeded(), "{run:?}");
    assert!(
        run.stderr.lines().any(|l| l.starts_with("error: ")),
        "{:?}",
        run.stderr
    );
    std::fs::remove_file(&blocker).unwrap();
}
