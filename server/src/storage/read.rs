//! Reading: the rows a session's state is built from, the history a client missed, and an
//! export of everything stored about a session. Rows out, nothing more: the session layer
//! decides what they mean.

use super::{Storage, StorageError};
use protocol::{DiffProposal, SessionId};
use serde::Serialize;

/// Converts a stored BIGINT counter back (never negative in our tables).
fn small(value: i64) -> u64 {
    u64::try_from(value).unwrap_or(0)
}

/// Everything stored about one session, for `GET /api/axe/sessions/{id}/export`.
#[derive(Debug, Clone, Serialize)]
pub struct Export {
    /// The session's newest `seq`.
    pub last_seq: u64,
    /// The history frames, in `seq` order, exactly as sent.
    pub events: Vec<serde_json::Value>,
    /// Both sides of the conversation, oldest first.
    pub messages: Vec<StoredMessage>,
    /// Every version of every file, oldest first per file.
    pub file_versions: Vec<StoredFileVersion>,
    /// Every diff and what became of it.
    pub diffs: Vec<StoredDiff>,
    /// The ids of the client messages processed, in the order they were.
    pub processed: Vec<String>,
}

/// One stored chat message.
#[derive(Debug, Clone, Serialize)]
pub struct StoredMessage {
    /// Its id: the client's frame id for the person's messages, `m-N` for replies.
    pub message_id: String,
    /// `user` or `assistant`.
    pub role: String,
    /// `streaming`, `complete`, `stopped` or `failed`.
    pub status: String,
    /// The text.
    pub content: String,
}

/// One stored file version.
#[derive(Debug, Clone, Serialize)]
pub struct StoredFileVersion {
    /// The file.
    pub file_id: String,
    /// The version number.
    pub version: i64,
    /// The content.
    pub content: String,
    /// The client message id of the edit, or the diff id that made it.
    pub cause: String,
}

/// One stored diff.
#[derive(Debug, Clone, Serialize)]
pub struct StoredDiff {
    /// The diff.
    pub diff_id: String,
    /// `pending`, `applied` or `rejected`.
    pub status: String,
}

/// What is stored about one session, for building its state.
#[derive(Debug, Clone, Default)]
pub struct SessionRows {
    /// The `seq` of the newest history event.
    pub last_seq: u64,
    /// The session's reply id counter.
    pub next_message: u64,
    /// The session's diff id counter.
    pub next_diff: u64,
    /// Each file's current content.
    pub files: Vec<FileRow>,
    /// The diffs still waiting for a decision, oldest first.
    pub pending_diffs: Vec<DiffProposal>,
    /// The newest chat messages, oldest first.
    pub recent_messages: Vec<MessageRow>,
}

/// One file's current row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileRow {
    /// The client-chosen id.
    pub file_id: String,
    /// Display name.
    pub name: String,
    /// Language.
    pub language: String,
    /// Whole content.
    pub content: String,
    /// Its version number.
    pub version: i64,
}

/// One chat message, either side.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageRow {
    /// `true` for the person's messages, `false` for replies.
    pub from_user: bool,
    /// The text.
    pub content: String,
}

impl Storage {
    /// The stored rows of `session` (all empty if it is new), with at most `message_limit` of
    /// its newest chat messages.
    pub async fn load_session(
        &self,
        session: &SessionId,
        message_limit: usize,
    ) -> Result<SessionRows, StorageError> {
        let id = session.as_str();
        let counters: Option<(i64, i64, i64)> = sqlx::query_as(
            "SELECT last_seq, next_message, next_diff FROM axe_sessions WHERE session_id = $1",
        )
        .bind(id)
        .fetch_optional(self.pool())
        .await?;
        let Some((last_seq, next_message, next_diff)) = counters else {
            return Ok(SessionRows::default());
        };

        let files: Vec<(String, String, String, String, i64)> = sqlx::query_as(
            "SELECT file_id, name, language, content, version FROM axe_files WHERE session_id = $1",
        )
        .bind(id)
        .fetch_all(self.pool())
        .await?;

        let diffs: Vec<(String,)> = sqlx::query_as(
            "SELECT proposal FROM axe_diffs WHERE session_id = $1 AND status = 'pending' \
             ORDER BY created_at, diff_id",
        )
        .bind(id)
        .fetch_all(self.pool())
        .await?;
        let pending_diffs = diffs
            .into_iter()
            .map(|(json,)| {
                serde_json::from_str(&json).map_err(|e| StorageError::Corrupt(e.to_string()))
            })
            .collect::<Result<_, _>>()?;

        // The newest messages only, oldest first. A message and its reply share a position,
        // and 'user' sorts after 'assistant'.
        let messages: Vec<(String, String)> = sqlx::query_as(
            "SELECT role, content FROM axe_messages WHERE session_id = $1 \
             ORDER BY position DESC, role ASC LIMIT $2",
        )
        .bind(id)
        .bind(i64::try_from(message_limit).unwrap_or(i64::MAX))
        .fetch_all(self.pool())
        .await?;
        Ok(SessionRows {
            last_seq: small(last_seq),
            next_message: small(next_message),
            next_diff: small(next_diff),
            files: files
                .into_iter()
                .map(|(file_id, name, language, content, version)| FileRow {
                    file_id,
                    name,
                    language,
                    content,
                    version,
                })
                .collect(),
            pending_diffs,
            recent_messages: messages
                .into_iter()
                .rev()
                .map(|(role, content)| MessageRow {
                    from_user: role == "user",
                    content,
                })
                .collect(),
        })
    }

