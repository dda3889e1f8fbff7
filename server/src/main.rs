//! The AXE server binary: reads its configuration from the environment and serves until a
//! shutdown signal. Everything else lives in the library so tests build the same app.

use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
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
