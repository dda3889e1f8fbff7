//! The connection registry: at most one live connection per session id, and the outgoing
//! queue each one drains — where everything sent to a session goes.
//!
//! A connection joins in two steps: registered first (from then on it receives everything sent
//! to the session, but held in a buffer), then live once its replay has been sent (the buffer
//! is flushed after the replay, so live frames never overtake it). The replay itself is sent
//! without holding the session's lock, so a slow client delays nobody.
//!
//! Policy: a new connection for a session takes it over. The older connection is told to close
//! with [`protocol::CLOSE_SESSION_TAKEN_OVER`] (4001, reason `session_taken_over`), which its
//! client shows and does not answer by reconnecting, so two tabs never fight over a session.

use crate::outbound::{self, TrySendError};
use protocol::SessionId;
use std::{
    collections::HashMap,
    sync::{
        atomic::{AtomicU64, Ordering},
        Arc, Mutex, PoisonError,
    },
};
use tokio::sync::oneshot;

/// Why the registry asks a connection to end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kick {
    /// A newer connection registered for the same session.
    TakenOver,
    /// The connection's outgoing queue was full: its client does not read.
    SlowConsumer,
}

/// Why a message could not be handed to a session's connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SendError {
    /// No connection is registered for the session.
    #[error("the session has no open connection")]
    NotConnected,
    /// The connection's queue was full; it has been asked to close.
    #[error("the session's connection is not reading; it is being closed")]
    SlowConsumer,
}

/// What the registry holds for one live connection.
#[derive(Debug)]
struct Registered {
    /// Tells apart successive connections of one session, so a late unregister of an old
    /// connection never removes its successor.
    connection_id: u64,
    /// The connection's bounded outgoing queue of encoded frames.
    outbound: outbound::Sender,
    /// Asks the connection to end; taken when used.
    kick: Option<oneshot::Sender<Kick>>,
    /// While the connection's replay is being sent: what was sent to the session meanwhile,
    /// in order, delivered once the replay is through.
    held: Option<Vec<String>>,
}

/// Most frames held for a joining connection; a client whose replay takes so long that more
/// pile up counts as slow.
pub const MAX_HELD_FRAMES: usize = 1024;

impl Registered {
    fn kick(&mut self, why: Kick) {
        if let Some(kick) = self.kick.take() {
            // The connection may already be ending on its own; then nobody needs telling.
            let _ = kick.send(why);
        }
    }
}

/// The session-keyed registry of live connections. Cheap to clone.
#[derive(Debug, Clone, Default)]
pub struct Registry {
    // A std mutex: every critical section is a map operation, never held across an `.await`.
    connections: Arc<Mutex<HashMap<SessionId, Registered>>>,
    next_connection_id: Arc<AtomicU64>,
}

/// A connection's registration: its id and the channel on which it may be kicked.
#[derive(Debug)]
pub struct Registration {
    /// This connection's id, to pass back to [`Registry::unregister`].
    pub connection_id: u64,
    /// Resolves when the registry asks this connection to end.
    pub kicked: oneshot::Receiver<Kick>,
}

impl Registry {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<SessionId, Registered>> {
        // A poisoned map is still consistent: each critical section is one map call.
        self.connections
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Registers a connection for `session`, kicking out any older one (take-over). What is
    /// sent to the session is held until [`Self::go_live`].
    pub fn register(&self, session: &SessionId, outbound: outbound::Sender) -> Registration {
        let connection_id = self.next_connection_id.fetch_add(1, Ordering::Relaxed);
        let (kick, kicked) = oneshot::channel();
        let previous = self.lock().insert(
            session.clone(),
            Registered {
                connection_id,
                outbound,
                kick: Some(kick),
                held: Some(Vec::new()),
            },
        );
        if let Some(mut previous) = previous {
            tracing::info!(session = %session, old = previous.connection_id, new = connection_id, "session taken over");
            previous.kick(Kick::TakenOver);
        }
        Registration {
            connection_id,
            kicked,
        }
    }

