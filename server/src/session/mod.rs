//! Sessions: their state cached in memory over the database, and the one place that changes a
//! session — the transaction that puts its history in order.
//!
//! # Layout
//! - this file: [`SessionStore`] and its transaction primitive, [`SessionStore::transact`]:
//!   lock the session → load it → skip a client message seen before → change → commit →
//!   number the history events → fan the ack and the events out, in `seq` order. Both the
//!   connection's reader (client messages) and the reply task (a reply ending) go through it.
//!   Joining a session (replay after `last_seq`) holds the same lock, so no history frame can
//!   slip between a replay and live traffic.
//! - [`state`]: [`SessionState`], [`FileState`] and the bounds on them.
//! - [`conversation`]: [`Role`] and [`Turn`], the conversation the prompt is built from.
//! - [`proposals`]: a reply's code made into diffs of the session's files.

pub mod conversation;
pub mod proposals;
pub mod state;

pub use conversation::{Role, Turn};
pub use state::{FileState, SessionState, MAX_HISTORY_TURNS};

use crate::{
    cluster::Fences,
    metrics::Metrics,
    registry::{Registration, Registry, SendError},
    storage::{export::Section, owners::Claim, Batch, Change, Storage, StorageError},
};
use protocol::{encode_server_frame, MessageId, ServerMessage, SessionId};
use std::{
    collections::HashMap,
    sync::{Arc, Mutex, PoisonError},
    time::Duration,
};
use tokio::sync::OwnedMutexGuard;

/// How long a replay may wait for room in the client's queue before the client counts as slow.
const REPLAY_PATIENCE: Duration = Duration::from_secs(10);
/// A client that missed more history frames than this gets a snapshot instead of a replay.
pub const REPLAY_LIMIT: u64 = 500;
/// How many of the newest messages a snapshot carries (earlier ones come by `load_history`).
pub const SNAPSHOT_MESSAGES: usize = 50;
/// How many messages a history page carries unless the client asks for fewer.
pub const HISTORY_PAGE: usize = 50;

/// One session's place in memory: its state once loaded from the database.
#[derive(Debug, Default)]
struct Slot {
    state: Option<SessionState>,
}

/// Exclusive access to one session.
type SessionGuard = OwnedMutexGuard<Slot>;

/// The client message a transaction processes: its frame id and type, recorded so a resend is
/// acknowledged instead of processed again.
#[derive(Debug, Clone, Copy)]
pub struct ClientStamp<'a> {
    /// The frame id.
    pub id: &'a MessageId,
    /// The message's `type`.
    pub kind: &'static str,
}

/// How a transaction's frames reach the session's connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delivery {
    /// Queued at once; a full queue marks the client as a slow consumer (the reader's case:
    /// it must not wait on its own client).
    Now,
    /// Waiting up to this long for room in the queue (a reply's end, which can wait).
    Patient(Duration),
}

/// What a change to a session did: the rows to store, the history events to number and send,
/// and a value for the caller once it is committed.
#[derive(Debug)]
pub struct Effects<T> {
    /// What to store.
    pub changes: Vec<Change>,
    /// History messages to store, number and send, in order.
    pub events: Vec<ServerMessage>,
    /// Handed to the caller's `committed` step.
    pub then: T,
    /// The file version the change left, told to the sender in its `ack` (for its next edit's
    /// `base_version`).
    pub version: Option<i64>,
}

impl<T> Effects<T> {
    /// Effects that store and send nothing.
    pub fn nothing(then: T) -> Self {
        Self {
            changes: Vec::new(),
            events: Vec::new(),
            then,
            version: None,
        }
    }

    /// The same effects with another value for the caller.
    pub fn with<U>(self, then: U) -> Effects<U> {
        Effects {
            changes: self.changes,
            events: self.events,
            then,
            version: self.version,
        }
    }
}

/// How a transaction ended (when the database did not fail).
#[derive(Debug, PartialEq, Eq)]
pub enum Transacted<R> {
    /// The client message was processed before: its ack was sent again, nothing else.
    Duplicate,
    /// The change refused; nothing was stored or sent.
    Refused(R),
    /// Stored, numbered and sent.
    Committed,
}

