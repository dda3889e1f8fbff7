//! Per-session state the server keeps between messages and connections: files and pending diffs.

use crate::llm::Turn;
use protocol::{DiffProposal, SessionId};
use std::{
    collections::HashMap,
    sync::{Arc, Mutex, PoisonError},
};

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
    /// Counter for this session's diff ids.
    next_diff: u64,
    /// Counter for this session's reply ids.
    next_message: u64,
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

/// A shared handle to one session's state.
pub type SharedSession = Arc<Mutex<SessionState>>;

/// All sessions' state, keyed by session id. Survives reconnects (not restarts: see issue 6).
#[derive(Debug, Clone, Default)]
pub struct SessionStore {
    sessions: Arc<Mutex<HashMap<SessionId, SharedSession>>>,
}

impl SessionStore {
    /// The state of `session`, created empty on first use.
    pub fn get_or_create(&self, session: &SessionId) -> SharedSession {
        // Held only for this lookup, never across an `.await`. A poisoned lock still holds a
        // consistent map (inserts are single calls), so we keep using it.
        let mut sessions = self.sessions.lock().unwrap_or_else(PoisonError::into_inner);
        sessions.entry(session.clone()).or_default().clone()
    }
}
