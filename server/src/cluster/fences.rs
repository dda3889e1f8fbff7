//! The fencing token of each session this node holds, read by every commit.

use protocol::SessionId;
use std::{
    collections::HashMap,
    sync::{Arc, Mutex, PoisonError},
};

/// Session → the fence this node claimed with its lease. Cheap to clone.
#[derive(Debug, Clone, Default)]
pub struct Fences(Arc<Mutex<HashMap<SessionId, i64>>>);

impl Fences {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<SessionId, i64>> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The fence held for `session`, if this node holds it.
    pub fn get(&self, session: &SessionId) -> Option<i64> {
        self.lock().get(session).copied()
    }

    /// Records `fence` for `session`.
    pub fn set(&self, session: &SessionId, fence: i64) {
        self.lock().insert(session.clone(), fence);
    }

    /// Forgets `session`'s fence.
    pub fn remove(&self, session: &SessionId) {
        self.lock().remove(session);
    }
}
