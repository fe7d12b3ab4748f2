//! The admin CLI: `auth-server <command>`. Each command prints a short result on stdout, an
//! `error: …` line on stderr and exits non-zero when it fails.

use std::io::{BufRead, IsTerminal};

use auth_store::models::{Application, ClientType, NewApplication};
use auth_store::{applications, signing_keys};
use clap::{Args, Parser, Subcommand};
use oauth_core::accounts::{
    is_valid_email, is_valid_username, password_problem, EMAIL_MAX_CHARS, USERNAME_MAX_CHARS,
};
use oauth_core::audit::{self, Event};
use oauth_core::config::LoggingArgs;
use oauth_core::scopes::ScopeSet;
use oauth_core::secrets::{
    new_client_id, new_client_secret, sha256_hex, ExposeSecret, PasswordHasher,
};
use oauth_core::time::now;
use serde_json::json;
use store::login_names::{self, LoginName, LoginNameClash};
use store::models::NewUser;
use store::users::UserWriteError;
use store::{groups, users, DbConnection};

use crate::clean_up::{clear_dead_rows, delete_unpublished_keys};
use crate::configuration::{AuthArgs, Settings};
use crate::flows::authorization_code::GRANT_TYPE as AUTHORIZATION_CODE;
use crate::flows::introspection::INTROSPECTION_SCOPE;
use crate::flows::GRANT_TYPES;
use crate::oidc::keys;
use crate::redirect_uris::registration_problem;

#[derive(Debug, Parser)]
#[command(
    name = "auth-server",
    version,
    about = "OAuth2 authorization server and its admin commands"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    // Every command reads the same settings.
    #[command(flatten)]
    pub settings: AuthArgs,
    #[command(flatten)]
    pub logging: LoggingArgs,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve HTTP (the default when no command is given).
    Serve,
    /// Apply pending database migrations.
    Migrate,
    /// Create a user.
    CreateUser(CreateUser),
    /// Register an OAuth client application; prints its client_id and secret once.
    CreateClient(CreateClient),
    /// List the registered clients (never their secrets).
    ListClients {
        #[arg(long)]
        json: bool,
    },
    /// Give a confidential client a new secret. Running servers may accept the old one for up to
    /// CLIENT_CACHE_SECONDS more.
    RotateClientSecret {
        // A generated client_id may start with '-'.
        #[arg(allow_hyphen_values = true)]
        client_id: String,
        #[arg(long)]
        json: bool,
    },
    /// Delete a client and every token issued to it.
    DeleteClient {
        #[arg(allow_hyphen_values = true)]
        client_id: String,
    },
    /// Deactivate a user: every token issued to them stops working at once, and they cannot sign
    /// in until activated again.
    DeactivateUser { username: String },
    /// Let a deactivated user sign in again (their old tokens stay dead).
    ActivateUser { username: String },
    /// Create the groups Admin and Leader with their permissions (safe to run again).
    CreatePermissions,
    /// Delete expired and revoked tokens older than the retention, login failures older than the
    /// throttling window, and retired signing keys whose ID tokens have all expired.
    ClearTokens {
        /// Keep dead tokens this long before deleting them [default: TOKEN_RETENTION_SECONDS].
        #[arg(long)]
        retention_seconds: Option<i64>,
    },
    /// Add a new OpenID Connect signing key and make it current: it signs new ID tokens once every
    /// server and client has had time to load it (twice SIGNING_KEY_CACHE_SECONDS). The old keys
    /// stay published until the ID tokens they signed have expired.
    RotateSigningKey,
}

#[derive(Debug, Args)]
pub struct CreateUser {
    #[arg(long)]
    pub username: String,
    #[arg(long, default_value = "")]
    pub email: String,
    /// Read the password from the first line of standard input instead of prompting.
    #[arg(long)]
    pub password_stdin: bool,
    #[arg(long)]
    pub superuser: bool,
    /// Add the user to this existing group (repeatable).
    #[arg(long = "group")]
    pub groups: Vec<String>,
}

