//! The server binary as a child process: started, and awaited until it logs that it listens.

use super::EVENT_TIMEOUT;
use std::{
    io::{BufRead, BufReader},
    process::{Child, Command, Stdio},
    sync::{mpsc, Arc, Mutex},
    thread,
};

/// Every line the server wrote to stdout so far.
pub type Log = Arc<Mutex<Vec<String>>>;

/// Spawns `command` (the server binary) and returns once it logs "listening on". Its stdout is
/// drained for the whole life of the process, so the server never blocks on a full pipe.
pub fn spawn_listening(command: &mut Command) -> Child {
    spawn_logged(command).0
}

/// Like [`spawn_listening`], also keeping every line the server writes to stdout.
pub fn spawn_logged(command: &mut Command) -> (Child, Log) {
    spawn_logged_to(command, None)
}

/// Like [`spawn_logged`], also appending every line to the file `copy` as it comes (for a
/// failed or stuck multi-process test to be read while it runs).
pub fn spawn_logged_to(command: &mut Command, copy: Option<std::path::PathBuf>) -> (Child, Log) {
    let mut child = command
        .stdout(Stdio::piped())
        .spawn()
        .expect("the server starts");
    let stdout = child.stdout.take().expect("stdout");
    let (ready_tx, ready_rx) = mpsc::channel();
    let log = Log::default();
    let kept = log.clone();
    thread::spawn(move || {
        let mut file = copy.and_then(|path| std::fs::File::create(path).ok());
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Some(file) = &mut file {
                use std::io::Write;
                let _ = writeln!(file, "{line}");
            }
            if line.contains("listening on") {
                let _ = ready_tx.send(());
            }
            kept.lock().unwrap().push(line);
        }
    });
    ready_rx
        .recv_timeout(EVENT_TIMEOUT)
        .expect("the server logs that it is listening");
    (child, log)
}
