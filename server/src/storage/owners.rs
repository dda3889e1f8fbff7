//! Who owns a session: the subject that created it, or that first connected to it. Sessions
//! stored before owners existed are claimed by their first authenticated connect.

use super::{now_ms, Storage, StorageError};
use protocol::SessionId;

/// What claiming a session for a subject came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Claim {
    /// The subject owns it (already, or from now on).
    Owned,
    /// Another subject owns it.
    OwnedByOther,
    /// It is new, and the subject already owns as many sessions as allowed.
    LimitReached,
}

impl Storage {
    /// Claims `session` for `subject`: a new session is created owned by it (unless it owns
    /// `max_per_subject` already), an unowned one becomes its, an owned one is checked.
    pub async fn claim_session(
        &self,
        session: &SessionId,
        subject: &str,
        max_per_subject: usize,
    ) -> Result<Claim, StorageError> {
        let id = session.as_str();
        let owner = match self.owner_row(id).await? {
            Some(owner) => owner,
            None => {
                let (owned,): (i64,) =
                    sqlx::query_as("SELECT COUNT(*) FROM axe_sessions WHERE owner = $1")
                        .bind(subject)
                        .fetch_one(self.pool())
                        .await?;
                if usize::try_from(owned).unwrap_or(usize::MAX) >= max_per_subject {
                    return Ok(Claim::LimitReached);
                }
                sqlx::query(
                    "INSERT INTO axe_sessions (session_id, owner, created_at) VALUES ($1, $2, $3) \
                     ON CONFLICT (session_id) DO NOTHING",
                )
                .bind(id)
                .bind(subject)
                .bind(now_ms())
                .execute(self.pool())
                .await?;
                // Whoever won a race to create it owns it.
                self.owner_row(id).await?.flatten()
            }
        };
        let owner = match owner {
            Some(owner) => owner,
            None => {
                // Stored before owners existed: the first to claim it gets it.
                sqlx::query(
                    "UPDATE axe_sessions SET owner = $1 WHERE session_id = $2 AND owner IS NULL",
                )
                .bind(subject)
                .bind(id)
                .execute(self.pool())
                .await?;
                self.owner_row(id).await?.flatten().unwrap_or_default()
            }
        };
        Ok(if owner == subject {
            Claim::Owned
        } else {
            Claim::OwnedByOther
        })
    }

    /// The owner of `session`: `None` if there is no such session, `Some(None)` if it has no
    /// owner yet.
    pub async fn session_owner(
        &self,
        session: &SessionId,
    ) -> Result<Option<Option<String>>, StorageError> {
        self.owner_row(session.as_str()).await
    }

    async fn owner_row(&self, id: &str) -> Result<Option<Option<String>>, StorageError> {
        let row: Option<(Option<String>,)> =
            sqlx::query_as("SELECT owner FROM axe_sessions WHERE session_id = $1")
                .bind(id)
                .fetch_optional(self.pool())
                .await?;
        Ok(row.map(|(owner,)| owner))
    }

    /// The secret named `name`, stored as `candidate` if the database has none yet (so every
    /// node of a cluster ends up with the first one written).
    pub async fn server_secret(&self, name: &str, candidate: &str) -> Result<String, StorageError> {
        sqlx::query(
            "INSERT INTO axe_server_secrets (name, value) VALUES ($1, $2) \
             ON CONFLICT (name) DO NOTHING",
        )
        .bind(name)
        .bind(candidate)
        .execute(self.pool())
        .await?;
        let (value,): (String,) =
            sqlx::query_as("SELECT value FROM axe_server_secrets WHERE name = $1")
                .bind(name)
                .fetch_one(self.pool())
                .await?;
        Ok(value)
    }
}
