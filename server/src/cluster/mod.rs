//! Several nodes over one Redis: which node serves each session. A node holds a lease on every
//! session it serves (a Redis key with a time to live, renewed while it serves), asks the
//! holder to let go when one of its clients arrives elsewhere, and learns when it is asked.
//! The lease only decides who *tries* to write; the fencing token the database hands out with
//! it ([`crate::storage::Storage::claim_fence`]) is what refuses a stale owner's commit.
//!
//! # Layout
//! - this file: [`Cluster`], the node's Redis connection and the leases it holds.
//! - [`lease`]: the Lua scripts that take, renew and give back a lease atomically.
//! - [`bus`]: the node's channel, on which other nodes ask it to let a session go.
//! - [`fences`]: the fencing tokens of the sessions held, read at every commit.

pub mod bus;
pub mod fences;
pub mod lease;

pub use fences::Fences;

use protocol::SessionId;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use std::{
    collections::HashMap,
    sync::{
        atomic::{AtomicBool, AtomicU64, Ordering},
        Arc, Mutex, PoisonError,
    },
    time::Duration,
};

/// Longest any one Redis call may take before the node treats Redis as unreachable.
const CALL_TIMEOUT: Duration = Duration::from_millis(1_000);
/// How long a node's heartbeat lives: a holder whose heartbeat is gone is dead, and its
/// leases may be taken at once instead of after they expire.
pub const HEARTBEAT_TTL: Duration = Duration::from_millis(3_000);

/// A Redis call failed or took too long.
#[derive(Debug, thiserror::Error)]
pub enum ClusterError {
    /// Redis answered with an error, or the connection failed.
    #[error("redis: {0}")]
    Redis(#[from] redis::RedisError),
    /// Redis did not answer within the call timeout.
    #[error("redis did not answer within {0:?}")]
    Timeout(Duration),
}

/// What an attempt to take a session's lease found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Attempt {
    /// The lease is this node's now, under this value.
    Taken(String),
    /// Another holder has it: its node and the lease's value.
    Held {
        /// The holding node's id.
        node: String,
        /// The lease's value (node and life), for a compare-and-delete.
        value: String,
    },
}

/// This node's part in the cluster. Cheap to clone.
#[derive(Clone)]
pub struct Cluster {
    inner: Arc<Inner>,
}

struct Inner {
    node: String,
    client: redis::Client,
    redis: ConnectionManager,
    lease: Duration,
    /// Each lease this node holds, by session.
    held: Mutex<HashMap<SessionId, Held>>,
    /// One turn at a time per session for taking and letting go on this node.
    turns: Mutex<HashMap<SessionId, Arc<tokio::sync::Mutex<()>>>>,
    fences: Fences,
    /// Whether the last Redis call succeeded.
    healthy: AtomicBool,
    /// Tells this process's leases apart from an earlier life's under the same node id.
    life: String,
    next_value: AtomicU64,
}

impl std::fmt::Debug for Cluster {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cluster")
            .field("node", &self.inner.node)
            .finish_non_exhaustive()
    }
}

/// A lease this node holds.
#[derive(Debug, Clone)]
struct Held {
    /// Its value in Redis.
    value: String,
    /// When it was taken.
    since: std::time::Instant,
}

/// The key of `session`'s lease.
fn lease_key(session: &SessionId) -> String {
    format!("axe:lease:{}", session.as_str())
}

/// The key of `node`'s heartbeat.
fn heartbeat_key(node: &str) -> String {
    format!("axe:alive:{node}")
}

/// The node that holds a lease of this value.
pub fn node_of(value: &str) -> &str {
    value.rsplit_once('#').map_or(value, |(node, _)| node)
}

