//! The AXE server binary: reads its configuration from the environment and serves until a
//! shutdown signal (`server seed …` instead fills a session with a long conversation, see
//! [`server::seed`]). Everything else lives in the library so tests build the same app.

use std::process::ExitCode;

/// mimalloc, built to replace `malloc` for the whole process (SQLite's page cache included).
/// Why: under hours of connect/chat/leave churn glibc's malloc kept growing the RSS (about
/// 11 MB an hour) while the live heap stayed near 3 MB (heaptrack); `malloc_stats` showed one
/// arena holding 16 MB for 1.3 MB in use: pages pinned by a few live chunks among freed ones,
/// which even `malloc_trim` cannot return. mimalloc keeps each size in its own pages and
/// returns emptied pages to the system. The soak figures are in the README.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> ExitCode {
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
