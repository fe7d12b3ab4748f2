use auth_server::cli::{self, Cli, Command};
use auth_server::configuration::Settings;
use auth_server::startup::Application;
use clap::Parser;
use oauth_core::config::{init_logging, Vars};

fn main() {
    oauth_core::memory::limit_allocator_arenas();
    let args = Cli::parse();
    init_logging();
    let settings = match Settings::from_vars(&Vars::from_env()) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(2);
        }
    };
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
        app.run_until_stopped().await?;
        Ok(())
    })
}
