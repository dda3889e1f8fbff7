//! Telemetry rows: widgets' events, already anonymized by the caller; pruned by age; counted
//! per event name and time bucket for the dashboard.

use super::{now_ms, Storage, StorageError};

/// One event as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct TelemetryRow {
    /// When the widget saw it, Unix milliseconds.
    pub ts: i64,
    /// Its name.
    pub name: String,
    /// A salted hash of the reporting subject.
    pub subject: String,
    /// A salted hash of its session, if it had one.
    pub session: Option<String>,
    /// Its anonymized properties, as a JSON object.
    pub props: String,
}

impl Storage {
    /// Stores `rows` in one transaction.
    pub async fn store_telemetry(&self, rows: &[TelemetryRow]) -> Result<(), StorageError> {
        let now = now_ms();
        let mut tx = self.pool().begin().await?;
        for row in rows {
            sqlx::query(
                "INSERT INTO axe_telemetry (received_at, ts, name, subject, session, props) \
                 VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(now)
            .bind(row.ts)
            .bind(row.name.as_str())
            .bind(row.subject.as_str())
            .bind(row.session.as_deref())
            .bind(row.props.as_str())
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Deletes events received before `before` (Unix milliseconds); how many went.
    pub async fn prune_telemetry(&self, before: i64) -> Result<u64, StorageError> {
        let done = sqlx::query("DELETE FROM axe_telemetry WHERE received_at < $1")
            .bind(before)
            .execute(self.pool())
            .await?;
        Ok(done.rows_affected())
    }

    /// Events received since `since`, counted per name and per bucket of `bucket_ms`:
    /// `(bucket start, name, count)`.
    pub async fn telemetry_counts(
        &self,
        since: i64,
        bucket_ms: i64,
    ) -> Result<Vec<(i64, String, i64)>, StorageError> {
        let rows = sqlx::query_as(
            "SELECT (received_at / $2) * $2 AS bucket, name, COUNT(*) FROM axe_telemetry \
             WHERE received_at >= $1 GROUP BY bucket, name ORDER BY bucket",
        )
        .bind(since)
        .bind(bucket_ms)
        .fetch_all(self.pool())
        .await?;
        Ok(rows)
    }
}