    /// Each file of `session` and its current content.
    pub async fn current_files(
        &self,
        session: &SessionId,
    ) -> Result<Vec<(String, String)>, StorageError> {
        Ok(sqlx::query_as(
            "SELECT file_id, content FROM axe_files WHERE session_id = $1 ORDER BY file_id",
        )
        .bind(session.as_str())
        .fetch_all(self.pool())
        .await?)
    }

    /// The history frames of `session` after `after_seq`, in order, as they were sent.
    pub async fn events_after(
        &self,
        session: &SessionId,
        after_seq: u64,
    ) -> Result<Vec<String>, StorageError> {
        let rows: Vec<(String,)> = sqlx::query_as(
            "SELECT frame FROM axe_events WHERE session_id = $1 AND seq > $2 ORDER BY seq",
        )
        .bind(session.as_str())
        .bind(i64::try_from(after_seq).unwrap_or(i64::MAX))
        .fetch_all(self.pool())
        .await?;
        Ok(rows.into_iter().map(|(frame,)| frame).collect())
    }

    /// Everything stored about `session`.
    pub async fn export(&self, session: &SessionId) -> Result<Export, StorageError> {
        let id = session.as_str();
        let last_seq: Option<(i64,)> =
            sqlx::query_as("SELECT last_seq FROM axe_sessions WHERE session_id = $1")
                .bind(id)
                .fetch_optional(self.pool())
                .await?;
        let events = self
            .events_after(session, 0)
            .await?
            .iter()
            .map(|frame| serde_json::from_str(frame))
            .collect::<Result<_, _>>()
            .map_err(|e| StorageError::Corrupt(e.to_string()))?;
        let messages: Vec<(String, String, String, String)> = sqlx::query_as(
            "SELECT message_id, role, status, content FROM axe_messages WHERE session_id = $1 \
             ORDER BY position, role DESC",
        )
        .bind(id)
        .fetch_all(self.pool())
        .await?;
        let versions: Vec<(String, i64, String, String)> = sqlx::query_as(
            "SELECT file_id, version, content, cause FROM axe_file_versions \
             WHERE session_id = $1 ORDER BY file_id, version",
        )
        .bind(id)
        .fetch_all(self.pool())
        .await?;
        let diffs: Vec<(String, String)> = sqlx::query_as(
            "SELECT diff_id, status FROM axe_diffs WHERE session_id = $1 ORDER BY created_at, diff_id",
        )
        .bind(id)
        .fetch_all(self.pool())
        .await?;
        let processed: Vec<(String,)> = sqlx::query_as(
            "SELECT client_id FROM axe_client_messages WHERE session_id = $1 \
             ORDER BY received_at, client_id",
        )
        .bind(id)
        .fetch_all(self.pool())
        .await?;
        Ok(Export {
            last_seq: last_seq.map_or(0, |(seq,)| small(seq)),
            events,
            messages: messages
                .into_iter()
                .map(|(message_id, role, status, content)| StoredMessage {
                    message_id,
                    role,
                    status,
                    content,
                })
                .collect(),
            file_versions: versions
                .into_iter()
                .map(|(file_id, version, content, cause)| StoredFileVersion {
                    file_id,
                    version,
                    content,
                    cause,
                })
                .collect(),
            diffs: diffs
                .into_iter()
                .map(|(diff_id, status)| StoredDiff { diff_id, status })
                .collect(),
            processed: processed.into_iter().map(|(id,)| id).collect(),
        })
    }
}