    /// Delivers what was held for `connection_id` while it joined, then makes it live: `last`
    /// runs at the switch (under the registry's lock, so nothing is sent in between) with the
    /// connection's queue — for what must follow the held frames and precede live ones.
    /// `Err` if the client did not take the held frames within `patience` each (it was kicked
    /// as slow) or the connection is gone.
    pub async fn go_live(
        &self,
        session: &SessionId,
        connection_id: u64,
        patience: std::time::Duration,
        last: impl FnOnce(&outbound::Sender),
    ) -> Result<(), SendError> {
        let mut last = Some(last);
        loop {
            let (held, outbound) = {
                let mut connections = self.lock();
                let registered = connections
                    .get_mut(session)
                    .filter(|r| r.connection_id == connection_id)
                    .ok_or(SendError::NotConnected)?;
                let held = registered.held.take().unwrap_or_default();
                if held.is_empty() {
                    if let Some(last) = last.take() {
                        last(&registered.outbound);
                    }
                    return Ok(());
                }
                // Still holding while these go out: what arrives meanwhile queues behind.
                registered.held = Some(Vec::new());
                (held, registered.outbound.clone())
            };
            for frame in held {
                match tokio::time::timeout(patience, outbound.send(frame)).await {
                    Ok(Ok(())) => {}
                    Ok(Err(_)) => return Err(SendError::NotConnected),
                    Err(_) => {
                        self.kick_connection(session, connection_id, Kick::SlowConsumer);
                        return Err(SendError::SlowConsumer);
                    }
                }
            }
        }
    }

    /// Asks the connection of `session`, if any, to end as taken over (4001): another node
    /// serves the session now.
    pub fn kick_session(&self, session: &SessionId) {
        if let Some(mut registered) = self.lock().remove(session) {
            registered.kick(Kick::TakenOver);
        }
    }

    fn kick_connection(&self, session: &SessionId, connection_id: u64, why: Kick) {
        let mut connections = self.lock();
        if let Some(registered) = connections
            .get_mut(session)
            .filter(|r| r.connection_id == connection_id)
        {
            registered.kick(why);
        }
    }

    /// Whether `session` has a connection (live or joining).
    pub fn is_connected(&self, session: &SessionId) -> bool {
        self.lock().contains_key(session)
    }

    /// Removes the registration of `connection_id` for `session`, if it is still the current one.
    pub fn unregister(&self, session: &SessionId, connection_id: u64) {
        let mut connections = self.lock();
        if connections
            .get(session)
            .is_some_and(|r| r.connection_id == connection_id)
        {
            connections.remove(session);
        }
    }

    /// Queues an encoded `frame` for `session`'s connection without waiting. A full queue means
    /// the client is not reading: the connection is kicked rather than the queue allowed to grow.
    pub fn send_frame(&self, session: &SessionId, frame: String) -> Result<(), SendError> {
        let mut connections = self.lock();
        let registered = connections
            .get_mut(session)
            .ok_or(SendError::NotConnected)?;
        if let Some(held) = &mut registered.held {
            return hold(&mut registered.kick, held, frame);
        }
        match registered.outbound.try_send(frame) {
            Ok(()) => Ok(()),
            Err(TrySendError::Full(_)) => {
                registered.kick(Kick::SlowConsumer);
                Err(SendError::SlowConsumer)
            }
            Err(TrySendError::Closed(_)) => Err(SendError::NotConnected),
        }
    }

    /// Queues an encoded `frame` for `session`'s connection, waiting up to `patience` for room:
    /// for producers that can wait (a streaming reply), so a burst is paced by the client's
    /// reading instead of counting as slowness. Still full after `patience`: the client is kicked.
    pub async fn send_frame_waiting(
        &self,
        session: &SessionId,
        frame: String,
        patience: std::time::Duration,
    ) -> Result<(), SendError> {
        let (outbound, connection_id) = {
            let mut connections = self.lock();
            let registered = connections
                .get_mut(session)
                .ok_or(SendError::NotConnected)?;
            if let Some(held) = &mut registered.held {
                return hold(&mut registered.kick, held, frame);
            }
            (registered.outbound.clone(), registered.connection_id)
        };
        match tokio::time::timeout(patience, outbound.send(frame)).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(_)) => Err(SendError::NotConnected),
            Err(_) => {
                self.kick_connection(session, connection_id, Kick::SlowConsumer);
                Err(SendError::SlowConsumer)
            }
        }
    }
}

