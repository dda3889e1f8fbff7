//! The shutdown signal: SIGINT or SIGTERM flips one flag that every connection watches.

use tokio::sync::watch;

/// Resolves when the process receives SIGINT (Ctrl-C) or SIGTERM.
pub async fn signal() {
    let ctrl_c = async {
        // If the handler cannot be installed, waiting forever is right: SIGTERM still works.
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut stream) => {
                stream.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
}

/// The sending side of the shutdown flag, held by whoever decides to stop the server.
#[derive(Debug)]
pub struct ShutdownTrigger(watch::Sender<bool>);

/// The receiving side, cloned into every connection.
#[derive(Debug, Clone)]
pub struct ShutdownListener(watch::Receiver<bool>);

/// A new flag, not yet raised.
pub fn channel() -> (ShutdownTrigger, ShutdownListener) {
    let (tx, rx) = watch::channel(false);
    (ShutdownTrigger(tx), ShutdownListener(rx))
}

impl ShutdownTrigger {
    /// Raises the flag; every listener wakes.
    pub fn trigger(&self) {
        self.0.send_replace(true);
    }
}

impl ShutdownListener {
    /// Whether shutdown has begun.
    pub fn is_shutting_down(&self) -> bool {
        *self.0.borrow()
    }

    /// Resolves once shutdown has begun (at once if it already has, or if the trigger is gone).
    pub async fn wait(&mut self) {
        let _ = self.0.wait_for(|raised| *raised).await;
    }
}
