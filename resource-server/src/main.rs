use std::process::ExitCode;

use clap::{Parser, Subcommand};
use oauth_core::config::{init_logging, LoggingArgs};
use resource_server::configuration::{ResourceArgs, Settings};
use resource_server::route_table;
use resource_server::startup::Application;

/// The REST API: users, groups, albums and songs, guarded by OAuth scopes checked by
/// introspection at the auth server.
#[derive(Parser)]
#[command(version, about)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    settings: ResourceArgs,
    #[command(flatten)]
    logging: LoggingArgs,
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
    // A bad setting stops here with one line naming its variable (exit 2); --help and --version
    // print before any setting is read.
    let cli = Cli::parse();
    match cli.command.unwrap_or(Command::Serve) {
        Command::Routes => {
            print!("{}", route_table::listing());
            ExitCode::SUCCESS
        }
        Command::Serve => serve(cli.settings, &cli.logging),
    }
}

fn serve(args: ResourceArgs, logging: &LoggingArgs) -> ExitCode {
    init_logging(logging);
    let settings = match Settings::from_args(args) {
        Ok(settings) => settings,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let result = actix_web::rt::System::new().block_on(async {
        let app = Application::build(settings).await?;
        app.stop_on_signals();
        app.run_until_stopped().await?;
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