/// Holds `frame` for a joining connection; too many held means it is not keeping up.
fn hold(
    kick: &mut Option<oneshot::Sender<Kick>>,
    held: &mut Vec<String>,
    frame: String,
) -> Result<(), SendError> {
    if held.len() >= MAX_HELD_FRAMES {
        if let Some(kick) = kick.take() {
            let _ = kick.send(Kick::SlowConsumer);
        }
        return Err(SendError::SlowConsumer);
    }
    held.push(frame);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use protocol::ServerMessage;

    fn session(id: &str) -> SessionId {
        SessionId::parse(id).unwrap()
    }

    fn pong() -> String {
        ServerMessage::Pong { ts: None }.to_json()
    }

    async fn live(registry: &Registry, id: &str, connection_id: u64) {
        registry
            .go_live(
                &session(id),
                connection_id,
                std::time::Duration::from_secs(1),
                |_| {},
            )
            .await
            .unwrap();
    }

    #[tokio::test]
    async fn what_is_sent_while_a_connection_joins_waits_for_its_replay() {
        let registry = Registry::default();
        let (tx, mut rx) = crate::outbound::channel(8);
        let joining = registry.register(&session("j"), tx.clone());
        registry.send_frame(&session("j"), "live-1".into()).unwrap();
        // The replay goes out first, straight into the queue.
        tx.send("replay-1".into()).await.unwrap();
        registry
            .go_live(
                &session("j"),
                joining.connection_id,
                std::time::Duration::from_secs(1),
                |q| q.try_send("catch-up".into()).unwrap(),
            )
            .await
            .unwrap();
        registry.send_frame(&session("j"), "live-2".into()).unwrap();
        let mut got = Vec::new();
        while let Some(frame) = rx.try_recv() {
            got.push(frame);
        }
        assert_eq!(got, ["replay-1", "live-1", "catch-up", "live-2"]);
    }

    #[tokio::test]
    async fn a_second_connection_kicks_the_first() {
        let registry = Registry::default();
        let (tx1, _rx1) = crate::outbound::channel(4);
        let (tx2, mut rx2) = crate::outbound::channel(4);
        let first = registry.register(&session("s"), tx1);
        let second = registry.register(&session("s"), tx2);
        live(&registry, "s", second.connection_id).await;
        assert_eq!(first.kicked.await, Ok(Kick::TakenOver));
        // The old connection's late unregister leaves the new one in place.
        registry.unregister(&session("s"), first.connection_id);
        registry.send_frame(&session("s"), pong()).unwrap();
        assert_eq!(rx2.recv().await, Some(pong()));
        registry.unregister(&session("s"), second.connection_id);
        assert_eq!(
            registry.send_frame(&session("s"), pong()),
            Err(SendError::NotConnected)
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_waiting_sender_is_paced_by_the_reader_and_gives_up_after_its_patience() {
        let registry = Registry::default();
        let (tx, mut rx) = crate::outbound::channel(1);
        let registration = registry.register(&session("paced"), tx);
        live(&registry, "paced", registration.connection_id).await;
        let patience = std::time::Duration::from_secs(5);
        registry
            .send_frame_waiting(&session("paced"), pong(), patience)
            .await
            .unwrap();
        // The queue is full; a reader that takes a message makes room for the next one.
        let reader = tokio::spawn(async move {
            let first = rx.recv().await;
            (first, rx)
        });
        registry
            .send_frame_waiting(&session("paced"), pong(), patience)
            .await
            .unwrap();
        let (first, _rx) = reader.await.unwrap();
        assert!(first.is_some());
        // Nobody reads any more: after the patience the connection is kicked.
        assert_eq!(
            registry
                .send_frame_waiting(&session("paced"), pong(), patience)
                .await,
            Err(SendError::SlowConsumer)
        );
        assert_eq!(registration.kicked.await, Ok(Kick::SlowConsumer));
    }

    #[tokio::test]
    async fn a_full_queue_kicks_the_slow_consumer() {
        let registry = Registry::default();
        let (tx, _rx) = crate::outbound::channel(1);
        let registration = registry.register(&session("slow"), tx);
        live(&registry, "slow", registration.connection_id).await;
        assert_eq!(registry.send_frame(&session("slow"), pong()), Ok(()));
        assert_eq!(
            registry.send_frame(&session("slow"), pong()),
            Err(SendError::SlowConsumer)
        );
        assert_eq!(registration.kicked.await, Ok(Kick::SlowConsumer));
        assert_eq!(
            registry.send_frame(&session("other"), pong()),
            Err(SendError::NotConnected)
        );
    }
}
