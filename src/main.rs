//! The `pulse` binary: parse the command line, read settings, run the command.

use clap::Parser;
use pulse::{cli, config::Settings};
use tracing_subscriber::EnvFilter;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = cli::Cli::parse();
    let result = match Settings::from_env() {
        Ok(settings) => cli::run(cli, settings).await,
        Err(e) => Err(anyhow::anyhow!(e)),
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("pulse: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
