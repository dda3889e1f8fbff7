//! Fencing tokens (cluster mode): a node that takes a session over moves the session's fence
//! on by one, and its commits carry the value it got (see [`super::Batch::fence`]). The
//! database is what makes a stale owner's write fail; the Redis lease only decides who tries.

use super::{now_ms, Storage, StorageError};
use protocol::SessionId;

impl Storage {
    /// Moves `session`'s fence on (creating the session's row if it has none) and returns the
    /// new value: from now on only commits carrying it are stored.
    pub async fn claim_fence(&self, session: &SessionId) -> Result<i64, StorageError> {
        let mut tx = self.pool().begin().await?;
        sqlx::query(
            "INSERT INTO axe_sessions (session_id, created_at) VALUES ($1, $2) \
             ON CONFLICT (session_id) DO NOTHING",
        )
        .bind(session.as_str())
        .bind(now_ms())
        .execute(&mut *tx)
        .await?;
        let (fence,): (i64,) = sqlx::query_as(
            "UPDATE axe_sessions SET fence = fence + 1 WHERE session_id = $1 RETURNING fence",
        )
        .bind(session.as_str())
        .fetch_one(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(fence)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::Batch;

    #[tokio::test]
    async fn a_commit_with_a_fence_that_moved_on_is_refused_and_stores_nothing() {
        let dir = std::env::temp_dir().join(format!("axe-fence-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let storage = Storage::open(&format!("sqlite:{}/axe.db", dir.display()))
            .await
            .unwrap();
        let session = SessionId::parse("fenced").unwrap();
        let first = storage.claim_fence(&session).await.unwrap();
        let second = storage.claim_fence(&session).await.unwrap();
        assert_eq!(second, first + 1);
        let batch = |fence, seq: u64| Batch {
            client: None,
            changes: Vec::new(),
            events: vec![(seq, "user_message", format!("{{\"seq\":{seq}}}"))],
            last_seq: seq,
            next_message: 0,
            next_diff: 0,
            next_conflict: 0,
            fence: Some(fence),
        };
        assert!(matches!(
            storage.commit(&session, &batch(first, 1)).await,
            Err(StorageError::NotOwner)
        ));
        storage.commit(&session, &batch(second, 1)).await.unwrap();
        assert_eq!(storage.count_events_after(&session, 0).await.unwrap(), 1);
        storage.close().await;
        let _ = std::fs::remove_dir_all(&dir);
    }
}
