//! Which node serves a session, as this node acts on it (cluster mode): taking a session over
//! before its socket opens, letting it go when another node asks or the lease turns out lost,
//! and the loop that beats the node's heart, renews its leases and gives back those nobody
//! uses. Single nodes skip all of it.
//!
//! A session moves like this: node B gets a connection for it; B finds A's lease and publishes
//! the session on A's channel (again every half second while it waits); A closes its socket
//! with 4001, stops the session's reply (stored as `stopped` with the text it had, under A's
//! fence) and gives the lease back; B takes it, claims the next fence in the database, stores
//! any reply a dead holder left streaming as interrupted, and lets the socket open. If A is
//! dead (no heartbeat), B deletes A's lease instead of waiting for it to expire.

use crate::{
    cluster::{Attempt, Cluster},
    http::error::ApiError,
    state::AppState,
};
use axum::http::StatusCode;
use protocol::SessionId;
use std::time::{Duration, Instant};

/// How often a waiting node asks the holder again (a request published while the holder was
/// resubscribing is lost).
const ASK_EVERY: Duration = Duration::from_millis(500);
/// Pause between two attempts to take a lease.
const RETRY_EVERY: Duration = Duration::from_millis(25);
/// How long a node that was asked waits for its reply to be stored before it lets go anyway.
const REPLY_STOP_PATIENCE: Duration = Duration::from_secs(3);
/// The heartbeat's period (its time to live is three of them).
const BEAT_EVERY: Duration = Duration::from_secs(1);

/// Why this node lets a session go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Why {
    /// Another node asked: end cleanly, then give the lease back.
    Asked,
    /// The lease is another node's already: nothing more may be stored here.
    Lost,
    /// Nobody uses it on this node any more.
    Idle,
    /// The node is stopping.
    Stopping,
}

/// Makes this node the one serving `session` (at once if it already is), or explains why it
/// cannot yet: 503 with a `Retry-After`, so the client comes back shortly.
pub async fn take(state: &AppState, session: &SessionId) -> Result<(), ApiError> {
    let Some(cluster) = &state.cluster else {
        return Ok(());
    };
    let _turn = cluster.turn(session).await;
    if cluster.holds(session) {
        return Ok(());
    }
    let deadline = Instant::now() + cluster.lease() + Duration::from_secs(2);
    let mut asked: Option<Instant> = None;
    loop {
        match cluster.try_take(session).await {
            Ok(Attempt::Taken(value)) => {
                let taken = settle(state, cluster, session, &value).await;
                if taken.is_err() {
                    let _ = cluster.delete_if(session, &value).await;
                }
                return taken;
            }
            Ok(Attempt::Held { node, value }) => {
                if node == cluster.node() {
                    // Ours, but unknown to this process: an earlier life of this node.
                    let _ = cluster.delete_if(session, &value).await;
                    continue;
                }
                match cluster.is_alive(&node).await {
                    Ok(false) => {
                        tracing::info!(session = %session, holder = %node, "the holder is dead: taking its lease");
                        let _ = cluster.delete_if(session, &value).await;
                        continue;
                    }
                    Ok(true) if asked.is_none_or(|at| at.elapsed() >= ASK_EVERY) => {
                        asked = Some(Instant::now());
                        let _ = cluster.ask_to_release(&node, session).await;
                    }
                    _ => {}
                }
            }
            // Redis is unreachable: keep trying until the deadline.
            Err(_) => {}
        }
        if Instant::now() >= deadline {
            let mut refusal = ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "session_unavailable",
                "the session is moving between servers; try again shortly",
            );
            refusal.retry_after = Some(Duration::from_secs(1));
            return Err(refusal);
        }
        tokio::time::sleep(RETRY_EVERY).await;
    }
}

/// With the lease taken under `value`: claims the next fence, drops any cached state, ends
/// replies a dead holder left streaming, and records the lease.
async fn settle(
    state: &AppState,
    cluster: &Cluster,
    session: &SessionId,
    value: &str,
) -> Result<(), ApiError> {
    let fence = state.storage.claim_fence(session).await.map_err(|error| {
        tracing::error!(%error, "cannot claim the session's fence");
        ApiError::internal("taking the session over")
    })?;
    state.sessions.forget(session).await;
    match state
        .storage
        .recover_interrupted_in(session, fence, state.replies.model())
        .await
    {
        Ok(0) => {}
        Ok(count) => {
            tracing::warn!(session = %session, count, "a reply the last holder left streaming is stored as interrupted")
        }
        Err(error) => {
            tracing::error!(%error, "cannot end the last holder's reply");
            return Err(ApiError::internal("taking the session over"));
        }
    }
    cluster.hold(session, value.to_owned(), fence);
    tracing::debug!(session = %session, fence, "session taken");
    Ok(())
}

/// Lets `session` go: closes its socket here with 4001, ends its reply, forgets its state and
/// (unless it is lost already) gives the lease back.
async fn let_go(state: &AppState, cluster: &Cluster, session: &SessionId, why: Why) {
    let _turn = cluster.turn(session).await;
    if !cluster.holds(session) {
        return;
    }
    if why == Why::Idle
        && (state.sessions.is_connected(session) || state.replies.is_running(session))
    {
        return;
    }
    state.sessions.hand_over(session);
    if state.replies.stop(session, None) {
        // Stored under this node's fence before the lease goes (when it is still ours).
        let started = Instant::now();
        while state.replies.is_running(session) && started.elapsed() < REPLY_STOP_PATIENCE {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
    state.sessions.forget(session).await;
    if why == Why::Lost {
        cluster.forget(session);
    } else {
        cluster.release(session).await;
    }
    tracing::debug!(session = %session, ?why, "session let go");
}

/// Starts the node's cluster chores: answering other nodes' requests, the heartbeat, renewing
/// leases and giving back idle ones.
pub fn spawn(state: AppState) {
    let Some(cluster) = state.cluster.clone() else {
        return;
    };
    let mut requests = crate::cluster::bus::listen(&cluster);
    let answering = state.clone();
    let asked_cluster = cluster.clone();
    tokio::spawn(async move {
        while let Some(session) = requests.recv().await {
            let (state, cluster) = (answering.clone(), asked_cluster.clone());
            tokio::spawn(async move { let_go(&state, &cluster, &session, Why::Asked).await });
        }
    });
    tokio::spawn(async move {
        let renew_every = (cluster.lease() / 3).max(BEAT_EVERY);
        let mut renewed = Instant::now();
        let mut shutdown = state.shutdown.clone();
        loop {
            tokio::select! {
                _ = tokio::time::sleep(BEAT_EVERY) => {}
                _ = shutdown.wait() => return,
            }
            let _ = cluster.beat().await;
            if renewed.elapsed() < renew_every {
                continue;
            }
            renewed = Instant::now();
            match cluster.renew().await {
                Ok(lost) => {
                    for session in lost {
                        tracing::warn!(session = %session, "lease lost to another node");
                        let_go(&state, &cluster, &session, Why::Lost).await;
                    }
                }
                // Redis is away: the sessions held stay served (the fences guard every write).
                Err(_) => continue,
            }
            for session in cluster.held_longer_than(cluster.lease()) {
                let_go(&state, &cluster, &session, Why::Idle).await;
            }
        }
    });
}

/// Gives back every lease this node holds (at the end of shutdown, once replies are stored).
pub async fn release_all(state: &AppState) {
    let Some(cluster) = &state.cluster else {
        return;
    };
    for session in cluster.held_sessions() {
        let_go(state, cluster, &session, Why::Stopping).await;
    }
}
