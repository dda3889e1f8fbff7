//! One session's state as the server keeps it in memory: files, pending diffs, the
//! conversation, the history's `seq` and the id counters, with the bounds that keep it small.

use super::conversation::{Role, Turn};
use crate::{
    llm::OpenFile,
    storage::read::{FileRow, SessionRows},
};
use protocol::{Conflict, DiffProposal};
use std::collections::HashMap;

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

impl From<&FileState> for OpenFile {
    fn from(file: &FileState) -> Self {
        OpenFile {
            name: file.name.clone(),
            language: file.language.clone(),
            content: file.content.clone(),
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
    /// Edits that could not be merged, waiting for the person, by conflict id.
    pub conflicts: HashMap<String, Conflict>,
    /// The `seq` of the newest history event.
    pub last_seq: u64,
    /// Counter for this session's diff ids.
    pub(crate) next_diff: u64,
    /// Counter for this session's reply ids.
    pub(crate) next_message: u64,
    /// Counter for this session's conflict ids.
    pub(crate) next_conflict: u64,
}

impl SessionState {
    /// The state the stored `rows` describe.
    pub fn from_rows(rows: SessionRows) -> Self {
        let mut state = Self {
            last_seq: rows.last_seq,
            next_message: rows.next_message,
            next_diff: rows.next_diff,
            next_conflict: rows.next_conflict,
            ..Self::default()
        };
        for conflict in rows.open_conflicts {
            state
                .conflicts
                .insert(conflict.conflict_id.clone(), conflict);
        }
        for FileRow {
            file_id,
            name,
            language,
            content,
            version,
        } in rows.files
        {
            state.files.insert(
                file_id,
                FileState {
                    name,
                    language,
                    content,
                    version,
                },
            );
        }
        for proposal in rows.pending_diffs {
            state.remember_diff(proposal);
        }
        for message in rows.recent_messages {
            state.push_turn(Turn {
                role: if message.from_user {
                    Role::User
                } else {
                    Role::Assistant
                },
                content: message.content,
            });
        }
        state
    }

    /// A fresh diff id, unique within the session.
    pub fn new_diff_id(&mut self) -> String {
        self.next_diff += 1;
        format!("d-{}", self.next_diff)
    }

    /// A fresh conflict id, unique within the session.
    pub fn new_conflict_id(&mut self) -> String {
        self.next_conflict += 1;
        format!("k-{}", self.next_conflict)
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
