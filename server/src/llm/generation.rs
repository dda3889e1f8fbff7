//! Replies being generated, at most one per session: started by `chat`, streamed as
//! `chat_delta` to whichever connection the session has (so a reconnect keeps receiving, after
//! a catch-up piece with the text so far), ended by the model or by `stop`, then stored with
//! its diffs and sent whole as `chat_response`.

use super::{LlmError, LlmEvent, LlmRequest, Role, Turn};
use crate::{codeblocks, handler, state::AppState, storage::Change};
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
    /// The text so far, for a client that reconnects mid-reply.
    text: Arc<Mutex<String>>,
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
        let text = Arc::new(Mutex::new(String::new()));
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
                    text: text.clone(),
                },
            );
        }
        tokio::spawn(run(state, job, stopped, text));
        true
    }

    /// Sends the reply in progress for `session`, if any, to `outbound` as one `chat_delta` at
    /// offset 0 holding all the text so far. Called for a connection that just joined, after
    /// its replay: later deltas then continue exactly where this one ends.
    pub fn catch_up(&self, session: &SessionId, outbound: &tokio::sync::mpsc::Sender<String>) {
        let running = self.lock();
        let Some(entry) = running.get(session) else {
            return;
        };
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
async fn run(
    state: AppState,
    mut job: Job,
    mut stopped: oneshot::Receiver<()>,
    text: Arc<Mutex<String>>,
) {
    let model = state.provider.model().to_owned();
    // The prompt goes to the provider; the rest of the job is needed to store the reply.
    let mut stream = state.provider.stream(std::mem::take(&mut job.request));
    let ending = loop {
        tokio::select! {
            _ = &mut stopped => break Ending { finish_reason: "stopped".into(), usage: None, error: None },
            event = stream.next() => match event {
                Some(Ok(LlmEvent::Delta(delta))) => {
                    let offset = {
                        let mut text = text.lock().unwrap_or_else(PoisonError::into_inner);
                        let offset = text.len() as u64;
                        text.push_str(&delta);
                        offset
                    };
                    // No connection right now (a reconnect under way): the text still reaches
                    // the session's history and the final `chat_response`.
                    let _ = state.registry.send_message_waiting(&job.session, ServerMessage::ChatDelta {
                        message_id: job.message_id.clone(),
                        delta,
                        offset,
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
    let text = std::mem::take(&mut *text.lock().unwrap_or_else(PoisonError::into_inner));
    if let Some(error) = &ending.error {
        tracing::warn!(%error, "the model failed");
        let _ = state
            .registry
            .send_message_waiting(
                &job.session,
                ServerMessage::error(ErrorCode::ModelError, error.to_string()),
                DELIVERY_PATIENCE,
            )
            .await;
    } else {
        tracing::debug!(reason = %ending.finish_reason, chars = text.len(), "reply ended");
    }

    // Held while storing and queueing, so the history's frames leave in `seq` order.
    let mut guard = state.sessions.lock(&job.session).await;
    let (changes, events) = match state.sessions.state(&mut guard, &job.session).await {
        Ok(session) => conclude(session, &job, text, model, ending),
        Err(error) => {
            tracing::error!(%error, "cannot load the session to store a reply");
            (Vec::new(), Vec::new())
        }
    };
    let frames = state
        .sessions
        .commit(&mut guard, &job.session, None, changes, events)
        .await;
    state.generations.finish(&job.session, &job.message_id);
    match frames {
        Ok(frames) => {
            for frame in frames {
                // Not connected, or too slow: the client gets these from the history later.
                let _ = state
                    .registry
                    .send_frame_waiting(&job.session, frame, DELIVERY_PATIENCE)
                    .await;
            }
        }
        Err(error) => {
            tracing::error!(%error, "cannot store a reply");
            let _ = state.registry.send_message(
                &job.session,
                ServerMessage::error(ErrorCode::Internal, "the reply could not be stored"),
            );
        }
    }
}

/// Folds a finished reply into the session: the conversation, its diffs, and what to store.
fn conclude(
    session: &mut crate::session::SessionState,
    job: &Job,
    text: String,
    model: String,
    ending: Ending,
) -> (Vec<Change>, Vec<ServerMessage>) {
    session.push_turn(Turn {
        role: Role::Assistant,
        content: text.clone(),
    });
    // Only a complete reply's code is placed: a stopped or failed one may be cut mid-block.
    let proposals: Vec<_> = if ending.finish_reason == "stop" {
        codeblocks::changes(&text, &session.files, job.active_file.as_deref())
            .into_iter()
            .filter_map(|(file_id, content)| handler::propose(session, file_id, content))
            .collect()
    } else {
        Vec::new()
    };
    let status = match ending.finish_reason.as_str() {
        "stopped" => "stopped",
        "error" => "failed",
        _ => "complete",
    };
    let mut changes = vec![Change::FinishReply {
        message_id: job.message_id.clone(),
        content: text.clone(),
        status,
        model: model.clone(),
        finish_reason: ending.finish_reason.clone(),
    }];
    let mut events = vec![ServerMessage::ChatResponse {
        message: text,
        metadata: ChatMetadata {
            message_id: job.message_id.clone(),
            model,
            finish_reason: ending.finish_reason,
            diff_count: u32::try_from(proposals.len()).unwrap_or(u32::MAX),
            usage: ending.usage,
        },
    }];
    for proposal in proposals {
        changes.push(Change::ProposeDiff(Box::new(proposal.clone())));
        events.push(ServerMessage::Diff(Box::new(proposal)));
    }
    (changes, events)
}
