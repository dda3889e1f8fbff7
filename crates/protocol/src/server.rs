//! Messages the server sends to the browser.

use crate::{codes::ErrorCode, diff::Hunk};
use serde::{Deserialize, Serialize};

tagged_messages! {
    /// A message from the server to the client (browser): struct variants, then (after `;`)
    /// those whose payload is a type of its own.
    #[derive(Debug, Clone, PartialEq)]
    pub enum ServerMessage {
        /// Sent while a reply is generated, once per piece of text the model produced. The client
        /// appends `delta` to the reply `message_id`, creating it on the first delta.
        ChatDelta = "chat_delta" {
            /// The reply this piece belongs to.
            message_id: String,
            /// The new text.
            delta: String,
            /// Where `delta` starts in the reply's text, in UTF-8 bytes. The client cuts its copy
            /// to `offset` and appends `delta`, so a repeated piece, or the catch-up piece (offset
            /// 0, the whole text so far) sent after a reconnect, leaves the same text.
            #[serde(default)]
            offset: u64,
        },
        /// Confirms that the client message with this `id` is durably stored (or was already): the
        /// client may forget it. Sent again for a repeated id, which is not processed twice.
        Ack = "ack" {
            /// The client's frame `id`.
            id: String,
            /// For an edit (`file_updated`, `resolve_conflict`, `diff_applied`): the file's version
            /// it left, which the client names as `base_version` in its next edit of the file.
            #[serde(default, skip_serializing_if = "Option::is_none")]
            version: Option<i64>,
        },
        /// A chat message the person sent, as stored: part of the history, so a page opened on an
        /// existing session (or another tab) shows both sides of the conversation.
        UserMessage = "user_message" {
            /// The client's frame `id` of the `chat`.
            id: String,
            /// What the person typed.
            message: String,
        },
        /// Sent when a reply is complete (or stopped, or failed): the whole text. A client that
        /// ignores `chat_delta` shows just this; one that streamed replaces the streamed text.
        ChatResponse = "chat_response" {
            /// The reply text (Markdown).
            message: String,
            /// Who answered and how.
            metadata: ChatMetadata,
        },
        /// Sent when the server's copy of a file changed (e.g. after `diff_applied`): the client
        /// replaces the file's content in its editor.
        FileUpdate = "file_update" {
            /// The file that changed.
            file_id: String,
            /// Its whole new content.
            content: String,
            /// The server's version of this content, which the client names as `base_version` in
            /// its next edit.
            #[serde(default, skip_serializing_if = "Option::is_none")]
            version: Option<i64>,
        },
        /// Sent once a conflict is resolved (by this client or another): the client closes it.
        ConflictResolved = "conflict_resolved" {
            /// The conflict.
            conflict_id: String,
            /// Its file.
            file_id: String,
        },
        /// The answer to `load_history`: earlier messages, oldest first.
        HistoryPage = "history_page" {
            /// The messages before the one asked about, oldest first.
            messages: Vec<MessageEntry>,
            /// Whether there are still earlier ones.
            has_earlier: bool,
        },
        /// Sent once a diff has been applied or rejected, confirming the decision; the client
        /// closes its review of that diff.
        DiffResolved = "diff_resolved" {
            /// The diff that was decided.
            diff_id: String,
            /// What became of it.
            outcome: DiffOutcome,
        },
        /// Sent in answer to `ping`, echoing its `ts`. The client uses it to know the link is
        /// alive.
        Pong = "pong" {
            /// The `ts` of the ping, if it had one.
            #[serde(default, skip_serializing_if = "Option::is_none")]
            ts: Option<serde_json::Number>,
        },
        /// Sent when a message could not be processed. The connection stays open; the client shows
        /// `message` and may branch on `code`.
        Error = "error" {
            /// A stable machine-readable reason.
            code: ErrorCode,
            /// A human-readable explanation.
            message: String,
            /// The frame `id` of the client message that was refused, when it had one. Unless the
            /// code is retryable ([`ErrorCode::is_retryable`]) the message will be refused again,
            /// so the client stops resending it.
            #[serde(default, skip_serializing_if = "Option::is_none")]
            id: Option<String>,
            /// For `rate_limited`: how long to wait before sending again, in milliseconds.
            #[serde(default, skip_serializing_if = "Option::is_none")]
            retry_after_ms: Option<u64>,
        },
        /// Sent while a chat's reply waits for one of the server's model slots (every slot is busy
        /// with other sessions' replies), and again whenever its place in the queue changes. The
        /// client shows that the reply is waiting; it starts with `chat_delta` as usual, and Stop
        /// cancels it while it waits.
        ChatQueued = "chat_queued" {
            /// The reply that waits.
            message_id: String,
            /// Its place in the queue: 1 is next.
            position: u32,
        };
        /// Sent after a `chat_response` that proposes a change to a file: the client shows it for
        /// review and answers `diff_applied` or `diff_rejected`.
        Diff = "diff"(Box<DiffProposal>),
        /// Sent when an edit made on an older version of a file could not be merged into the
        /// server's newer copy: both sides are kept, nothing is dropped. The file keeps the
        /// server's content (`theirs`) until the person resolves the conflict with
        /// `resolve_conflict`; the client shows both sides and `draft`, a merge with markers.
        FileConflict = "file_conflict"(Box<Conflict>),
        /// Sent first to a client that connects with nothing (`last_seq` 0), or that missed too
        /// much for a replay: the session as it stands, instead of its whole history. The client
        /// replaces what it shows and continues from `seq`. Each file follows as `file_update`,
        /// each pending diff as `diff` and each open conflict as `file_conflict`, all without
        /// `seq` (so no frame has to hold a whole session).
        Snapshot = "snapshot"(Box<Snapshot>),
    }
}

