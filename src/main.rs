//! The `pulse` binary: parse the command line, read settings, run the command.

use clap::Parser;
use pulse::{cli, config::Settings};
use tracing_subscriber::EnvFilter;

fn main() -> std::process::ExitCode {
    tune_malloc();
    match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime.block_on(run()),
        Err(e) => {
            eprintln!("pulse: cannot start the async runtime: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// glibc gives threads that allocate at the same time arenas of their own
/// (up to 8 per core) and seldom returns what is freed in them: with the
/// dispatcher's sessions and the blocking pool, the resident memory of a
/// 100,000-person round grew by ~50 MB that way. Two arenas keep it near
/// what is in use, at no measurable cost in speed (`pulse bench delivery`).
///
/// glibc also raises its mmap threshold to the largest block freed so far:
/// after one login (argon2 takes 19 MiB at once) every later block of up to
/// 19 MiB came from the arenas, and stayed there once freed: a serving
/// process went from 32 to 54 MB after one login and held 68 MB after
/// delivering a round, against 34 and 48 MB with the threshold fixed at
/// 1 MiB. Blocks that large are few (argon2, a round's plan), so mapping
/// each costs little.
///
/// MALLOC_ARENA_MAX and MALLOC_MMAP_THRESHOLD_ in the environment still
/// decide when set.
fn tune_malloc() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        // SAFETY: called first thing in main, before any other thread exists;
        // mallopt only changes the allocator's tuning.
        if std::env::var_os("MALLOC_ARENA_MAX").is_none() {
            unsafe {
                libc::mallopt(libc::M_ARENA_MAX, 2);
            }
        }
        if std::env::var_os("MALLOC_MMAP_THRESHOLD_").is_none() {
            unsafe {
                libc::mallopt(libc::M_MMAP_THRESHOLD, 1 << 20);
            }
        }
    }
}

async fn run() -> std::process::ExitCode {
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
