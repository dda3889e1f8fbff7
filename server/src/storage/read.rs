//! Reading: the rows a session's state is built from, snapshots and history pages, the history
//! a client missed. Rows out, nothing more: the session layer decides what they mean.

use super::{Storage, StorageError};
use protocol::{Conflict, DiffProposal, FinishReason, MessageEntry, Role, SessionId};

/// Decodes stored JSON rows.
fn decode_all<T: serde::de::DeserializeOwned>(
    rows: Vec<(String,)>,
) -> Result<Vec<T>, StorageError> {
    rows.into_iter()
        .map(|(json,)| {
            serde_json::from_str(&json).map_err(|e| StorageError::Corrupt(e.to_string()))
        })
        .collect()
}

/// Converts a stored BIGINT counter back (never negative in our tables).
fn small(value: i64) -> u64 {
    u64::try_from(value).unwrap_or(0)
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
    /// The session's conflict id counter.
    pub next_conflict: u64,
    /// Each file's current content.
    pub files: Vec<FileRow>,
    /// The diffs still waiting for a decision, oldest first.
    pub pending_diffs: Vec<DiffProposal>,
    /// The conflicts still waiting for a resolution, oldest first.
    pub open_conflicts: Vec<Conflict>,
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
        let counters: Option<(i64, i64, i64, i64)> = sqlx::query_as(
            "SELECT last_seq, next_message, next_diff, next_conflict FROM axe_sessions \
             WHERE session_id = $1",
        )
        .bind(id)
        .fetch_optional(self.pool())
        .await?;
        let Some((last_seq, next_message, next_diff, next_conflict)) = counters else {
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
        let pending_diffs = decode_all(diffs)?;
        let open_conflicts = self.open_conflicts(session).await?;

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
            next_conflict: small(next_conflict),
            open_conflicts,
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

    /// Each file of `session` as it is now.
    pub async fn current_files(&self, session: &SessionId) -> Result<Vec<FileRow>, StorageError> {
        let rows: Vec<(String, String, String, String, i64)> = sqlx::query_as(
            "SELECT file_id, name, language, content, version FROM axe_files \
             WHERE session_id = $1 ORDER BY file_id",
        )
        .bind(session.as_str())
        .fetch_all(self.pool())
        .await?;
        Ok(rows
            .into_iter()
            .map(|(file_id, name, language, content, version)| FileRow {
                file_id,
                name,
                language,
                content,
                version,
            })
            .collect())
    }

    /// The content of version `version` of a file, if it is still kept.
    pub async fn file_version(
        &self,
        session: &SessionId,
        file_id: &str,
        version: i64,
    ) -> Result<Option<String>, StorageError> {
        let row: Option<(String,)> = sqlx::query_as(
            "SELECT content FROM axe_file_versions WHERE session_id = $1 AND file_id = $2 \
             AND version = $3",
        )
        .bind(session.as_str())
        .bind(file_id)
        .bind(version)
        .fetch_optional(self.pool())
        .await?;
        Ok(row.map(|(content,)| content))
    }

    /// The diffs of `session` waiting for a decision, oldest first.
    pub async fn pending_diffs(
        &self,
        session: &SessionId,
    ) -> Result<Vec<DiffProposal>, StorageError> {
        let rows: Vec<(String,)> = sqlx::query_as(
            "SELECT proposal FROM axe_diffs WHERE session_id = $1 AND status = 'pending' \
             ORDER BY created_at, diff_id",
        )
        .bind(session.as_str())
        .fetch_all(self.pool())
        .await?;
        decode_all(rows)
    }

    /// The conflicts of `session` waiting for a resolution, oldest first.
    pub async fn open_conflicts(&self, session: &SessionId) -> Result<Vec<Conflict>, StorageError> {
        let rows: Vec<(String,)> = sqlx::query_as(
            "SELECT conflict FROM axe_conflicts WHERE session_id = $1 AND status = 'open' \
             ORDER BY created_at, conflict_id",
        )
        .bind(session.as_str())
        .fetch_all(self.pool())
        .await?;
        decode_all(rows)
    }

    /// Up to `limit` messages of `session` before `position` (all, for `None`), newest
    /// first as stored and returned oldest first; and whether there are earlier ones.
    pub async fn messages_before(
        &self,
        session: &SessionId,
        position: Option<u64>,
        limit: usize,
    ) -> Result<(Vec<MessageEntry>, bool), StorageError> {
        let before = position.map_or(i64::MAX, |p| i64::try_from(p).unwrap_or(i64::MAX));
        // One more than asked, to know whether earlier ones exist. A message and its reply
        // share a position and 'user' sorts after 'assistant', so newest-first keeps a reply
        // after its question once reversed.
        let rows: Vec<(String, String, String, i64, Option<String>)> = sqlx::query_as(
            "SELECT message_id, role, content, position, finish_reason FROM axe_messages \
             WHERE session_id = $1 AND position < $2 ORDER BY position DESC, role ASC LIMIT $3",
        )
        .bind(session.as_str())
        .bind(before)
        .bind(i64::try_from(limit.saturating_add(1)).unwrap_or(i64::MAX))
        .fetch_all(self.pool())
        .await?;
        let has_earlier = rows.len() > limit;
        let mut entries: Vec<MessageEntry> = rows
            .into_iter()
            .take(limit)
            .map(|(id, role, text, position, finish_reason)| MessageEntry {
                id,
                role: if role == "user" {
                    Role::User
                } else {
                    Role::Assistant
                },
                text,
                position: small(position),
                finish_reason: finish_reason.as_deref().and_then(FinishReason::parse),
            })
            .collect();
        // Cut at a position boundary so a page never splits a question from its reply.
        if has_earlier {
            if let Some(oldest) = entries.last().map(|e| e.position) {
                if entries.iter().filter(|e| e.position == oldest).count() == 1
                    && entries.last().is_some_and(|e| e.role == Role::Assistant)
                {
                    entries.pop();
                }
            }
        }
        entries.reverse();
        Ok((entries, has_earlier))
    }

    /// How many history frames of `session` come after `after_seq`.
    pub async fn count_events_after(
        &self,
        session: &SessionId,
        after_seq: u64,
    ) -> Result<u64, StorageError> {
        let (count,): (i64,) =
            sqlx::query_as("SELECT COUNT(*) FROM axe_history WHERE session_id = $1 AND seq > $2")
                .bind(session.as_str())
                .bind(i64::try_from(after_seq).unwrap_or(i64::MAX))
                .fetch_one(self.pool())
                .await?;
        Ok(small(count))
    }

    /// The session's newest `seq` (0 for a session never stored).
    pub async fn last_seq(&self, session: &SessionId) -> Result<u64, StorageError> {
        let row: Option<(i64,)> =
            sqlx::query_as("SELECT last_seq FROM axe_sessions WHERE session_id = $1")
                .bind(session.as_str())
                .fetch_optional(self.pool())
                .await?;
        Ok(row.map_or(0, |(seq,)| small(seq)))
    }

    /// The history frames of `session` after `after_seq`, in order, as they were sent.
    pub async fn events_after(
        &self,
        session: &SessionId,
        after_seq: u64,
    ) -> Result<Vec<String>, StorageError> {
        let rows: Vec<(String,)> = sqlx::query_as(
            "SELECT frame FROM axe_history WHERE session_id = $1 AND seq > $2 ORDER BY seq",
        )
        .bind(session.as_str())
        .bind(i64::try_from(after_seq).unwrap_or(i64::MAX))
        .fetch_all(self.pool())
        .await?;
        Ok(rows.into_iter().map(|(frame,)| frame).collect())
    }
}
