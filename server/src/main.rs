//! The AXE server binary: reads its configuration from the environment and serves until a
//! shutdown signal (`server seed …` instead fills a session with a long conversation, see
//! [`server::seed`]). Everything else lives in the library so tests build the same app.

use std::process::ExitCode;

fn main() -> ExitCode {
    // Before the runtime's threads exist, so they share the arenas from their first malloc.
    server::memory::limit_arenas();
    match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime.block_on(run()),
        Err(error) => {
            eprintln!("axe-server: cannot start the async runtime: {error}");
            ExitCode::FAILURE
        }
    }
}

async fn run() -> ExitCode {
    let mut args = std::env::args().skip(1);
    if args.next().as_deref() == Some("seed") {
        return match server::seed::main(args).await {
            Ok(()) => ExitCode::SUCCESS,
            Err(error) => {
                eprintln!("axe-server seed: {error}");
                ExitCode::FAILURE
            }
        };
    }
    match server::run_from_env().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            // Logging may not be set up yet (the error can be in its own setting), so the one
            // line a person needs goes straight to stderr.
            eprintln!("axe-server: {error}");
            ExitCode::FAILURE
        }
    }
}
