//! The replies in progress, at most one per session: bookkeeping only — which reply runs, how
//! to stop it, and its text so far for a client that joins mid-reply.

use protocol::{ServerMessage, SessionId};
use std::{
    collections::HashMap,
    sync::{Arc, Mutex, PoisonError},
};
use tokio::sync::oneshot;

/// The text of a reply so far, shared by its task (which appends) and the bookkeeping (which
/// reads it for a catch-up).
pub type SharedText = Arc<Mutex<String>>;

/// A reply in progress.
#[derive(Debug)]
struct Entry {
    message_id: String,
    /// Taken and fired by `stop`.
    stop: Option<oneshot::Sender<()>>,
    /// The text so far.
    text: SharedText,
    /// Its place in the line for a model slot, while it waits for one.
    queued: Option<u32>,
}

/// The replies in progress, by session. Cheap to clone.
#[derive(Debug, Clone, Default)]
pub struct Running {
    // A std mutex: every critical section is a map operation, never held across an `.await`.
    entries: Arc<Mutex<HashMap<SessionId, Entry>>>,
}

/// What a reply task holds while it runs: the signal of its Stop and its text.
#[derive(Debug)]
pub struct Handle {
    /// Resolves when the person presses Stop.
    pub stopped: oneshot::Receiver<()>,
    /// The text so far.
    pub text: SharedText,
}

impl Running {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<SessionId, Entry>> {
        self.entries.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Whether `session` has a reply in progress.
    pub fn is_running(&self, session: &SessionId) -> bool {
        self.lock().contains_key(session)
    }

    /// Records that `message_id` now runs for `session`; `None` if the session already has a
    /// reply in progress.
    pub fn begin(&self, session: &SessionId, message_id: &str) -> Option<Handle> {
        let mut entries = self.lock();
        if entries.contains_key(session) {
            return None;
        }
        let (stop, stopped) = oneshot::channel();
        let text = SharedText::default();
        entries.insert(
            session.clone(),
            Entry {
                message_id: message_id.to_owned(),
                stop: Some(stop),
                text: text.clone(),
                queued: None,
            },
        );
        Some(Handle { stopped, text })
    }

    /// Records the place in line of `session`'s reply (`None` once it has a slot).
    pub fn set_queued(&self, session: &SessionId, place: Option<u32>) {
        if let Some(entry) = self.lock().get_mut(session) {
            entry.queued = place;
        }
    }

    /// Queues for `outbound` the reply in progress for `session`, if any: its place in line
    /// while it waits for a model slot, else one `chat_delta` at offset 0 holding all the text
    /// so far. For a connection that just joined, after its replay: later deltas then continue
    /// exactly where this one ends.
    pub fn catch_up(&self, session: &SessionId, outbound: &crate::outbound::Sender) {
        let entries = self.lock();
        let Some(entry) = entries.get(session) else {
            return;
        };
        if let Some(position) = entry.queued {
            let waiting = ServerMessage::ChatQueued {
                message_id: entry.message_id.clone(),
                position,
            };
            let _ = outbound.try_send(waiting.to_json());
            return;
        }
        // Read and queued under the text lock: a piece added after this read is queued after
        // this frame too, so the client's copy never skips one.
        let text = entry.text.lock().unwrap_or_else(PoisonError::into_inner);
        let frame = ServerMessage::ChatDelta {
            message_id: entry.message_id.clone(),
            delta: text.clone(),
            offset: 0,
        };
        // A full queue here means a client that reads nothing; the final reply still reaches
        // it through the history.
        let _ = outbound.try_send(frame.to_json());
    }

    /// Stops the reply in progress for `session` (only if it is `message_id`, when given);
    /// `false` if there was none.
    pub fn stop(&self, session: &SessionId, message_id: Option<&str>) -> bool {
        let mut entries = self.lock();
        let Some(entry) = entries.get_mut(session) else {
            return false;
        };
        if message_id.is_some_and(|id| id != entry.message_id) {
            return false;
        }
        match entry.stop.take() {
            // The task may be finishing at this very moment; then the reply ends on its own.
            Some(stop) => stop.send(()).is_ok(),
            None => false,
        }
    }

    /// Forgets the reply `message_id` of `session`: it has ended.
    pub fn finish(&self, session: &SessionId, message_id: &str) {
        let mut entries = self.lock();
        if entries
            .get(session)
            .is_some_and(|entry| entry.message_id == message_id)
        {
            entries.remove(session);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn session() -> SessionId {
        SessionId::parse("s").unwrap()
    }

    #[tokio::test]
    async fn one_reply_per_session_stopped_by_id_and_caught_up_with_its_text() {
        let running = Running::default();
        let handle = running.begin(&session(), "m-1").expect("free");
        assert!(running.begin(&session(), "m-2").is_none(), "busy");
        handle.text.lock().unwrap().push_str("so far");
        let (tx, mut rx) = crate::outbound::channel(1);
        running.catch_up(&session(), &tx);
        let frame = rx.recv().await.unwrap();
        assert!(frame.contains(r#""delta":"so far""#), "{frame}");
        assert!(!running.stop(&session(), Some("m-9")), "another reply");
        assert!(running.stop(&session(), Some("m-1")));
        assert!(handle.stopped.await.is_ok());
        running.finish(&session(), "m-2");
        assert!(
            running.is_running(&session()),
            "only its own id finishes it"
        );
        running.finish(&session(), "m-1");
        assert!(!running.is_running(&session()));
    }
}