#[derive(Debug, Args)]
pub struct CreateClient {
    #[arg(long)]
    pub name: String,
    /// Username of the user who owns the client.
    #[arg(long)]
    pub owner: String,
    /// confidential or public.
    #[arg(long = "type", default_value = "confidential")]
    pub client_type: String,
    /// Allowed grant types, separated by spaces or commas: authorization_code password
    /// refresh_token client_credentials.
    #[arg(long)]
    pub grants: String,
    /// Scopes the client may be granted [default: every configured scope but introspection,
    /// which only a client named here gets].
    #[arg(long)]
    pub scopes: Option<String>,
    /// Scopes granted when a request names none (none by default).
    #[arg(long, default_value = "", hide_default_value = true)]
    pub default_scopes: String,
    /// Allow this client to call the introspection endpoint (resource servers).
    #[arg(long)]
    pub can_introspect: bool,
    /// A redirect URI for the authorization code grant (repeatable): absolute, no fragment,
    /// https, or http on a loopback address.
    #[arg(long = "redirect-uri")]
    pub redirect_uris: Vec<String>,
    /// Where RP-initiated logout may send the browser afterwards (repeatable).
    #[arg(long = "post-logout-redirect-uri")]
    pub post_logout_redirect_uris: Vec<String>,
    /// A first-party client: users are not asked to approve it.
    #[arg(long)]
    pub skip_consent: bool,
    /// Use this client_id instead of a random one.
    #[arg(long)]
    pub client_id: Option<String>,
    /// Read the secret from the first line of standard input instead of generating one.
    #[arg(long)]
    pub secret_stdin: bool,
    #[arg(long)]
    pub json: bool,
}

/// Runs one admin command; the error is what to print after `error: `.
pub fn run(command: Command, settings: &Settings) -> anyhow::Result<()> {
    let pool = store::connect_and_migrate(settings.database.url.expose_secret(), 1)?;
    let mut conn = pool.get()?;
    match command {
        Command::Serve => unreachable!("serve is handled by main"),
        Command::Migrate => {
            // connect_and_migrate has applied them; say so.
            println!("migrations are up to date");
            Ok(())
        }
        Command::CreateUser(args) => create_user(&mut conn, settings, args),
        Command::CreateClient(args) => create_client(&mut conn, settings, args),
        Command::ListClients { json } => list_clients(&mut conn, json),
        Command::RotateClientSecret { client_id, json } => {
            rotate_secret(&mut conn, &client_id, json)
        }
        Command::DeleteClient { client_id } => {
            if !applications::delete_by_client_id(&mut conn, &client_id)? {
                anyhow::bail!("no client with client_id {client_id}");
            }
            audit::record(Event::ClientDeleted)
                .field("client_id", &client_id)
                .emit();
            println!("deleted client {client_id}");
            Ok(())
        }
        Command::DeactivateUser { username } => set_active(&mut conn, &username, false),
        Command::ActivateUser { username } => set_active(&mut conn, &username, true),
        Command::CreatePermissions => create_permissions(&mut conn),
        Command::RotateSigningKey => rotate_signing_key(&mut conn, settings),
        Command::ClearTokens { retention_seconds } => {
            let retention = retention_seconds.unwrap_or(settings.token_retention_seconds);
            if retention < 0 {
                anyhow::bail!("--retention-seconds must not be negative");
            }
            let cleared =
                clear_dead_rows(&mut conn, retention, settings.login_failure_window_seconds)?;
            let keys = delete_unpublished_keys(&mut conn, settings.key_policy())?;
            println!(
                "deleted {} access tokens and {} refresh tokens",
                cleared.access_tokens, cleared.refresh_tokens
            );
            if keys > 0 {
                println!("deleted {keys} retired signing keys");
            }
            Ok(())
        }
    }
}

fn read_secret_line(what: &str) -> anyhow::Result<String> {
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line)?;
    let value = line.trim_end_matches(['\n', '\r']).to_string();
    if value.is_empty() {
        anyhow::bail!("no {what} on standard input");
    }
    Ok(value)
}

fn read_password(from_stdin: bool) -> anyhow::Result<String> {
    if from_stdin {
        return read_secret_line("password");
    }
    if !std::io::stdin().is_terminal() {
        anyhow::bail!("no terminal to prompt for a password: use --password-stdin");
    }
    let first = rpassword::prompt_password("Password: ")?;
    let again = rpassword::prompt_password("Password (again): ")?;
    if first != again {
        anyhow::bail!("the passwords do not match");
    }
    if first.is_empty() {
        anyhow::bail!("the password is empty");
    }
    Ok(first)
}