impl ServerMessage {
    /// Shorthand for an `error` message.
    pub fn error(code: ErrorCode, message: impl Into<String>) -> Self {
        Self::Error {
            code,
            message: message.into(),
            id: None,
            retry_after_ms: None,
        }
    }

    /// Shorthand for an `error` refusing the client message `id`.
    pub fn refusal(code: ErrorCode, message: impl Into<String>, id: Option<&str>) -> Self {
        Self::Error {
            code,
            message: message.into(),
            id: id.map(str::to_owned),
            retry_after_ms: None,
        }
    }

    /// An `error rate_limited` for the client message `id`: not processed; send it again after
    /// `retry_after_ms`.
    pub fn rate_limited(message: impl Into<String>, id: Option<&str>, retry_after_ms: u64) -> Self {
        Self::Error {
            code: ErrorCode::RateLimited,
            message: message.into(),
            id: id.map(str::to_owned),
            retry_after_ms: Some(retry_after_ms),
        }
    }

    /// Whether this message belongs to the session's history, so it is stored, numbered with
    /// a `seq` and replayed to a client that missed it.
    pub fn is_history(&self) -> bool {
        matches!(
            self,
            Self::UserMessage { .. }
                | Self::ChatResponse { .. }
                | Self::Diff(_)
                | Self::FileUpdate { .. }
                | Self::DiffResolved { .. }
                | Self::FileConflict(_)
                | Self::ConflictResolved { .. }
        )
    }

    /// Encodes the message as one JSON text frame.
    pub fn to_json(&self) -> String {
        // Serializing these types cannot fail: every map key is a string and every value is
        // plain data, so the fallback is unreachable in practice but keeps this panic-free.
        serde_json::to_string(self).unwrap_or_else(|_| {
            r#"{"type":"error","payload":{"code":"internal","message":"encoding failed"}}"#.into()
        })
    }
}

/// Information about a chat reply.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChatMetadata {
    /// The reply's id, as in its `chat_delta` messages.
    #[serde(default)]
    pub message_id: String,
    /// The name of what answered: a model name, or `offline-demo` for the built-in responder.
    pub model: String,
    /// Why the reply ended.
    pub finish_reason: FinishReason,
    /// How many diffs follow this reply.
    #[serde(default)]
    pub diff_count: u32,
    /// Token counts, when the model reports them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub usage: Option<Usage>,
}

/// Token counts of one reply, as the model reported them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Usage {
    /// Tokens in the prompt.
    pub prompt_tokens: u32,
    /// Tokens generated.
    pub completion_tokens: u32,
}

/// A proposed change to one file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DiffProposal {
    /// Server-chosen id, named again by `diff_applied` / `diff_rejected`.
    pub diff_id: String,
    /// The file it changes.
    pub file_id: String,
    /// The file's display name.
    pub file_name: String,
    /// The file's language.
    pub language: String,
    /// The file's content the diff was made from.
    pub original: String,
    /// The file's content after the change.
    pub modified: String,
    /// The change in unified-diff form.
    pub hunks: Vec<Hunk>,
    /// Something the person should know before applying it, e.g. that it removes most of the
    /// file (a model that sent only part of a file).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub warning: Option<String>,
}

