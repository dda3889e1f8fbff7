//! Writing: every processed message becomes one [`Batch`], stored in one transaction, so a crash
//! leaves either all of it or none of it — and an acknowledged message is always all of it.

use super::{now_ms, Storage, StorageError};
use protocol::{Conflict, DiffOutcome, DiffProposal, FinishReason, MessageStatus, SessionId};
use sqlx::{Any, Transaction};

/// One change to a session's stored state.
#[derive(Debug, Clone)]
pub enum Change {
    /// A file's new content (a new file is created at version 1).
    SaveFile {
        /// The file's client-chosen id.
        file_id: String,
        /// Display name.
        name: String,
        /// Language.
        language: String,
        /// Whole content.
        content: String,
        /// The version this content is.
        version: i64,
        /// What made it: the client message id of an edit, or the id of an applied diff.
        cause: String,
    },
    /// A chat message the person sent; `message_id` is its frame id.
    UserMessage {
        /// The client's frame id.
        message_id: String,
        /// What the person typed.
        content: String,
        /// Its place in the conversation.
        position: u64,
    },
    /// A reply begins streaming.
    StartReply {
        /// The reply's id.
        message_id: String,
        /// Its place in the conversation: that of the message it answers.
        position: u64,
    },
    /// A reply ended: complete, stopped or failed.
    FinishReply {
        /// The reply's id.
        message_id: String,
        /// Its whole text.
        content: String,
        /// Where it ended.
        status: MessageStatus,
        /// What answered.
        model: String,
        /// Why it ended, as in `chat_response`.
        finish_reason: FinishReason,
    },
    /// A diff was proposed and awaits a decision.
    ProposeDiff(Box<DiffProposal>),
    /// An edit could not be merged: both sides are kept as a conflict.
    OpenConflict(Box<Conflict>),
    /// A conflict was resolved.
    ResolveConflict {
        /// The conflict.
        conflict_id: String,
    },
    /// A diff was applied or rejected.
    ResolveDiff {
        /// The diff.
        diff_id: String,
        /// What became of it.
        outcome: DiffOutcome,
        /// The hunks taken, when only some were.
        accepted_hunks: Option<Vec<u32>>,
    },
}

