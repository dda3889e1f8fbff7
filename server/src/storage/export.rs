//! Everything stored about a session, a page at a time, for the export endpoint: its history
//! frames, both sides of the conversation, every file version, every diff, the client message
//! ids processed. Pages keep any one query (and the memory it takes) small however long the
//! session.

use super::{Storage, StorageError};
use protocol::SessionId;
use serde_json::{json, Value};

/// The parts of an export, in the order they are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Section {
    /// History frames, in `seq` order, exactly as sent.
    Events,
    /// Both sides of the conversation, oldest first.
    Messages,
    /// Every version kept of every file, oldest first per file.
    FileVersions,
    /// Every diff and what became of it.
    Diffs,
    /// The ids of the client messages processed, in the order they were.
    Processed,
}

impl Section {
    /// Every section, in order.
    pub const ALL: [Section; 5] = [
        Section::Events,
        Section::Messages,
        Section::FileVersions,
        Section::Diffs,
        Section::Processed,
    ];

    /// The section's key in the export.
    pub fn name(self) -> &'static str {
        match self {
            Self::Events => "events",
            Self::Messages => "messages",
            Self::FileVersions => "file_versions",
            Self::Diffs => "diffs",
            Self::Processed => "processed",
        }
    }
}

fn big(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

impl Storage {
    /// Up to `limit` rows of `section` of `session` from `from` (a `seq` for events, which
    /// start after it; a row offset for the rest), as JSON; and where the next page starts,
    /// when there may be one.
    pub async fn export_page(
        &self,
        session: &SessionId,
        section: Section,
        from: u64,
        limit: usize,
    ) -> Result<(Vec<Value>, Option<u64>), StorageError> {
        let id = session.as_str();
        let limit_sql = big(limit as u64);
        let offset = big(from);
        let rows: Vec<(Value, u64)> = match section {
            Section::Events => {
                let rows: Vec<(i64, String)> = sqlx::query_as(
                    "SELECT seq, frame FROM axe_history WHERE session_id = $1 AND seq > $2 \
                     ORDER BY seq LIMIT $3",
                )
                .bind(id)
                .bind(offset)
                .bind(limit_sql)
                .fetch_all(self.pool())
                .await?;
                rows.into_iter()
                    .map(|(seq, frame)| {
                        serde_json::from_str(&frame)
                            .map(|v| (v, u64::try_from(seq).unwrap_or(0)))
                            .map_err(|e| StorageError::Corrupt(e.to_string()))
                    })
                    .collect::<Result<_, _>>()?
            }
            Section::Messages => {
                let rows: Vec<(String, String, String, String)> = sqlx::query_as(
                    "SELECT message_id, role, status, content FROM axe_messages \
                     WHERE session_id = $1 ORDER BY position, role DESC LIMIT $2 OFFSET $3",
                )
                .bind(id)
                .bind(limit_sql)
                .bind(offset)
                .fetch_all(self.pool())
                .await?;
                rows.into_iter()
                    .map(|(message_id, role, status, content)| {
                        json!({"message_id": message_id, "role": role, "status": status, "content": content})
                    })
                    .zip(from + 1..)
                    .collect()
            }
            Section::FileVersions => {
                let rows: Vec<(String, i64, String, String)> = sqlx::query_as(
                    "SELECT file_id, version, content, cause FROM axe_file_versions \
                     WHERE session_id = $1 ORDER BY file_id, version LIMIT $2 OFFSET $3",
                )
                .bind(id)
                .bind(limit_sql)
                .bind(offset)
                .fetch_all(self.pool())
                .await?;
                rows.into_iter()
                    .map(|(file_id, version, content, cause)| {
                        json!({"file_id": file_id, "version": version, "content": content, "cause": cause})
                    })
                    .zip(from + 1..)
                    .collect()
            }
            Section::Diffs => {
                let rows: Vec<(String, String)> = sqlx::query_as(
                    "SELECT diff_id, status FROM axe_diffs WHERE session_id = $1 \
                     ORDER BY created_at, diff_id LIMIT $2 OFFSET $3",
                )
                .bind(id)
                .bind(limit_sql)
                .bind(offset)
                .fetch_all(self.pool())
                .await?;
                rows.into_iter()
                    .map(|(diff_id, status)| json!({"diff_id": diff_id, "status": status}))
                    .zip(from + 1..)
                    .collect()
            }
            Section::Processed => {
                let rows: Vec<(String,)> = sqlx::query_as(
                    "SELECT client_id FROM axe_client_messages WHERE session_id = $1 \
                     ORDER BY received_at, client_id LIMIT $2 OFFSET $3",
                )
                .bind(id)
                .bind(limit_sql)
                .bind(offset)
                .fetch_all(self.pool())
                .await?;
                rows.into_iter()
                    .map(|(client_id,)| Value::String(client_id))
                    .zip(from + 1..)
                    .collect()
            }
        };
        let next = (rows.len() == limit).then(|| rows.last().map_or(from, |(_, at)| *at));
        Ok((rows.into_iter().map(|(value, _)| value).collect(), next))
    }
}