/// An edit that could not be merged: both sides and a draft.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Conflict {
    /// Server-chosen id, named again by `resolve_conflict`.
    pub conflict_id: String,
    /// The file.
    pub file_id: String,
    /// The file's display name.
    pub file_name: String,
    /// The version both sides started from.
    pub base_version: i64,
    /// The edit that could not be merged (the sender's side).
    pub mine: String,
    /// The server's copy it collided with (the other side), which the file keeps meanwhile.
    pub theirs: String,
    /// A merge of the two with conflict markers (`<<<<<<<`, `=======`, `>>>>>>>`) where they
    /// disagree, as a starting point.
    pub draft: String,
}

/// Who wrote a message of the conversation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// The person.
    User,
    /// The assistant.
    Assistant,
}

/// One message of the conversation, as a snapshot or a history page carries it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessageEntry {
    /// The client's frame id for the person's messages; the reply id for replies.
    pub id: String,
    /// Who wrote it.
    pub role: Role,
    /// The text (Markdown for replies).
    pub text: String,
    /// Its place in the conversation: a message and its reply share one; `load_history` asks
    /// for what comes before a position.
    pub position: u64,
    /// For a reply: how it ended (absent while it streams).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finish_reason: Option<FinishReason>,
}

/// The session as it stands: what a client needs to show it without its history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Snapshot {
    /// The session's newest history `seq`: the client continues from here.
    pub seq: u64,
    /// The newest messages, oldest first.
    pub messages: Vec<MessageEntry>,
    /// Whether there are earlier messages (`load_history` fetches them).
    pub has_earlier: bool,
    /// The reply streaming now, if any: its id (its text follows as a `chat_delta` at 0).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub streaming: Option<String>,
}

/// What the person decided about a diff.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DiffOutcome {
    /// The change was applied to the file.
    Applied,
    /// The change was discarded.
    Rejected,
}

impl DiffOutcome {
    /// The outcome's name on the wire and in storage.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Applied => "applied",
            Self::Rejected => "rejected",
        }
    }
}

/// Why a reply ended, as `chat_response` reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FinishReason {
    /// The model finished its answer: the reply is complete and its code is placed as diffs.
    Stop,
    /// The model reached its token limit: the reply is cut short.
    Length,
    /// The person pressed Stop: the text is what had arrived.
    Stopped,
    /// The model failed (an `error model_error` came first): the text is what had arrived.
    Error,
    /// The server stopped or crashed while the reply streamed: the text is what was kept.
    Interrupted,
}

impl FinishReason {
    /// The reason's name on the wire and in storage.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Stop => "stop",
            Self::Length => "length",
            Self::Stopped => "stopped",
            Self::Error => "error",
            Self::Interrupted => "interrupted",
        }
    }

    /// The reason stored as `name` (`None` for a name this version does not know).
    pub fn parse(name: &str) -> Option<Self> {
        [
            Self::Stop,
            Self::Length,
            Self::Stopped,
            Self::Error,
            Self::Interrupted,
        ]
        .into_iter()
        .find(|reason| reason.as_str() == name)
    }

    /// Where a reply that ended this way stands.
    pub fn status(self) -> MessageStatus {
        match self {
            Self::Stop | Self::Length => MessageStatus::Complete,
            Self::Stopped => MessageStatus::Stopped,
            Self::Error | Self::Interrupted => MessageStatus::Failed,
        }
    }

    /// Whether the reply is whole, so its code may be placed as diffs. A reply cut by the token
    /// limit, by Stop or by a failure may end in the middle of a code block.
    pub fn is_complete(self) -> bool {
        self == Self::Stop
    }
}

/// Where a stored chat message stands: a reply streams, then completes, is stopped or fails.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MessageStatus {
    /// The reply is still being generated.
    Streaming,
    /// The message is whole (every message the person sent is).
    Complete,
    /// The person stopped the reply; the text is partial.
    Stopped,
    /// The model failed or the server stopped; the text is partial.
    Failed,
}

impl MessageStatus {
    /// The status's name in storage and exports.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Streaming => "streaming",
            Self::Complete => "complete",
            Self::Stopped => "stopped",
            Self::Failed => "failed",
        }
    }
}
