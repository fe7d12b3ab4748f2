use auth_server::cli::{self, Cli, Command};
use auth_server::configuration::Settings;
use auth_server::startup::Application;
use clap::Parser;
use oauth_core::config::init_logging;

fn main() {
    oauth_core::memory::limit_allocator_arenas();
    // A bad setting stops here with one line naming its variable (exit 2); --help and --version
    // print before any setting is read.
    let args = Cli::parse();
    init_logging(&args.logging);
    let settings = Settings::from_args(args.settings);
    let result = match args.command {
        None | Some(Command::Serve) => serve(settings),
        Some(command) => cli::run(command, &settings),
    };
    if let Err(e) = result {
        eprintln!("error: {e:#}");
        std::process::exit(1);
    }
}

fn serve(settings: Settings) -> anyhow::Result<()> {
    actix_web::rt::System::new().block_on(async move {
        let app = Application::build(settings).await?;
        app.stop_on_signals();
        app.run_until_stopped().await?;
        Ok(())
    })
}
