//! Replies being generated, at most one per session: started by `chat`, streamed as
//! `chat_delta` to whichever connection the session has (so a reconnect keeps receiving), ended
//! by the model or by `stop`, then folded into the session (history, diffs) and sent whole as
//! `chat_response`.

use super::{LlmError, LlmEvent, LlmRequest, Role, Turn};
use crate::{codeblocks, handler, state::AppState};
use futures_util::StreamExt;
use protocol::{ChatMetadata, ErrorCode, ServerMessage, SessionId};
use std::{
    collections::HashMap,
    sync::{Arc, Mutex, PoisonError},
};
use tokio::sync::oneshot;

/// How long a reply waits for room in a connection's queue before the client counts as slow.
const DELIVERY_PATIENCE: std::time::Duration = std::time::Duration::from_secs(10);

/// A reply to generate.
#[derive(Debug, Clone)]
pub struct Job {
    /// The session asking.
    pub session: SessionId,
    /// The reply's id, used by its deltas and by `stop`.
    pub message_id: String,
    /// What to send the model.
    pub request: LlmRequest,
    /// The file open when the person asked, which unnamed code blocks may change.
    pub active_file: Option<String>,
}

/// A reply in progress.
#[derive(Debug)]
struct Running {
    message_id: String,
    /// Taken and fired by `stop`.
    stop: Option<oneshot::Sender<()>>,
}

/// The replies in progress, by session. Cheap to clone.
#[derive(Debug, Clone, Default)]
pub struct Generations {
    // A std mutex: every critical section is a map operation, never held across an `.await`.
    running: Arc<Mutex<HashMap<SessionId, Running>>>,
}

impl Generations {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<SessionId, Running>> {
        self.running.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Whether `session` has a reply in progress.
    pub fn is_running(&self, session: &SessionId) -> bool {
        self.lock().contains_key(session)
    }

    /// Starts generating `job` in its own task; `false` if the session already has a reply in
    /// progress.
    pub fn start(&self, state: AppState, job: Job) -> bool {
        let (stop, stopped) = oneshot::channel();
        {
            let mut running = self.lock();
            if running.contains_key(&job.session) {
                return false;
            }
            running.insert(
                job.session.clone(),
                Running {
                    message_id: job.message_id.clone(),
                    stop: Some(stop),
                },
            );
        }
        tokio::spawn(run(state, job, stopped));
        true
    }

    /// Stops the reply in progress for `session` (only if it is `message_id`, when given);
    /// `false` if there was none.
    pub fn stop(&self, session: &SessionId, message_id: Option<&str>) -> bool {
        let mut running = self.lock();
        let Some(entry) = running.get_mut(session) else {
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

    fn finish(&self, session: &SessionId, message_id: &str) {
        let mut running = self.lock();
        if running
            .get(session)
            .is_some_and(|r| r.message_id == message_id)
        {
            running.remove(session);
        }
    }
}

/// How a reply ended.
struct Ending {
    finish_reason: String,
    usage: Option<protocol::Usage>,
    error: Option<LlmError>,
}

/// Streams one reply to the session, then records and sends the result.
#[tracing::instrument(name = "generation", skip_all, fields(session = %job.session, message = %job.message_id))]
async fn run(state: AppState, job: Job, mut stopped: oneshot::Receiver<()>) {
    let model = state.provider.model().to_owned();
    let mut stream = state.provider.stream(job.request);
    let mut text = String::new();
    let ending = loop {
        tokio::select! {
            _ = &mut stopped => break Ending { finish_reason: "stopped".into(), usage: None, error: None },
            event = stream.next() => match event {
                Some(Ok(LlmEvent::Delta(delta))) => {
                    text.push_str(&delta);
                    // No connection right now (a reconnect under way): the text still reaches
                    // the session's history and the final `chat_response`.
                    let _ = state.registry.send_message_waiting(&job.session, ServerMessage::ChatDelta {
                        message_id: job.message_id.clone(),
                        delta,
                    }, DELIVERY_PATIENCE).await;
                }
                Some(Ok(LlmEvent::Finished { finish_reason, usage })) => {
                    break Ending { finish_reason, usage, error: None }
                }
                Some(Err(error)) => break Ending { finish_reason: "error".into(), usage: None, error: Some(error) },
                None => break Ending {
                    finish_reason: "error".into(),
                    usage: None,
                    error: Some(LlmError::BadStream("the reply ended without finishing".into())),
                },
            }
        }
    };
    // Dropping the stream closes the request to the model now, so it stops generating.
    drop(stream);
    if let Some(error) = &ending.error {
        tracing::warn!(%error, "the model failed");
    } else {
        tracing::debug!(reason = %ending.finish_reason, chars = text.len(), "reply ended");
    }

    let proposals = {
        let shared = state.sessions.get_or_create(&job.session);
        let mut session = shared.lock().unwrap_or_else(PoisonError::into_inner);
        session.push_turn(Turn {
            role: Role::Assistant,
            content: text.clone(),
        });
        // Only a complete reply's code is placed: a stopped or failed one may be cut mid-block.
        if ending.finish_reason == "stop" {
            codeblocks::changes(&text, &session.files, job.active_file.as_deref())
                .into_iter()
                .filter_map(|(file_id, content)| handler::propose(&mut session, file_id, content))
                .collect()
        } else {
            Vec::new()
        }
    };
    state.generations.finish(&job.session, &job.message_id);

    let deliver = |message| {
        state
            .registry
            .send_message_waiting(&job.session, message, DELIVERY_PATIENCE)
    };
    if let Some(error) = ending.error {
        let _ = deliver(ServerMessage::error(
            ErrorCode::ModelError,
            error.to_string(),
        ))
        .await;
    }
    let _ = deliver(ServerMessage::ChatResponse {
        message: text,
        metadata: ChatMetadata {
            message_id: job.message_id,
            model,
            finish_reason: ending.finish_reason,
            diff_count: u32::try_from(proposals.len()).unwrap_or(u32::MAX),
            usage: ending.usage,
        },
    })
    .await;
    for proposal in proposals {
        let _ = deliver(ServerMessage::Diff(Box::new(proposal))).await;
    }
}
