//! Recovery of replies a dead process left `streaming`: such a reply can never finish, so it is
//! stored as failed (keeping the text it had) and a `chat_response` with finish reason
//! `interrupted` joins the history, which tells every client to stop waiting for it. A single
//! node does it for every session at start-up; in a cluster, the node that takes a session over
//! does it for that session under its new fence (other sessions may be streaming elsewhere).

use super::{now_ms, Storage, StorageError};
use protocol::{
    encode_server_frame, ChatMetadata, FinishReason, MessageStatus, ServerMessage, SessionId,
};

impl Storage {
    /// Ends every reply left `streaming` (a single node, at start-up); returns how many there
    /// were.
    pub async fn recover_interrupted(&self, model: &str) -> Result<usize, StorageError> {
        let interrupted: Vec<(String, String, String)> = sqlx::query_as(
            "SELECT session_id, message_id, content FROM axe_messages \
             WHERE status = $1 AND role = 'assistant' ORDER BY session_id, position",
        )
        .bind(MessageStatus::Streaming.as_str())
        .fetch_all(self.pool())
        .await?;
        self.interrupt(&interrupted, model, None).await
    }

    /// Ends the replies of `session` left `streaming` by a node that lost it, committing under
    /// `fence` (this node's, just claimed); returns how many there were.
    pub async fn recover_interrupted_in(
        &self,
        session: &SessionId,
        fence: i64,
        model: &str,
    ) -> Result<usize, StorageError> {
        let interrupted: Vec<(String, String, String)> = sqlx::query_as(
            "SELECT session_id, message_id, content FROM axe_messages \
             WHERE session_id = $1 AND status = $2 AND role = 'assistant' ORDER BY position",
        )
        .bind(session.as_str())
        .bind(MessageStatus::Streaming.as_str())
        .fetch_all(self.pool())
        .await?;
        self.interrupt(&interrupted, model, Some(fence)).await
    }

    /// Stores each `(session, message_id, content)` reply as interrupted, one transaction each;
    /// with a `fence`, only while the session's fence is still it.
    async fn interrupt(
        &self,
        interrupted: &[(String, String, String)],
        model: &str,
        fence: Option<i64>,
    ) -> Result<usize, StorageError> {
        for (session, message_id, content) in interrupted {
            let mut tx = self.pool().begin().await?;
            let now = now_ms();
            let numbered: Option<(i64,)> = sqlx::query_as(
                "UPDATE axe_sessions SET last_seq = last_seq + 1 \
                 WHERE session_id = $1 AND ($2 < 0 OR fence = $2) RETURNING last_seq",
            )
            .bind(session.as_str())
            .bind(fence.unwrap_or(-1))
            .fetch_optional(&mut *tx)
            .await?;
            let Some((seq,)) = numbered else {
                return Err(StorageError::NotOwner);
            };
            let event = ServerMessage::ChatResponse {
                message: content.clone(),
                metadata: ChatMetadata {
                    message_id: message_id.clone(),
                    model: model.to_owned(),
                    finish_reason: FinishReason::Interrupted,
                    diff_count: 0,
                    usage: None,
                },
            };
            let frame = encode_server_frame(Some(u64::try_from(seq).unwrap_or(0)), &event);
            sqlx::query(
                "UPDATE axe_messages SET status = $1, finish_reason = $2, \
                 model = $3, updated_at = $4 \
                 WHERE session_id = $5 AND role = 'assistant' AND message_id = $6",
            )
            .bind(MessageStatus::Failed.as_str())
            .bind(FinishReason::Interrupted.as_str())
            .bind(model)
            .bind(now)
            .bind(session.as_str())
            .bind(message_id.as_str())
            .execute(&mut *tx)
            .await?;
            sqlx::query(
                "INSERT INTO axe_history (session_id, seq, kind, frame, created_at) \
                 VALUES ($1, $2, 'chat_response', $3, $4)",
            )
            .bind(session.as_str())
            .bind(seq)
            .bind(frame)
            .bind(now)
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
        }
        Ok(interrupted.len())
    }
}
