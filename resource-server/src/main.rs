use std::process::ExitCode;

use clap::{Parser, Subcommand};
use resource_server::configuration::Settings;
use resource_server::route_table;
use resource_server::startup::Application;
use shared::config::Vars;

/// The REST API: users, groups, albums and songs, guarded by OAuth scopes. Configured by
/// environment variables (RESOURCE_BIND, DATABASE_URL, INTROSPECTION_URL, ...).
#[derive(Parser)]
#[command(version, about)]
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
    match Cli::parse().command.unwrap_or(Command::Serve) {
        Command::Routes => {
            print!("{}", route_table::listing());
            ExitCode::SUCCESS
        }
        Command::Serve => serve(),
    }
}

fn serve() -> ExitCode {
    shared::config::init_logging();
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