/// Everything one processed message stores.
#[derive(Debug, Clone)]
pub struct Batch {
    /// The client message processed (frame id, type), recorded so a resend is not processed
    /// again; `None` for the server's own changes (a reply ending).
    pub client: Option<(String, &'static str)>,
    /// The state changes.
    pub changes: Vec<Change>,
    /// The history events: `seq`, type, and the frame as sent.
    pub events: Vec<(u64, &'static str, String)>,
    /// The session's newest `seq` after this batch.
    pub last_seq: u64,
    /// The session's reply id counter after this batch.
    pub next_message: u64,
    /// The session's diff id counter after this batch.
    pub next_diff: u64,
    /// The session's conflict id counter after this batch.
    pub next_conflict: u64,
    /// In a cluster, the fencing token of this node's lease on the session: the commit is
    /// refused ([`StorageError::NotOwner`]) unless the session's stored fence still equals it.
    pub fence: Option<i64>,
}

/// Converts a counter for a BIGINT column (ours never come near `i64::MAX`).
fn big(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

impl Storage {
    /// Stores `batch` for `session` in one transaction.
    pub async fn commit(&self, session: &SessionId, batch: &Batch) -> Result<(), StorageError> {
        let mut tx = self.pool().begin().await?;
        let now = now_ms();
        let session = session.as_str();
        sqlx::query(
            "INSERT INTO axe_sessions (session_id, created_at) VALUES ($1, $2) \
             ON CONFLICT (session_id) DO NOTHING",
        )
        .bind(session)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        // The row lock this update takes also orders the commit against a take-over's
        // `claim_fence` on another node: whichever comes second sees the other's effect.
        let update = sqlx::query(if batch.fence.is_some() {
            "UPDATE axe_sessions SET last_seq = $1, next_message = $2, next_diff = $3, \
             next_conflict = $4 WHERE session_id = $5 AND fence = $6"
        } else {
            "UPDATE axe_sessions SET last_seq = $1, next_message = $2, next_diff = $3, \
             next_conflict = $4 WHERE session_id = $5"
        })
        .bind(big(batch.last_seq))
        .bind(big(batch.next_message))
        .bind(big(batch.next_diff))
        .bind(big(batch.next_conflict))
        .bind(session);
        let update = match batch.fence {
            Some(fence) => update.bind(fence),
            None => update,
        };
        if update.execute(&mut *tx).await?.rows_affected() == 0 {
            // Rolled back when `tx` drops.
            return Err(StorageError::NotOwner);
        }
        if let Some((client_id, kind)) = &batch.client {
            sqlx::query(
                "INSERT INTO axe_client_messages (session_id, client_id, kind, received_at) \
                 VALUES ($1, $2, $3, $4)",
            )
            .bind(session)
            .bind(client_id.as_str())
            .bind(*kind)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        }
        for change in &batch.changes {
            apply(&mut tx, session, change, now, self.versions_kept()).await?;
        }
        for (seq, kind, frame) in &batch.events {
            sqlx::query(
                "INSERT INTO axe_history (session_id, seq, kind, frame, created_at) \
                 VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(session)
            .bind(big(*seq))
            .bind(*kind)
            .bind(frame.as_str())
            .bind(now)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Keeps the text of a reply still streaming, so a crash loses only what came after.
    pub async fn flush_reply(
        &self,
        session: &SessionId,
        message_id: &str,
        content: &str,
    ) -> Result<(), StorageError> {
        sqlx::query(
            "UPDATE axe_messages SET content = $1, updated_at = $2 \
             WHERE session_id = $3 AND role = 'assistant' AND message_id = $4 AND status = $5",
        )
        .bind(content)
        .bind(now_ms())
        .bind(session.as_str())
        .bind(message_id)
        .bind(MessageStatus::Streaming.as_str())
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// Whether the client message `client_id` of `session` was already processed.
    pub async fn is_processed(
        &self,
        session: &SessionId,
        client_id: &str,
    ) -> Result<bool, StorageError> {
        let found: Option<(String,)> = sqlx::query_as(
            "SELECT kind FROM axe_client_messages WHERE session_id = $1 AND client_id = $2",
        )
        .bind(session.as_str())
        .bind(client_id)
        .fetch_optional(self.pool())
        .await?;
        Ok(found.is_some())
    }
}

async fn apply(
    tx: &mut Transaction<'static, Any>,
    session: &str,
    change: &Change,
    now: i64,
    versions_kept: usize,
) -> Result<(), StorageError> {
    match change {
        Change::SaveFile {
            file_id,
            name,
            language,
            content,
            version,
            cause,
        } => {
            sqlx::query(
                "INSERT INTO axe_files \
                 (session_id, file_id, name, language, content, version, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7) \
                 ON CONFLICT (session_id, file_id) DO UPDATE SET name = excluded.name, \
                 language = excluded.language, content = excluded.content, \
                 version = excluded.version, updated_at = excluded.updated_at",
            )
            .bind(session)
            .bind(file_id.as_str())
            .bind(name.as_str())
            .bind(language.as_str())
            .bind(content.as_str())
            .bind(*version)
            .bind(now)
            .execute(&mut **tx)
            .await?;
            sqlx::query(
                "INSERT INTO axe_file_versions \
                 (session_id, file_id, version, content, cause, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(session)
            .bind(file_id.as_str())
            .bind(*version)
            .bind(content.as_str())
            .bind(cause.as_str())
            .bind(now)
            .execute(&mut **tx)
            .await?;
            // Retention: the newest versions, any an open conflict started from (a merge may
            // need it), and each version a diff made (what applying it produced); the file's
            // current content is in `axe_files` regardless.
            let oldest_kept =
                version.saturating_sub(i64::try_from(versions_kept).unwrap_or(i64::MAX));
            sqlx::query(
                "DELETE FROM axe_file_versions WHERE session_id = $1 AND file_id = $2 \
                 AND version <= $3 \
                 AND version NOT IN (SELECT base_version FROM axe_conflicts \
                     WHERE session_id = $1 AND file_id = $2 AND status = 'open') \
                 AND cause NOT IN (SELECT diff_id FROM axe_diffs \
                     WHERE session_id = $1 AND file_id = $2)",
            )
            .bind(session)
            .bind(file_id.as_str())
            .bind(oldest_kept)
            .execute(&mut **tx)
            .await?;
        }
        Change::UserMessage {
            message_id,
            content,
            position,
        } => {
            let row = MessageRow {
                message_id,
                position: *position,
                role: "user",
                content,
                status: MessageStatus::Complete,
            };
            insert_message(tx, session, row, now).await?;
        }
        Change::StartReply {
            message_id,
            position,
        } => {
            let row = MessageRow {
                message_id,
                position: *position,
                role: "assistant",
                content: "",
                status: MessageStatus::Streaming,
            };
            insert_message(tx, session, row, now).await?;
        }
        Change::FinishReply {
            message_id,
            content,
            status,
            model,
            finish_reason,
        } => {
            sqlx::query(
                "UPDATE axe_messages SET content = $1, status = $2, model = $3, \
                 finish_reason = $4, updated_at = $5 \
                 WHERE session_id = $6 AND role = 'assistant' AND message_id = $7",
            )
            .bind(content.as_str())
            .bind(status.as_str())
            .bind(model.as_str())
            .bind(finish_reason.as_str())
            .bind(now)
            .bind(session)
            .bind(message_id.as_str())
            .execute(&mut **tx)
            .await?;
        }
        Change::ProposeDiff(proposal) => {
            let json = serde_json::to_string(proposal.as_ref())
                .map_err(|e| StorageError::Corrupt(e.to_string()))?;
            sqlx::query(
                "INSERT INTO axe_diffs \
                 (session_id, diff_id, file_id, proposal, status, created_at) \
                 VALUES ($1, $2, $3, $4, 'pending', $5)",
            )
            .bind(session)
            .bind(proposal.diff_id.as_str())
            .bind(proposal.file_id.as_str())
            .bind(json)
            .bind(now)
            .execute(&mut **tx)
            .await?;
        }
        Change::OpenConflict(conflict) => {
            let json = serde_json::to_string(conflict.as_ref())
                .map_err(|e| StorageError::Corrupt(e.to_string()))?;
            sqlx::query(
                "INSERT INTO axe_conflicts \
                 (session_id, conflict_id, file_id, base_version, conflict, status, created_at) \
                 VALUES ($1, $2, $3, $4, $5, 'open', $6)",
            )
            .bind(session)
            .bind(conflict.conflict_id.as_str())
            .bind(conflict.file_id.as_str())
            .bind(conflict.base_version)
            .bind(json)
            .bind(now)
            .execute(&mut **tx)
            .await?;
        }
        Change::ResolveConflict { conflict_id } => {
            sqlx::query(
                "UPDATE axe_conflicts SET status = 'resolved', resolved_at = $1 \
                 WHERE session_id = $2 AND conflict_id = $3",
            )
            .bind(now)
            .bind(session)
            .bind(conflict_id.as_str())
            .execute(&mut **tx)
            .await?;
        }
        Change::ResolveDiff {
            diff_id,
            outcome,
            accepted_hunks,
        } => {
            let hunks = accepted_hunks
                .as_ref()
                .map(|h| serde_json::to_string(h).unwrap_or_default());
            sqlx::query(
                "UPDATE axe_diffs SET status = $1, accepted_hunks = $2, resolved_at = $3 \
                 WHERE session_id = $4 AND diff_id = $5",
            )
            .bind(outcome.as_str())
            .bind(hunks)
            .bind(now)
            .bind(session)
            .bind(diff_id.as_str())
            .execute(&mut **tx)
            .await?;
        }
    }
    Ok(())
}

/// A new row of `axe_messages`.
struct MessageRow<'a> {
    message_id: &'a str,
    position: u64,
    role: &'static str,
    content: &'a str,
    status: MessageStatus,
}

async fn insert_message(
    tx: &mut Transaction<'static, Any>,
    session: &str,
    row: MessageRow<'_>,
    now: i64,
) -> Result<(), StorageError> {
    sqlx::query(
        "INSERT INTO axe_messages \
         (session_id, message_id, position, role, content, status, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(session)
    .bind(row.message_id)
    .bind(big(row.position))
    .bind(row.role)
    .bind(row.content)
    .bind(row.status.as_str())
    .bind(now)
    .bind(now)
    .execute(&mut **tx)
    .await?;
    Ok(())
}
