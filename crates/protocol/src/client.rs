//! Messages the browser sends to the server.

use serde::{Deserialize, Serialize};

/// A message from the client (browser) to the server.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", content = "payload", rename_all = "snake_case")]
pub enum ClientMessage {
    /// Sent when the person sends a chat message. The server answers with `chat_response`, and
    /// with one `diff` per file when the reply proposes code.
    Chat {
        /// What the person typed.
        message: String,
        /// What the person is looking at, so the reply can refer to it.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        context: Option<ChatContext>,
    },
    /// Sent when the person applies a proposed diff, wholly or hunk by hunk. The server applies
    /// exactly the accepted hunks to its copy of the file and answers `file_update` with the new
    /// content, then `diff_resolved`.
    DiffApplied {
        /// The `diff_id` of the `diff` being applied.
        diff_id: String,
        /// Indexes (0-based, into the diff's `hunks`) of the hunks the person accepted; absent
        /// means all of them.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        hunks: Option<Vec<u32>>,
    },
    /// Sent when the person rejects a proposed diff. The server forgets it and answers
    /// `diff_resolved` with outcome `rejected`.
    DiffRejected {
        /// The `diff_id` of the `diff` being rejected.
        diff_id: String,
    },
    /// Sent when the person edits a file (debounced). The server stores the content as the
    /// session's copy of that file; `name` and `language` are needed when the file is new to it.
    FileUpdated {
        /// The file's id, chosen by the client.
        file_id: String,
        /// The file's whole new content.
        content: String,
        /// The file's display name (required the first time the server sees this file).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        name: Option<String>,
        /// The file's language, e.g. `rust` (required the first time).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        language: Option<String>,
        /// The server's `version` of the file this edit was made on (from `file_update` or
        /// the snapshot). When the server's copy has moved on since, it merges the edit into
        /// it three-way, or records a conflict; absent, the edit replaces the file.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        base_version: Option<i64>,
    },
    /// Sent when the person resolves a conflict (from `file_conflict`) with the content the
    /// file should have. The server stores it as the file's next version and answers
    /// `file_update` then `conflict_resolved`.
    ResolveConflict {
        /// The conflict being resolved.
        conflict_id: String,
        /// The file's content as the person decided it.
        content: String,
    },
    /// Sent when the person scrolls to the top of the conversation and asks for earlier
    /// messages. Read-only (no `id`): the server answers `history_page`.
    LoadHistory {
        /// The `position` of the oldest message the client shows; earlier ones are wanted.
        before: u64,
        /// How many at most (the server caps it).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        limit: Option<u32>,
    },
    /// Sent when the person presses Stop while a reply streams. The server cancels the request
    /// to the model (so the model stops generating too), keeps the partial reply and ends it
    /// with a `chat_response` whose `finish_reason` is `stopped`.
    Stop {
        /// The reply to stop; absent means whatever reply is streaming for this session.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        message_id: Option<String>,
    },
    /// Sent every 30 s as a keep-alive. The server answers `pong` echoing `ts`.
    Ping {
        /// Any number the client wants echoed, typically its clock in milliseconds.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        ts: Option<serde_json::Number>,
    },
}

impl ClientMessage {
    /// Every `type` a client may send, for telling `unknown_type` from `invalid_payload`.
    pub const TYPES: &'static [&'static str] = &[
        "chat",
        "diff_applied",
        "diff_rejected",
        "file_updated",
        "resolve_conflict",
        "load_history",
        "stop",
        "ping",
    ];

    /// Whether the message changes the session's state, and so must carry a frame `id`: the
    /// server stores it, answers `ack` with that id, and processes a repeated id only once.
    pub fn needs_id(&self) -> bool {
        !matches!(
            self,
            Self::Stop { .. } | Self::Ping { .. } | Self::LoadHistory { .. }
        )
    }

    /// The message's `type` on the wire.
    pub fn type_name(&self) -> &'static str {
        match self {
            Self::Chat { .. } => "chat",
            Self::DiffApplied { .. } => "diff_applied",
            Self::DiffRejected { .. } => "diff_rejected",
            Self::FileUpdated { .. } => "file_updated",
            Self::ResolveConflict { .. } => "resolve_conflict",
            Self::LoadHistory { .. } => "load_history",
            Self::Stop { .. } => "stop",
            Self::Ping { .. } => "ping",
        }
    }
}

/// What the person was doing when they sent a chat message.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ChatContext {
    /// The widget's mode, e.g. `expanded` or `canvas`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode: Option<String>,
    /// The file open in the editor, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub active_file: Option<ActiveFile>,
}

/// The file open in the editor. `content` is sent when the server may not have the file yet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActiveFile {
    /// The file's id, chosen by the client.
    pub id: String,
    /// The file's display name, e.g. `main.rs`.
    pub name: String,
    /// The file's language, e.g. `rust`.
    pub language: String,
    /// The file's content as the editor has it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content: Option<String>,
    /// The server's version the content was made on (as in `file_updated`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_version: Option<i64>,
}