fn create_user(
    conn: &mut DbConnection,
    settings: &Settings,
    args: CreateUser,
) -> anyhow::Result<()> {
    if !is_valid_username(&args.username) || args.username.chars().count() > USERNAME_MAX_CHARS {
        anyhow::bail!(
            "invalid username {:?}: use at most {USERNAME_MAX_CHARS} letters, digits and @.+-_",
            args.username
        );
    }
    let email_ok = is_valid_email(&args.email) && args.email.chars().count() <= EMAIL_MAX_CHARS;
    if !args.email.is_empty() && !email_ok {
        anyhow::bail!("invalid e-mail address {:?}", args.email);
    }
    // Checked before the password prompt, and again when the user is written.
    if let Some(clash) = login_names::clash(conn, None, Some(&args.username), Some(&args.email))? {
        return Err(login_name_taken(clash, &args));
    }
    let mut group_ids = Vec::new();
    for name in &args.groups {
        match groups::find_by_name(conn, name)? {
            Some(g) => group_ids.push(g.id),
            None => anyhow::bail!(
                "unknown group {name} (run create-permissions to create Admin and Leader)"
            ),
        }
    }
    let password = read_password(args.password_stdin)?;
    if let Some(problem) = password_problem(&password) {
        anyhow::bail!("invalid password: {problem}");
    }
    let password_hash = PasswordHasher::new(settings.bcrypt_cost)?.hash(&password)?;
    let new = NewUser {
        username: args.username.clone(),
        email: args.email.clone(),
        first_name: String::new(),
        last_name: String::new(),
        password_hash,
        is_active: true,
        is_superuser: args.superuser,
        date_joined: now(),
    };
    let user = users::create_in_groups(conn, &new, &group_ids).map_err(|e| match e {
        UserWriteError::Clash(clash) => login_name_taken(clash, &args),
        UserWriteError::Store(e) => e.into(),
    })?;
    println!("created user {} (id {})", user.username, user.id);
    Ok(())
}

fn login_name_taken(clash: LoginNameClash, args: &CreateUser) -> anyhow::Error {
    match clash.taken.first() {
        Some(LoginName::Email) => anyhow::anyhow!(
            "a user with the e-mail address {} (or named so) already exists",
            args.email
        ),
        _ => anyhow::anyhow!(
            "a user named {} (or with that e-mail address) already exists",
            args.username
        ),
    }
}

fn parse_grants(raw: &str) -> anyhow::Result<String> {
    let mut grants: Vec<&str> = Vec::new();
    for g in raw.split([' ', ',']).filter(|g| !g.is_empty()) {
        if !GRANT_TYPES.contains(&g) {
            anyhow::bail!(
                "unknown grant type {g:?} (known: {})",
                GRANT_TYPES.join(", ")
            );
        }
        if !grants.contains(&g) {
            grants.push(g);
        }
    }
    if grants.is_empty() {
        anyhow::bail!("--grants names no grant type");
    }
    Ok(grants.join(" "))
}

fn parse_scopes(flag: &str, raw: &str, configured: &ScopeSet) -> anyhow::Result<ScopeSet> {
    let scopes =
        ScopeSet::parse(&raw.replace(',', " ")).map_err(|e| anyhow::anyhow!("{flag}: {e}"))?;
    let unknown = scopes.missing_from(configured);
    if !unknown.is_empty() {
        anyhow::bail!(
            "{flag}: unknown scope {} (configured: {configured})",
            unknown.join(" ")
        );
    }
    Ok(scopes)
}

fn parse_redirect_uris(flag: &str, raw: &[String]) -> anyhow::Result<Vec<String>> {
    let mut uris: Vec<String> = Vec::new();
    for uri in raw {
        if let Some(problem) = registration_problem(uri) {
            anyhow::bail!("{flag} {uri:?} {problem}");
        }
        if !uris.contains(uri) {
            uris.push(uri.clone());
        }
    }
    Ok(uris)
}

fn print_credentials(client_id: &str, secret: Option<&str>, json: bool) {
    if json {
        let mut out = json!({ "client_id": client_id });
        if let Some(secret) = secret {
            out["client_secret"] = json!(secret);
        }
        println!("{out}");
    } else {
        println!("client_id: {client_id}");
        if let Some(secret) = secret {
            println!("client_secret: {secret}");
        }
    }
}

