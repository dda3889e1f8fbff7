//! The state every handler shares: configuration, sessions, replies, shutdown.

use crate::{config::Config, reply::Replies, session::SessionStore, shutdown::ShutdownListener};
use axum::extract::FromRef;
use leptos::config::LeptosOptions;
use std::sync::Arc;
use tokio::sync::mpsc;

/// Shared application state. Cloning is cheap: every field is a handle.
#[derive(Clone)]
pub struct AppState {
    /// Leptos's settings (site root, output name) for rendering pages and serving files.
    pub leptos_options: LeptosOptions,
    /// The server's configuration.
    pub config: Arc<Config>,
    /// Sessions over the database, and the connections they fan out to.
    pub sessions: SessionStore,
    /// Model replies: started by chats, stopped by Stop, drained at shutdown.
    pub replies: Replies,
    /// Raised when the server begins to shut down.
    pub shutdown: ShutdownListener,
    /// Each connection holds a clone until it ends; shutdown waits until all are dropped.
    pub connections_open: mpsc::Sender<()>,
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos_options.clone()
    }
}
