//! The server's error type for start-up and serving.

/// What can stop the server from starting or serving.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// An environment variable held a value the server cannot use.
    #[error("invalid setting {name}={value:?}: {reason}")]
    InvalidSetting {
        /// The variable's name.
        name: &'static str,
        /// The value it held.
        value: String,
        /// What a valid value looks like.
        reason: String,
    },
    /// Leptos could not read its own settings (the `LEPTOS_*` variables).
    #[error("invalid Leptos settings: {0}")]
    Leptos(String),
    /// The listening socket could not be opened, e.g. the port is in use.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address asked for.
        addr: std::net::SocketAddr,
        /// Why the operating system refused.
        source: std::io::Error,
    },
    /// Authentication could not be set up (the signing secret, the verification key).
    #[error("cannot set up authentication: {0}")]
    Auth(String),
    /// Redis could not be reached at start-up (cluster mode).
    #[error("cannot join the cluster: {0}")]
    Cluster(String),
    /// The model client could not be set up.
    #[error("cannot set up the model client: {0}")]
    Llm(String),
    /// The database could not be opened or migrated.
    #[error("cannot open the database: {0}")]
    Storage(#[from] crate::storage::StorageError),
    /// Serving failed after start-up.
    #[error("server failed: {0}")]
    Serve(#[from] std::io::Error),
}

/// The server's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;