fn create_client(
    conn: &mut DbConnection,
    settings: &Settings,
    args: CreateClient,
) -> anyhow::Result<()> {
    let client_type = ClientType::parse(&args.client_type).ok_or_else(|| {
        anyhow::anyhow!(
            "--type must be confidential or public, not {:?}",
            args.client_type
        )
    })?;
    let grant_types = parse_grants(&args.grants)?;
    if client_type == ClientType::Public
        && grant_types.split(' ').any(|g| g == "client_credentials")
    {
        anyhow::bail!("a public client cannot use client_credentials");
    }
    if client_type == ClientType::Public && args.can_introspect {
        anyhow::bail!("a public client cannot introspect: it has no secret");
    }
    let allowed = match &args.scopes {
        Some(raw) => parse_scopes("--scopes", raw, &settings.scopes)?,
        None => without_introspection(&settings.scopes),
    };
    let redirect_uris = parse_redirect_uris("--redirect-uri", &args.redirect_uris)?;
    let post_logout_redirect_uris = parse_redirect_uris(
        "--post-logout-redirect-uri",
        &args.post_logout_redirect_uris,
    )?;
    let uses_code = grant_types.split(' ').any(|g| g == AUTHORIZATION_CODE);
    if uses_code && redirect_uris.is_empty() {
        anyhow::bail!("the authorization_code grant needs at least one --redirect-uri");
    }
    if !uses_code && !redirect_uris.is_empty() {
        anyhow::bail!("--redirect-uri is for clients with the authorization_code grant");
    }
    let defaults = parse_scopes("--default-scopes", &args.default_scopes, &settings.scopes)?;
    if !defaults.is_subset(&allowed) {
        anyhow::bail!("--default-scopes must be among --scopes");
    }
    let name = args.name.trim();
    if name.is_empty() {
        anyhow::bail!("--name is empty");
    }
    let Some(owner) = users::find_by_username(conn, &args.owner)? else {
        anyhow::bail!("unknown owner {:?}: no such user", args.owner);
    };
    let client_id = match args.client_id {
        Some(id)
            if id.is_empty()
                || id.len() > 100
                || !id.chars().all(|c| c.is_ascii_graphic() && c != ':') =>
        {
            anyhow::bail!("--client-id must be 1 to 100 printable characters without ':'")
        }
        Some(id) => id,
        None => new_client_id(),
    };
    let secret = match (client_type, args.secret_stdin) {
        (ClientType::Public, true) => anyhow::bail!("a public client has no secret"),
        (ClientType::Public, false) => None,
        (ClientType::Confidential, true) => {
            let secret = read_secret_line("secret")?;
            if secret.len() < 32 {
                anyhow::bail!("the secret must be at least 32 characters");
            }
            Some(secret)
        }
        (ClientType::Confidential, false) => Some(new_client_secret()),
    };
    applications::create(
        conn,
        &NewApplication {
            client_id: client_id.clone(),
            client_secret_hash: secret.as_deref().map(sha256_hex),
            name: name.to_string(),
            client_type: client_type.as_str().to_string(),
            grant_types,
            allowed_scopes: allowed.to_string(),
            default_scopes: defaults.to_string(),
            can_introspect: args.can_introspect,
            owner_id: owner.id,
            created_at: now(),
            redirect_uris: redirect_uris.join(" "),
            post_logout_redirect_uris: post_logout_redirect_uris.join(" "),
            skip_consent: args.skip_consent,
        },
    )
    .map_err(|e| {
        e.on_unique_violation(|| {
            anyhow::anyhow!("a client with client_id {client_id} already exists")
        })
    })?;
    audit::record(Event::ClientCreated)
        .field("client_id", &client_id)
        .field("type", client_type.as_str())
        .field("can_introspect", args.can_introspect)
        .field("redirect_uris", redirect_uris.join(" "))
        .emit();
    print_credentials(&client_id, secret.as_deref(), args.json);
    Ok(())
}

/// A client's default allowed scopes: `introspection` lets a token's holder introspect any token
/// it holds, so only an operator who names it grants it.
fn without_introspection(configured: &ScopeSet) -> ScopeSet {
    configured
        .iter()
        .filter(|scope| *scope != INTROSPECTION_SCOPE)
        .collect()
}

