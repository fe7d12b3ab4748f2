use std::process::ExitCode;

use clap::{Parser, Subcommand};
use oauth_core::config::Vars;
use resource_server::configuration::Settings;
use resource_server::route_table;
use resource_server::startup::Application;

const ENVIRONMENT: &str = "\
Environment:
  RESOURCE_BIND                  address to serve on [default: 127.0.0.1:8001]
  DATABASE_URL                   sqlite://path or postgres://user:pass@host/db [default: sqlite://data/oauth.sqlite3]
  DATABASE_POOL_SIZE             database connections [default: 10]
  BCRYPT_COST                    cost of the password hashes of created users [default: 12]
  INTROSPECTION_URL              the auth server's introspection endpoint [default: http://127.0.0.1:8000/o/introspect/]
  INTROSPECTION_CLIENT_ID        this server's client at the auth server, allowed to introspect [required]
  INTROSPECTION_CLIENT_SECRET    its secret [required]
  INTROSPECTION_CACHE_SECONDS    how long an answer is reused, never past the token's expiry; 0 = off [default: 5]
  INTROSPECTION_CACHE_CAPACITY   answers kept at most [default: 100000]
  INTROSPECTION_TIMEOUT_MS       bound on connecting to and hearing from the auth server [default: 2000]
  RUST_LOG                       log filter [default: info]";

/// The REST API: users, groups, albums and songs, guarded by OAuth scopes checked by
/// introspection at the auth server.
#[derive(Parser)]
#[command(version, about, after_help = ENVIRONMENT)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the API (what running without a command does).
    Serve,
    /// List every route with its methods and scope policy.
    Routes,
}

fn main() -> ExitCode {
    oauth_core::memory::limit_allocator_arenas();
    match Cli::parse().command.unwrap_or(Command::Serve) {
        Command::Routes => {
            print!("{}", route_table::listing());
            ExitCode::SUCCESS
        }
        Command::Serve => serve(),
    }
}

fn serve() -> ExitCode {
    oauth_core::config::init_logging();
    let settings = match Settings::from_vars(&Vars::from_env()) {
        Ok(settings) => settings,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    let result = actix_web::rt::System::new().block_on(async {
        Application::build(settings)
            .await?
            .run_until_stopped()
            .await?;
        anyhow::Ok(())
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("resource-server: {e:#}");
            ExitCode::FAILURE
        }
    }
}
