//! Per-session state: files, pending diffs, the conversation and the history's `seq`, cached in
//! memory over what the database holds, and the lock that puts one session's changes in order.

use crate::{
    llm::Turn,
    storage::{Batch, Change, Storage, StorageError},
};
use protocol::{encode_server_frame, DiffProposal, MessageId, ServerMessage, SessionId};
use std::{
    collections::HashMap,
    sync::{Arc, Mutex, PoisonError},
};
use tokio::sync::OwnedMutexGuard;

/// Most files one session may hold; bounds the memory a single client can make us use.
pub const MAX_FILES_PER_SESSION: usize = 64;
/// Most undecided diffs one session may hold; the oldest is dropped beyond this.
pub const MAX_PENDING_DIFFS: usize = 64;
/// Most conversation turns one session keeps for prompts; the oldest is dropped beyond this.
pub const MAX_HISTORY_TURNS: usize = 40;

/// The server's copy of one file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileState {
    /// Display name, e.g. `main.rs`.
    pub name: String,
    /// Language, e.g. `rust`.
    pub language: String,
    /// Whole content.
    pub content: String,
    /// 1 for the first content the server saw, one more for each change since.
    pub version: i64,
}

impl FileState {
    /// A file as first seen: version 1.
    pub fn new(
        name: impl Into<String>,
        language: impl Into<String>,
        content: impl Into<String>,
    ) -> Self {
        Self {
            name: name.into(),
            language: language.into(),
            content: content.into(),
            version: 1,
        }
    }
}

/// Everything the server knows about one session.
#[derive(Debug, Default)]
pub struct SessionState {
    /// Files by their client-chosen id.
    pub files: HashMap<String, FileState>,
    /// Diffs proposed and not yet applied or rejected, by diff id.
    pub pending_diffs: HashMap<String, DiffProposal>,
    /// Diff ids in the order they were proposed, to drop the oldest when full.
    pub diff_order: Vec<String>,
    /// The conversation, oldest first, for the prompt.
    pub history: Vec<Turn>,
    /// The `seq` of the newest history event.
    pub last_seq: u64,
    /// Counter for this session's diff ids.
    pub(crate) next_diff: u64,
    /// Counter for this session's reply ids.
    pub(crate) next_message: u64,
}

impl SessionState {
    /// A fresh diff id, unique within the session.
    pub fn new_diff_id(&mut self) -> String {
        self.next_diff += 1;
        format!("d-{}", self.next_diff)
    }

    /// A fresh reply id, unique within the session.
    pub fn new_message_id(&mut self) -> String {
        self.next_message += 1;
        format!("m-{}", self.next_message)
    }

    /// Appends a turn to the conversation, dropping the oldest beyond the limit.
    pub fn push_turn(&mut self, turn: Turn) {
        if self.history.len() >= MAX_HISTORY_TURNS {
            self.history.remove(0);
        }
        self.history.push(turn);
    }

    /// Keeps `proposal` for a later decision, dropping the oldest pending diff when full.
    pub fn remember_diff(&mut self, proposal: DiffProposal) {
        if self.diff_order.len() >= MAX_PENDING_DIFFS {
            let oldest = self.diff_order.remove(0);
            self.pending_diffs.remove(&oldest);
        }
        self.diff_order.push(proposal.diff_id.clone());
        self.pending_diffs
            .insert(proposal.diff_id.clone(), proposal);
    }

    /// Removes and returns the pending diff `diff_id`.
    pub fn take_diff(&mut self, diff_id: &str) -> Option<DiffProposal> {
        let proposal = self.pending_diffs.remove(diff_id)?;
        self.diff_order.retain(|id| id != diff_id);
        Some(proposal)
    }
}

/// One session's place in memory: its state once loaded from the database.
#[derive(Debug, Default)]
pub struct Slot {
    state: Option<SessionState>,
}

/// Exclusive access to one session. Everything that changes a session or sends its history
/// holds this, so `seq` numbers are given, stored and sent in one order.
pub type SessionGuard = OwnedMutexGuard<Slot>;

/// What a committed change sends: history frames (with their `seq`) and the rest.
pub type Frames = Vec<String>;

/// All sessions, keyed by session id, over the database.
#[derive(Debug, Clone)]
pub struct SessionStore {
    storage: Storage,
    slots: Arc<Mutex<HashMap<SessionId, Arc<tokio::sync::Mutex<Slot>>>>>,
}

impl SessionStore {
    /// A store over `storage`, with nothing loaded yet.
    pub fn new(storage: Storage) -> Self {
        Self {
            storage,
            slots: Arc::default(),
        }
    }

    /// The database behind the store.
    pub fn storage(&self) -> &Storage {
        &self.storage
    }

    /// Waits for exclusive access to `session`.
    pub async fn lock(&self, session: &SessionId) -> SessionGuard {
        let slot = {
            // Held only for this lookup, never across an `.await`. A poisoned lock still holds
            // a consistent map (inserts are single calls), so we keep using it.
            let mut slots = self.slots.lock().unwrap_or_else(PoisonError::into_inner);
            slots.entry(session.clone()).or_default().clone()
        };
        slot.lock_owned().await
    }

    /// Forgets the cached state of `session` if nobody is using it: the database has it all,
    /// and memory should not grow with every session ever seen.
    pub fn release(&self, session: &SessionId) {
        let mut slots = self.slots.lock().unwrap_or_else(PoisonError::into_inner);
        // Only the map holds it: no lock is held or awaited, so no change is in flight.
        if slots
            .get(session)
            .is_some_and(|slot| Arc::strong_count(slot) == 1)
        {
            slots.remove(session);
        }
    }

    /// The state of the locked `session`, loaded from the database on first use.
    pub async fn state<'g>(
        &self,
        guard: &'g mut SessionGuard,
        session: &SessionId,
    ) -> Result<&'g mut SessionState, StorageError> {
        if guard.state.is_none() {
            guard.state = Some(self.storage.load_session(session).await?);
        }
        // Just filled when it was empty.
        guard
            .state
            .as_mut()
            .ok_or_else(|| StorageError::Corrupt("session state vanished".into()))
    }

    /// Stores `changes` and `events` of the locked `session` in one transaction, recording
    /// `client` (its id and type) as processed, and returns the events as numbered frames to
    /// send. On failure the cached state, which the handler already changed, is dropped so the
    /// next message reloads what the database really holds.
    pub async fn commit(
        &self,
        guard: &mut SessionGuard,
        session: &SessionId,
        client: Option<(&MessageId, &'static str)>,
        changes: Vec<Change>,
        events: Vec<ServerMessage>,
    ) -> Result<Frames, StorageError> {
        let result: Result<Frames, StorageError> = async {
            let state = self.state(guard, session).await?;
            let mut seq = state.last_seq;
            let numbered: Vec<(u64, &'static str, String)> = events
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
            let batch = Batch {
                client: client.map(|(id, kind)| (id.as_str().to_owned(), kind)),
                changes,
                events: numbered,
                last_seq: seq,
                next_message: state.next_message,
                next_diff: state.next_diff,
            };
            self.storage.commit(session, &batch).await?;
            state.last_seq = seq;
            Ok(batch
                .events
                .into_iter()
                .map(|(_, _, frame)| frame)
                .collect())
        }
        .await;
        if result.is_err() {
            guard.state = None;
        }
        result
    }
}