fn set_active(conn: &mut DbConnection, username: &str, active: bool) -> anyhow::Result<()> {
    let Some(user) = users::set_active(conn, username, active)? else {
        anyhow::bail!("no user named {username}");
    };
    let (event, done) = if active {
        (Event::UserActivated, "activated")
    } else {
        (Event::UserDeactivated, "deactivated")
    };
    audit::record(event).field("user_id", user.id).emit();
    println!("{done} user {} (id {})", user.username, user.id);
    Ok(())
}

fn client_json(app: &Application) -> serde_json::Value {
    json!({
        "client_id": app.client_id,
        "name": app.name,
        "type": app.client_type,
        "grant_types": app.grant_types.split_whitespace().collect::<Vec<_>>(),
        "scopes": app.allowed_scopes,
        "default_scopes": app.default_scopes,
        "can_introspect": app.can_introspect,
        "redirect_uris": app.redirect_uris().collect::<Vec<_>>(),
        "post_logout_redirect_uris": app.post_logout_redirect_uris().collect::<Vec<_>>(),
        "skip_consent": app.skip_consent,
    })
}

fn list_clients(conn: &mut DbConnection, json: bool) -> anyhow::Result<()> {
    let apps = applications::list(conn)?;
    if json {
        println!(
            "{}",
            serde_json::Value::Array(apps.iter().map(client_json).collect())
        );
        return Ok(());
    }
    println!(
        "{:<34} {:<13} {:<5} {:<44} {:<20} {:<20} REDIRECT_URIS",
        "CLIENT_ID", "TYPE", "INTRO", "GRANTS", "DEFAULT_SCOPES", "NAME"
    );
    for app in &apps {
        let redirect_uris = app.redirect_uris().collect::<Vec<_>>().join(",");
        println!(
            "{:<34} {:<13} {:<5} {:<44} {:<20} {:<20} {}",
            app.client_id,
            app.client_type,
            if app.can_introspect { "yes" } else { "no" },
            app.grant_types,
            app.default_scopes,
            app.name,
            if redirect_uris.is_empty() {
                "-"
            } else {
                &redirect_uris
            }
        );
    }
    Ok(())
}

fn rotate_secret(conn: &mut DbConnection, client_id: &str, json: bool) -> anyhow::Result<()> {
    let Some(app) = applications::find_by_client_id(conn, client_id)? else {
        anyhow::bail!("no client with client_id {client_id}");
    };
    if !app.is_confidential() {
        anyhow::bail!("client {client_id} is public and has no secret");
    }
    let secret = new_client_secret();
    applications::set_secret_hash(conn, client_id, &sha256_hex(&secret))?;
    audit::record(Event::ClientSecretRotated)
        .field("client_id", client_id)
        .emit();
    print_credentials(client_id, Some(&secret), json);
    Ok(())
}

fn rotate_signing_key(conn: &mut DbConnection, settings: &Settings) -> anyhow::Result<()> {
    let key = keys::generate()?;
    let retired = signing_keys::rotate(conn, &key.row(now()))?;
    audit::record(Event::SigningKeyRotated)
        .field("kid", &key.kid)
        .field("retired", retired)
        .emit();
    match settings.key_policy().publish_delay() {
        0 => println!("added signing key {}: it signs new ID tokens from now on", key.kid),
        delay => println!(
            "added signing key {}: it signs new ID tokens in {delay} s, once every server and client has loaded it",
            key.kid
        ),
    }
    Ok(())
}

/// The groups of the original `create_permisson` command.
pub fn permission_groups() -> Vec<(&'static str, Vec<String>)> {
    let codenames = |actions: &[&str], models: &[&str]| {
        models
            .iter()
            .flat_map(|m| actions.iter().map(move |a| format!("{a}_{m}")))
            .collect::<Vec<_>>()
    };
    vec![
        (
            "Admin",
            codenames(
                &["add", "change", "delete", "view"],
                &["user", "group", "album", "song"],
            ),
        ),
        (
            "Leader",
            codenames(&["add", "change", "view"], &["album", "song"]),
        ),
    ]
}

fn create_permissions(conn: &mut DbConnection) -> anyhow::Result<()> {
    for (group, codenames) in permission_groups() {
        let created = groups::ensure_group_with_permissions(conn, group, &codenames)?;
        println!(
            "{} group {group} ({} permissions)",
            if created { "created" } else { "kept" },
            codenames.len()
        );
    }
    Ok(())
}
