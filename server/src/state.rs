//! The state every handler shares: configuration, the registry, session state, the model,
//! replies in progress, shutdown.

use crate::{
    config::Config,
    llm::{generation::Generations, Provider},
    session::SessionStore,
    shutdown::ShutdownListener,
    ws::registry::Registry,
};
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
    /// Live connections by session.
    pub registry: Registry,
    /// Files, pending diffs, conversations and history by session, over the database.
    pub sessions: SessionStore,
    /// What answers chat messages: a model server or the offline responder.
    pub provider: Arc<dyn Provider>,
    /// Replies being generated, by session.
    pub generations: Generations,
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