/// Why a transaction failed.
#[derive(Debug, thiserror::Error)]
pub enum TransactError {
    /// The database failed; nothing was stored.
    #[error(transparent)]
    Storage(#[from] StorageError),
    /// A history frame would be larger than a connection may send; nothing was stored.
    #[error("a {kind} frame of {bytes} bytes is over the {limit}-byte limit")]
    FrameTooLarge {
        /// The frame's type.
        kind: &'static str,
        /// Its size.
        bytes: usize,
        /// The limit.
        limit: usize,
    },
}

/// Why a replay did not reach the client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReplayFailure {
    /// The connection's queue closed: the client is gone.
    ClientGone,
    /// The client did not read its replay in time.
    TooSlow,
}

/// All sessions, keyed by session id, over the database; the connections they fan out to.
/// Cheap to clone.
#[derive(Debug, Clone)]
pub struct SessionStore {
    storage: Storage,
    registry: Registry,
    /// The largest frame a connection may send (`AXE_MAX_MESSAGE_BYTES`): no history frame is
    /// stored larger, so every stored frame can be replayed.
    max_frame_bytes: usize,
    /// A std mutex: held only to look a slot up, never across an `.await`.
    slots: Arc<Mutex<HashMap<SessionId, Arc<tokio::sync::Mutex<Slot>>>>>,
    /// Where commits are timed.
    metrics: Arc<Metrics>,
    /// In a cluster, the fencing tokens of the sessions this node holds: every commit carries
    /// its session's, and a session without one is not this node's to change.
    fences: Option<Fences>,
}

impl SessionStore {
    /// A store over `storage`, fanning out through `registry`, storing no history frame over
    /// `max_frame_bytes`, with nothing loaded yet.
    pub fn new(
        storage: Storage,
        registry: Registry,
        max_frame_bytes: usize,
        metrics: Arc<Metrics>,
    ) -> Self {
        Self {
            storage,
            registry,
            max_frame_bytes,
            slots: Arc::default(),
            metrics,
            fences: None,
        }
    }

    /// The same store, committing only under the fencing tokens in `fences` (cluster mode).
    pub fn fenced(mut self, fences: Fences) -> Self {
        self.fences = Some(fences);
        self
    }

    /// Drops the cached state of `session`, waiting for any change in flight: the next use
    /// loads it from the database (another node may have changed it meanwhile).
    pub async fn forget(&self, session: &SessionId) {
        let mut guard = self.lock(session).await;
        guard.state = None;
        drop(guard);
        self.release(session);
    }

    /// Whether `session` has a connection on this node.
    pub fn is_connected(&self, session: &SessionId) -> bool {
        self.registry.is_connected(session)
    }

    /// Closes the connection of `session` with 4001: another node serves it now.
    pub fn hand_over(&self, session: &SessionId) {
        self.registry.kick_session(session);
    }

    /// The server's metrics.
    pub fn metrics(&self) -> &Metrics {
        &self.metrics
    }

    /// The largest history frame this store keeps.
    pub fn max_frame_bytes(&self) -> usize {
        self.max_frame_bytes
    }

    /// How many sessions have a place in memory now (loaded or being used).
    pub fn cached_sessions(&self) -> usize {
        self.slots
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }

    /// Waits for exclusive access to `session`.
    async fn lock(&self, session: &SessionId) -> SessionGuard {
        let slot = {
            // A poisoned lock still holds a consistent map (inserts are single calls).
            let mut slots = self.slots.lock().unwrap_or_else(PoisonError::into_inner);
            slots.entry(session.clone()).or_default().clone()
        };
        slot.lock_owned().await
    }

    /// Forgets the cached state of `session` if nobody is using it: the database has it all,
    /// and memory should not grow with every session ever seen.
    fn release(&self, session: &SessionId) {
        let mut slots = self.slots.lock().unwrap_or_else(PoisonError::into_inner);
        // Only the map holds it: no lock is held or awaited, so no change is in flight.
        if slots
            .get(session)
            .is_some_and(|slot| Arc::strong_count(slot) == 1)
        {
            slots.remove(session);
        }
    }