impl Cluster {
    /// Connects to Redis at `url` as node `node`, with leases of `lease`; retries for up to
    /// `patience` while Redis is not up yet.
    pub async fn connect(
        url: &str,
        node: &str,
        lease: Duration,
        patience: Duration,
    ) -> Result<Self, ClusterError> {
        let client = redis::Client::open(url)?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(CALL_TIMEOUT))
            .set_response_timeout(Some(CALL_TIMEOUT))
            .set_max_delay(Duration::from_millis(500));
        let deadline = tokio::time::Instant::now() + patience;
        let redis = loop {
            match client
                .get_connection_manager_with_config(config.clone())
                .await
            {
                Ok(redis) => break redis,
                Err(error) if tokio::time::Instant::now() >= deadline => return Err(error.into()),
                Err(error) => {
                    tracing::warn!(%error, "redis is not reachable yet; retrying");
                    tokio::time::sleep(Duration::from_millis(250)).await;
                }
            }
        };
        let started = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis());
        let cluster = Self {
            inner: Arc::new(Inner {
                node: node.to_owned(),
                client,
                redis,
                lease,
                held: Mutex::default(),
                turns: Mutex::default(),
                fences: Fences::default(),
                healthy: AtomicBool::new(true),
                life: format!("{started}.{}", std::process::id()),
                next_value: AtomicU64::new(1),
            }),
        };
        // Alive before the first client arrives: a node without a heartbeat counts as dead,
        // and its leases are taken from it.
        cluster.beat().await?;
        Ok(cluster)
    }

    /// This node's id.
    pub fn node(&self) -> &str {
        &self.inner.node
    }

    /// How long a lease lives unless renewed.
    pub fn lease(&self) -> Duration {
        self.inner.lease
    }

    /// The fencing tokens of the sessions this node holds.
    pub fn fences(&self) -> &Fences {
        &self.inner.fences
    }

    /// Whether the last call to Redis succeeded (else `/readyz` reports degraded).
    pub fn is_healthy(&self) -> bool {
        self.inner.healthy.load(Ordering::Relaxed)
    }

    fn held(&self) -> std::sync::MutexGuard<'_, HashMap<SessionId, Held>> {
        self.inner
            .held
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Waits for this node's turn on `session`: taking it and letting it go never interleave.
    pub async fn turn(&self, session: &SessionId) -> tokio::sync::OwnedMutexGuard<()> {
        let turn = {
            let mut turns = self
                .inner
                .turns
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            // Forget the turns nobody waits for, so the map does not grow with every session.
            turns.retain(|_, turn| Arc::strong_count(turn) > 1);
            turns.entry(session.clone()).or_default().clone()
        };
        turn.lock_owned().await
    }

    /// The sessions held for longer than `at_least`.
    pub fn held_longer_than(&self, at_least: Duration) -> Vec<SessionId> {
        self.held()
            .iter()
            .filter(|(_, held)| held.since.elapsed() >= at_least)
            .map(|(session, _)| session.clone())
            .collect()
    }

    /// Whether this node holds `session`'s lease (and its fence).
    pub fn holds(&self, session: &SessionId) -> bool {
        self.held().contains_key(session) && self.inner.fences.get(session).is_some()
    }

    /// The sessions this node holds.
    pub fn held_sessions(&self) -> Vec<SessionId> {
        self.held().keys().cloned().collect()
    }

    /// Runs one Redis call with the call timeout, keeping the health flag.
    async fn call<T>(
        &self,
        call: impl std::future::Future<Output = redis::RedisResult<T>>,
    ) -> Result<T, ClusterError> {
        let outcome = match tokio::time::timeout(CALL_TIMEOUT, call).await {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(error)) => Err(ClusterError::Redis(error)),
            Err(_) => Err(ClusterError::Timeout(CALL_TIMEOUT)),
        };
        let was = self.inner.healthy.swap(outcome.is_ok(), Ordering::Relaxed);
        match (&outcome, was) {
            (Err(error), true) => {
                tracing::warn!(%error, "redis is unreachable; serving the sessions held")
            }
            (Ok(_), false) => tracing::info!("redis is reachable again"),
            _ => {}
        }
        outcome
    }

    /// Tries to take `session`'s lease.
    pub async fn try_take(&self, session: &SessionId) -> Result<Attempt, ClusterError> {
        let value = format!(
            "{}#{}.{}",
            self.inner.node,
            self.inner.life,
            self.inner.next_value.fetch_add(1, Ordering::Relaxed)
        );
        let mut redis = self.inner.redis.clone();
        let holder: Option<String> = self
            .call(
                lease::TAKE
                    .key(lease_key(session))
                    .arg(&value)
                    .arg(millis(self.inner.lease))
                    .invoke_async(&mut redis),
            )
            .await?;
        Ok(match holder {
            None => Attempt::Taken(value),
            Some(holder) => Attempt::Held {
                node: node_of(&holder).to_owned(),
                value: holder,
            },
        })
    }

    /// Records that this node now holds `session` under `value`, with the database's `fence`.
    pub fn hold(&self, session: &SessionId, value: String, fence: i64) {
        let since = std::time::Instant::now();
        self.held().insert(session.clone(), Held { value, since });
        self.inner.fences.set(session, fence);
    }

    /// Gives `session`'s lease back (if it is still this node's) and forgets it.
    pub async fn release(&self, session: &SessionId) {
        self.inner.fences.remove(session);
        let Some(held) = self.held().remove(session) else {
            return;
        };
        if let Err(error) = self.delete_if(session, &held.value).await {
            // It expires by itself.
            tracing::debug!(%error, "could not give a lease back");
        }
    }

    /// Forgets `session` without touching Redis: its lease is someone else's now.
    pub fn forget(&self, session: &SessionId) {
        self.inner.fences.remove(session);
        self.held().remove(session);
    }

    /// Deletes `session`'s lease if its value is still `value` (a dead holder's, or ours).
    pub async fn delete_if(&self, session: &SessionId, value: &str) -> Result<bool, ClusterError> {
        let mut redis = self.inner.redis.clone();
        let deleted: i64 = self
            .call(
                lease::RELEASE
                    .key(lease_key(session))
                    .arg(value)
                    .invoke_async(&mut redis),
            )
            .await?;
        Ok(deleted == 1)
    }

    /// Renews every lease held; returns the sessions whose lease turned out to be another
    /// node's (lost). Redis failing loses nothing: the leases are renewed when it is back.
    pub async fn renew(&self) -> Result<Vec<SessionId>, ClusterError> {
        let held: Vec<(SessionId, String)> = self
            .held()
            .iter()
            .map(|(session, held)| (session.clone(), held.value.clone()))
            .collect();
        let mut lost = Vec::new();
        for (session, value) in held {
            let mut redis = self.inner.redis.clone();
            let kept: i64 = self
                .call(
                    lease::RENEW
                        .key(lease_key(&session))
                        .arg(&value)
                        .arg(millis(self.inner.lease))
                        .invoke_async(&mut redis),
                )
                .await?;
            if kept == 0 {
                lost.push(session);
            }
        }
        Ok(lost)
    }

    /// Says this node is alive for the next [`HEARTBEAT_TTL`].
    pub async fn beat(&self) -> Result<(), ClusterError> {
        let mut redis = self.inner.redis.clone();
        self.call(
            redis::cmd("SET")
                .arg(heartbeat_key(&self.inner.node))
                .arg(&self.inner.life)
                .arg("PX")
                .arg(millis(HEARTBEAT_TTL))
                .query_async::<()>(&mut redis),
        )
        .await
    }

    /// Whether `node` has beaten its heart lately.
    pub async fn is_alive(&self, node: &str) -> Result<bool, ClusterError> {
        let mut redis = self.inner.redis.clone();
        let exists: i64 = self
            .call(
                redis::cmd("EXISTS")
                    .arg(heartbeat_key(node))
                    .query_async(&mut redis),
            )
            .await?;
        Ok(exists == 1)
    }

    /// Asks `node` to let `session` go (it closes its socket with 4001, ends its reply and gives
    /// the lease back).
    pub async fn ask_to_release(
        &self,
        node: &str,
        session: &SessionId,
    ) -> Result<(), ClusterError> {
        let mut redis = self.inner.redis.clone();
        self.call(
            redis::cmd("PUBLISH")
                .arg(bus::channel(node))
                .arg(session.as_str())
                .query_async::<i64>(&mut redis),
        )
        .await
        .map(|_| ())
    }

    /// The Redis client, for the bus's own connection.
    pub(crate) fn client(&self) -> &redis::Client {
        &self.inner.client
    }
}

fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}
