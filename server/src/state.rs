//! The state every handler shares: configuration, the authenticator, rate limiters, sessions,
//! replies, shutdown.

use crate::{
    auth::Authenticator,
    cluster::Cluster,
    config::Config,
    metrics::Metrics,
    reply::Replies,
    session::SessionStore,
    shutdown::ShutdownListener,
    site::SiteFiles,
    storage::Storage,
    throttle::{KeyedBuckets, Rate},
};
use axum::extract::FromRef;
use leptos::config::LeptosOptions;
use protocol::SessionId;
use std::{
    net::IpAddr,
    sync::{
        atomic::{AtomicBool, AtomicUsize, Ordering},
        Arc,
    },
};

/// Shared application state: one allocation, cloned as a pointer. Every connection holds a
/// clone for as long as it lives, so its size is part of each idle connection's memory (the
/// fields together are most of a kilobyte).
#[derive(Clone)]
pub struct AppState(Arc<Shared>);

impl AppState {
    /// The state around `shared`.
    pub fn new(shared: Shared) -> Self {
        Self(Arc::new(shared))
    }
}

impl std::ops::Deref for AppState {
    type Target = Shared;

    fn deref(&self) -> &Shared {
        &self.0
    }
}

/// What [`AppState`] shares.
pub struct Shared {
    /// Leptos's settings (site root, output name) for rendering pages and serving files.
    pub leptos_options: LeptosOptions,
    /// The server's configuration.
    pub config: Arc<Config>,
    /// Checks (and in anonymous mode mints) tokens.
    pub auth: Authenticator,
    /// The rate limits shared between connections.
    pub limiters: Limiters,
    /// Sessions over the database, and the connections they fan out to.
    pub sessions: SessionStore,
    /// Model replies: started by chats, stopped by Stop, drained at shutdown.
    pub replies: Replies,
    /// The widget's built files, served to host pages.
    pub site: Arc<SiteFiles>,
    /// What the server counts and times (`/metrics`, the dashboard).
    pub metrics: Arc<Metrics>,
    /// The database, for what is not a session's (telemetry, measurements).
    pub storage: Storage,
    /// Salts the hashes that stand for subjects and sessions in telemetry.
    pub telemetry_salt: Vec<u8>,
    /// Raised when the server begins to shut down.
    pub shutdown: ShutdownListener,
    /// In a cluster (`AXE_REDIS_URL`): this node's leases and its Redis connection.
    pub cluster: Option<Cluster>,
    /// Raised when the node was told to stop: `/readyz` answers 503 while it still serves, so
    /// the balancer sends new connections elsewhere before its sockets close.
    pub draining: Arc<AtomicBool>,
}

impl Shared {
    /// Whether the node is draining (or already shutting down).
    pub fn is_draining(&self) -> bool {
        self.draining.load(Ordering::Relaxed) || self.shutdown.is_shutting_down()
    }
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos_options.clone()
    }
}

/// Rate limits that span connections, and the count of open connections. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Limiters {
    /// Chat messages per session.
    pub chats: KeyedBuckets<SessionId>,
    /// Connects (and anonymous session creations) per client address.
    pub connects_by_address: KeyedBuckets<IpAddr>,
    /// Connects per subject.
    pub connects_by_subject: KeyedBuckets<String>,
    /// Telemetry batches per subject.
    pub events: KeyedBuckets<String>,
    /// Connections open now.
    open_connections: Arc<OpenCount>,
}

/// The count of open connections, and a signal each time one closes (shutdown waits on it).
#[derive(Debug, Default)]
pub struct OpenCount {
    count: AtomicUsize,
    closed: tokio::sync::Notify,
}

impl Limiters {
    /// Limiters at `config`'s rates.
    pub fn new(config: &Config) -> Self {
        let connects = Rate::per_minute(config.limits.connects_per_min);
        Self {
            chats: KeyedBuckets::new(Rate::per_minute(config.limits.chats_per_min)),
            connects_by_address: KeyedBuckets::new(connects),
            connects_by_subject: KeyedBuckets::new(connects),
            events: KeyedBuckets::new(Rate::per_minute(config.observe.events_per_min)),
            open_connections: Arc::default(),
        }
    }

    /// Resolves once no connection is open (each holds a [`ConnectionSlot`] until it ends).
    pub async fn all_closed(&self) {
        let open = &self.open_connections;
        loop {
            // Registered before the count is read, so a close in between is not missed.
            let closed = open.closed.notified();
            tokio::pin!(closed);
            closed.as_mut().enable();
            if open.count.load(Ordering::Acquire) == 0 {
                return;
            }
            closed.await;
        }
    }

    /// Counts a connection as open if fewer than `max` are; the slot is given back when the
    /// returned guard is dropped.
    pub fn open_connection(&self, max: usize) -> Option<ConnectionSlot> {
        let counter = &self.open_connections.count;
        let mut open = counter.load(Ordering::Relaxed);
        loop {
            if open >= max {
                return None;
            }
            match counter.compare_exchange_weak(open, open + 1, Ordering::AcqRel, Ordering::Relaxed)
            {
                Ok(_) => return Some(ConnectionSlot(self.open_connections.clone())),
                Err(now) => open = now,
            }
        }
    }
}

/// One open connection's place in the count; given back on drop.
#[derive(Debug)]
pub struct ConnectionSlot(Arc<OpenCount>);

impl Drop for ConnectionSlot {
    fn drop(&mut self) {
        self.0.count.fetch_sub(1, Ordering::AcqRel);
        self.0.closed.notify_waiters();
    }
}