    /// The state of the locked session, loaded from the database on first use.
    async fn state<'g>(
        &self,
        guard: &'g mut SessionGuard,
        session: &SessionId,
    ) -> Result<&'g mut SessionState, StorageError> {
        if guard.state.is_none() {
            let rows = self
                .storage
                .load_session(session, MAX_HISTORY_TURNS)
                .await?;
            guard.state = Some(SessionState::from_rows(rows));
        }
        guard
            .state
            .as_mut()
            .ok_or_else(|| StorageError::Corrupt("session state vanished".into()))
    }

    /// The one way a session changes. Holding the session's lock: skips `client` if its id was
    /// processed before (sending its ack again); otherwise runs `change` on the session's
    /// state, stores its effects with `client`'s id in one transaction, numbers the events,
    /// queues the ack and then the events for the session's connection, and finally runs
    /// `committed` with the effects' value — still under the lock, so what it starts is ordered
    /// after this change and before the next.
    ///
    /// A refusal stores and sends nothing. A database failure drops the cached state (which
    /// `change` may have altered) so the next transaction reloads what is really stored.
    pub async fn transact<T, R>(
        &self,
        session: &SessionId,
        client: Option<ClientStamp<'_>>,
        delivery: Delivery,
        change: impl FnOnce(&mut SessionState) -> Result<Effects<T>, R>,
        committed: impl FnOnce(T),
    ) -> Result<Transacted<R>, TransactError> {
        let outcome = self
            .transact_locked(session, client, delivery, change, committed)
            .await;
        // A change made with nobody connected (a reply ending after its client left) must not
        // keep the session in memory.
        if !self.registry.is_connected(session) {
            self.release(session);
        }
        outcome
    }

    async fn transact_locked<T, R>(
        &self,
        session: &SessionId,
        client: Option<ClientStamp<'_>>,
        delivery: Delivery,
        change: impl FnOnce(&mut SessionState) -> Result<Effects<T>, R>,
        committed: impl FnOnce(T),
    ) -> Result<Transacted<R>, TransactError> {
        let mut guard = self.lock(session).await;
        if let Some(stamp) = client {
            if self
                .storage
                .is_processed(session, stamp.id.as_str())
                .await?
            {
                let ack = ServerMessage::Ack {
                    id: stamp.id.as_str().to_owned(),
                    version: None,
                };
                self.deliver(session, vec![ack.to_json()], delivery).await;
                return Ok(Transacted::Duplicate);
            }
        }
        let result: Result<Result<_, R>, TransactError> = async {
            let state = self.state(&mut guard, session).await?;
            let effects = match change(state) {
                Ok(effects) => effects,
                Err(refusal) => return Ok(Err(refusal)),
            };
            let mut seq = state.last_seq;
            let events: Vec<(u64, &'static str, String)> = effects
                .events
                .iter()
                .map(|event| {
                    seq += 1;
                    (
                        seq,
                        event.type_name(),
                        encode_server_frame(Some(seq), event),
                    )
                })
                .collect();
            if let Some((_, kind, frame)) = events
                .iter()
                .find(|(_, _, frame)| frame.len() > self.max_frame_bytes)
            {
                return Err(TransactError::FrameTooLarge {
                    kind,
                    bytes: frame.len(),
                    limit: self.max_frame_bytes,
                });
            }
            let batch = Batch {
                client: client.map(|stamp| (stamp.id.as_str().to_owned(), stamp.kind)),
                changes: effects.changes,
                events,
                last_seq: seq,
                next_message: state.next_message,
                next_diff: state.next_diff,
                next_conflict: state.next_conflict,
                fence: match &self.fences {
                    None => None,
                    Some(fences) => Some(fences.get(session).ok_or(StorageError::NotOwner)?),
                },
            };
            let started = std::time::Instant::now();
            self.storage.commit(session, &batch).await?;
            self.metrics.committed(started.elapsed());
            state.last_seq = seq;
            Ok(Ok((batch.events, effects.then, effects.version)))
        }
        .await;
        let (events, then, version) = match result {
            Ok(Ok(committed)) => committed,
            Ok(Err(refusal)) => return Ok(Transacted::Refused(refusal)),
            Err(error) => {
                guard.state = None;
                if matches!(error, TransactError::Storage(StorageError::NotOwner)) {
                    // Another node took the session over: its client belongs there now.
                    tracing::info!(session = %session, "session moved to another node");
                    self.registry.kick_session(session);
                }
                return Err(error);
            }
        };
        let ack = client.map(|stamp| {
            ServerMessage::Ack {
                id: stamp.id.as_str().to_owned(),
                version,
            }
            .to_json()
        });
        let frames = ack
            .into_iter()
            .chain(events.into_iter().map(|(_, _, frame)| frame))
            .collect();
        // Not delivered now (no connection, slow, taken over): the client gets the events from
        // the history on its next connect, and resends what was not acknowledged.
        self.deliver(session, frames, delivery).await;
        committed(then);
        drop(guard);
        Ok(Transacted::Committed)
    }

    /// Queues `frames` for the connection of `session`, in order, stopping at the first that
    /// cannot be delivered.
    async fn deliver(&self, session: &SessionId, frames: Vec<String>, delivery: Delivery) {
        for frame in frames {
            let sent = match delivery {
                Delivery::Now => self.registry.send_frame(session, frame),
                Delivery::Patient(patience) => {
                    self.registry
                        .send_frame_waiting(session, frame, patience)
                        .await
                }
            };
            if sent.is_err() {
                return;
            }
        }
    }

    /// Sends a message that is not history (a streamed piece, a model error) to the session's
    /// connection, waiting up to `patience` for room.
    pub async fn send_live(
        &self,
        session: &SessionId,
        message: ServerMessage,
        patience: Duration,
    ) -> Result<(), SendError> {
        self.registry
            .send_frame_waiting(session, message.to_json(), patience)
            .await
    }

    /// Makes `outbound` the connection of `session` (taking it over from any other) and sends
    /// it what it missed: the history after `last_seq` — or, for a client with nothing or one
    /// that missed more than [`REPLAY_LIMIT`] frames, a snapshot of the session — then whatever
    /// `catch_up` queues (a reply still streaming). The session's lock is held only while the
    /// connection registers and the replay is read: what is sent to the session after that is
    /// held for the connection and delivered after its replay, so the client is never slow on
    /// anyone else's time and still gets every frame once, in order.
    pub async fn join(
        &self,
        session: &SessionId,
        last_seq: u64,
        outbound: &crate::outbound::Sender,
        catch_up: impl FnOnce(&crate::outbound::Sender),
    ) -> (Registration, Result<(), ReplayFailure>) {
        let (registration, frames) = {
            let _guard = self.lock(session).await;
            let registration = self.registry.register(session, outbound.clone());
            let frames = match self.catch_up_frames(session, last_seq).await {
                Ok(frames) => frames,
                Err(error) => {
                    tracing::error!(%error, "cannot read what the client missed");
                    let message = "the history could not be read; reconnect to try again";
                    vec![ServerMessage::error(protocol::ErrorCode::Internal, message).to_json()]
                }
            };
            (registration, frames)
        };
        // Joining loads no state: an idle connection costs no session memory.
        self.release(session);
        if !frames.is_empty() {
            tracing::debug!(count = frames.len(), last_seq, "replaying");
        }
        for frame in frames {
            match tokio::time::timeout(REPLAY_PATIENCE, outbound.send(frame)).await {
                Ok(Ok(())) => {}
                Ok(Err(_)) => return (registration, Err(ReplayFailure::ClientGone)),
                Err(_) => return (registration, Err(ReplayFailure::TooSlow)),
            }
        }
        let live = self
            .registry
            .go_live(
                session,
                registration.connection_id,
                REPLAY_PATIENCE,
                catch_up,
            )
            .await;
        let outcome = match live {
            Ok(()) => Ok(()),
            Err(SendError::SlowConsumer) => Err(ReplayFailure::TooSlow),
            Err(SendError::NotConnected) => Err(ReplayFailure::ClientGone),
        };
        (registration, outcome)
    }

    /// What a client that has the history up to `last_seq` is sent on joining.
    async fn catch_up_frames(
        &self,
        session: &SessionId,
        last_seq: u64,
    ) -> Result<Vec<String>, StorageError> {
        let missed = if last_seq == 0 {
            None
        } else {
            Some(self.storage.count_events_after(session, last_seq).await?)
        };
        let frames = match missed {
            Some(count) if count <= REPLAY_LIMIT => {
                self.storage.events_after(session, last_seq).await?
            }
            _ => self.snapshot(session).await?,
        };
        // Frames stored before history frames were bounded may be too large to send; they are
        // skipped (said so), rather than ending every connection that replays them.
        Ok(frames
            .into_iter()
            .map(|frame| {
                if frame.len() <= self.max_frame_bytes {
                    return frame;
                }
                tracing::warn!(
                    bytes = frame.len(),
                    "a stored frame is too large to send; skipped"
                );
                let notice =
                    "an old entry of this conversation is too large to show and was skipped";
                ServerMessage::error(protocol::ErrorCode::Internal, notice).to_json()
            })
            .collect())
    }

    /// The session as it stands, read from the database (so joining loads no state): the
    /// snapshot, then each file, pending diff and open conflict as a frame of its own.
    async fn snapshot(&self, session: &SessionId) -> Result<Vec<String>, StorageError> {
        let seq = self.storage.last_seq(session).await?;
        let (messages, has_earlier) = self
            .storage
            .messages_before(session, None, SNAPSHOT_MESSAGES)
            .await?;
        let streaming = messages
            .iter()
            .rev()
            .find(|m| m.role == protocol::Role::Assistant && m.finish_reason.is_none())
            .map(|m| m.id.clone());
        let snapshot = protocol::Snapshot {
            seq,
            messages,
            has_earlier,
            streaming,
        };
        let mut frames = vec![ServerMessage::Snapshot(Box::new(snapshot)).to_json()];
        for file in self.storage.current_files(session).await? {
            let update = ServerMessage::FileUpdate {
                file_id: file.file_id,
                content: file.content,
                version: Some(file.version),
            };
            frames.push(update.to_json());
        }
        for diff in self.storage.pending_diffs(session).await? {
            frames.push(ServerMessage::Diff(Box::new(diff)).to_json());
        }
        for conflict in self.storage.open_conflicts(session).await? {
            frames.push(ServerMessage::FileConflict(Box::new(conflict)).to_json());
        }
        Ok(frames)
    }

    /// Up to `limit` messages before `position` (capped at [`protocol::limits::MAX_HISTORY_PAGE`]),
    /// as a `history_page`.
    pub async fn history_page(
        &self,
        session: &SessionId,
        before: u64,
        limit: Option<u32>,
    ) -> Result<ServerMessage, StorageError> {
        let limit = limit
            .unwrap_or(HISTORY_PAGE as u32)
            .clamp(1, protocol::limits::MAX_HISTORY_PAGE) as usize;
        let (messages, has_earlier) = self
            .storage
            .messages_before(session, Some(before), limit)
            .await?;
        Ok(ServerMessage::HistoryPage {
            messages,
            has_earlier,
        })
    }

    /// Keeps the text so far of the reply `message_id`, while it streams.
    pub async fn flush_reply(
        &self,
        session: &SessionId,
        message_id: &str,
        text: &str,
    ) -> Result<(), StorageError> {
        self.storage.flush_reply(session, message_id, text).await
    }

    /// The content of version `version` of a file, if it is still kept.
    pub async fn file_version(
        &self,
        session: &SessionId,
        file_id: &str,
        version: i64,
    ) -> Result<Option<String>, StorageError> {
        self.storage.file_version(session, file_id, version).await
    }

    /// The connection `connection_id` of `session` (from its [`Registration`]) has ended: it
    /// stops receiving, and the session's cached state is released if nothing else uses it.
    pub fn leave(&self, session: &SessionId, connection_id: u64) {
        self.registry.unregister(session, connection_id);
        self.release(session);
    }

    /// Whether the client message `id` of `session` was processed.
    pub async fn is_processed(
        &self,
        session: &SessionId,
        id: &MessageId,
    ) -> Result<bool, StorageError> {
        self.storage.is_processed(session, id.as_str()).await
    }

    /// The history frames of `session` after `after_seq`, in order, as they were sent.
    pub async fn events_after(
        &self,
        session: &SessionId,
        after_seq: u64,
    ) -> Result<Vec<String>, StorageError> {
        self.storage.events_after(session, after_seq).await
    }

    /// Claims `session` for `subject` (see [`Storage::claim_session`]).
    pub async fn claim(
        &self,
        session: &SessionId,
        subject: &str,
        max_per_subject: usize,
    ) -> Result<Claim, StorageError> {
        self.storage
            .claim_session(session, subject, max_per_subject)
            .await
    }

    /// A page of `section` of everything stored about `session` (see
    /// [`Storage::export_page`]).
    pub async fn export_page(
        &self,
        session: &SessionId,
        section: Section,
        from: u64,
        limit: usize,
    ) -> Result<(Vec<serde_json::Value>, Option<u64>), StorageError> {
        self.storage
            .export_page(session, section, from, limit)
            .await
    }

    /// The newest history `seq` of `session`.
    pub async fn last_seq(&self, session: &SessionId) -> Result<u64, StorageError> {
        self.storage.last_seq(session).await
    }
}
