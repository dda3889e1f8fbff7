//! The server's measurements per minute (`axe_metric_minutes`), written when a minute ends and
//! summed by the database over the dashboard's time buckets.

use super::{Storage, StorageError};

impl Storage {
    /// Stores one minute's `(series, value)` rows for `node` (again: replaced).
    pub async fn store_minute(
        &self,
        minute: i64,
        node: &str,
        rows: &[(String, i64)],
    ) -> Result<(), StorageError> {
        let mut tx = self.pool().begin().await?;
        for (series, value) in rows {
            sqlx::query(
                "INSERT INTO axe_metric_minutes (minute, node, series, value) \
                 VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (minute, node, series) DO UPDATE SET value = excluded.value",
            )
            .bind(minute)
            .bind(node)
            .bind(series.as_str())
            .bind(*value)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Every series since `since`, per bucket of `bucket_ms` (all nodes together):
    /// `(bucket start, series, sum, max)`. Counts add up over a bucket; a gauge takes its max.
    pub async fn minute_sums(
        &self,
        since: i64,
        bucket_ms: i64,
    ) -> Result<Vec<(i64, String, i64, i64)>, StorageError> {
        let rows = sqlx::query_as(
            "SELECT (minute / $2) * $2 AS bucket, series, CAST(SUM(value) AS BIGINT), MAX(value) \
             FROM axe_metric_minutes WHERE minute >= $1 GROUP BY bucket, series ORDER BY bucket",
        )
        .bind(since)
        .bind(bucket_ms)
        .fetch_all(self.pool())
        .await?;
        Ok(rows)
    }

    /// Deletes minutes before `before`.
    pub async fn prune_minutes(&self, before: i64) -> Result<u64, StorageError> {
        let done = sqlx::query("DELETE FROM axe_metric_minutes WHERE minute < $1")
            .bind(before)
            .execute(self.pool())
            .await?;
        Ok(done.rows_affected())
    }
}
