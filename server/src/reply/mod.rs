//! One model reply, from the chat that asks for it to the history that keeps it: streamed to
//! whichever connection the session has as `chat_delta` (so a reconnect keeps receiving, after
//! a catch-up piece with the text so far), ended by the model, by Stop or by shutdown, then
//! concluded in one session transaction — the reply stored, its code placed as diffs, and
//! `chat_response` and the diffs sent in `seq` order.
//!
//! # Layout
//! - this file: [`Job`], [`Replies`] (start, stop, catch up, drain) and the reply task.
//! - [`running`]: the bookkeeping of replies in progress.
//! - [`slots`]: at most `AXE_LLM_CONCURRENCY` replies at the model at once; the rest in line.

pub mod running;
pub mod slots;

use crate::{
    llm::{LlmError, LlmEvent, LlmRequest, Provider},
    session::{Delivery, Effects, SessionState, SessionStore, TransactError, Turn},
    shutdown::ShutdownListener,
    storage::{Change, StorageError},
};
use futures_util::StreamExt;
use protocol::{ChatMetadata, ErrorCode, FinishReason, ServerMessage, SessionId, Usage};
use running::{Handle, Running, SharedText};
use slots::{Slot, Slots};
use std::{convert::Infallible, sync::Arc, sync::PoisonError, time::Duration};
use tokio_util::task::TaskTracker;

/// How long a reply waits for room in a connection's queue before the client counts as slow.
const DELIVERY_PATIENCE: Duration = Duration::from_secs(10);
/// How long a reply's end (its `chat_response` and diffs, queued while the session is locked)
/// may wait for room in a connection's queue. Short, because the session waits with it; a
/// client that cannot take it counts as slow and gets it from the history when it returns.
const CONCLUDE_PATIENCE: Duration = Duration::from_secs(1);
/// How often a streaming reply's text is kept in the database: a crash loses at most this much.
const FLUSH_EVERY: Duration = Duration::from_secs(1);
/// The first wait before storing a reply again after the database failed; it doubles, up to
/// [`CONCLUDE_RETRY_MAX`].
const CONCLUDE_RETRY_FIRST: Duration = Duration::from_millis(500);
/// The longest wait between two attempts to store a reply.
const CONCLUDE_RETRY_MAX: Duration = Duration::from_secs(30);

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
    /// That file's content as the model was shown it (id, content): the reply's code is
    /// placed against it, then merged into the file as it is when the reply ends.
    pub base: Option<(String, String)>,
}

/// Starts, stops and drains replies. Cheap to clone.
#[derive(Clone)]
pub struct Replies {
    sessions: SessionStore,
    provider: Arc<dyn Provider>,
    running: Running,
    /// The model slots and the line for them.
    slots: Slots,
    /// Raised at shutdown: every reply ends as `interrupted` and is stored.
    shutdown: ShutdownListener,
    /// Every reply task, so shutdown can wait for them before the database closes.
    tasks: TaskTracker,
}

impl std::fmt::Debug for Replies {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Replies")
            .field("model", &self.provider.model())
            .field("tasks", &self.tasks.len())
            .finish()
    }
}

impl Replies {
    /// Replies from `provider`, at most `concurrency` at once, concluded in `sessions`, ended
    /// when `shutdown` is raised.
    pub fn new(
        sessions: SessionStore,
        provider: Arc<dyn Provider>,
        concurrency: usize,
        shutdown: ShutdownListener,
    ) -> Self {
        Self {
            sessions,
            provider,
            running: Running::default(),
            slots: Slots::new(concurrency),
            shutdown,
            tasks: TaskTracker::new(),
        }
    }

    /// The model's name, shown to the person.
    pub fn model(&self) -> &str {
        self.provider.model()
    }

    /// Whether `session` has a reply in progress.
    pub fn is_running(&self, session: &SessionId) -> bool {
        self.running.is_running(session)
    }

    /// Starts generating `job` in its own task; `false` if the session already has a reply in
    /// progress.
    pub fn start(&self, job: Job) -> bool {
        let Some(handle) = self.running.begin(&job.session, &job.message_id) else {
            return false;
        };
        self.tasks.spawn(self.clone().run(job, handle));
        true
    }

    /// Stops the reply in progress for `session` (only if it is `message_id`, when given);
    /// `false` if there was none.
    pub fn stop(&self, session: &SessionId, message_id: Option<&str>) -> bool {
        self.running.stop(session, message_id)
    }

    /// Queues for a connection that just joined the reply `session` has in progress, if any:
    /// see [`Running::catch_up`].
    pub fn catch_up(&self, session: &SessionId, outbound: &crate::outbound::Sender) {
        self.running.catch_up(session, outbound);
    }

    /// Waits, at most `grace`, for every reply to end after shutdown was raised; each stores
    /// itself as `interrupted`. Returns how many were still running when the wait ended.
    pub async fn drain(&self, grace: Duration) -> usize {
        self.tasks.close();
        if tokio::time::timeout(grace, self.tasks.wait())
            .await
            .is_err()
        {
            return self.tasks.len();
        }
        0
    }

    /// Waits for a model slot, streams one reply to the session, then concludes it.
    #[tracing::instrument(name = "reply", skip_all, fields(session = %job.session, message = %job.message_id))]
    async fn run(self, mut job: Job, handle: Handle) {
        let Handle { mut stopped, text } = handle;
        let mut shutdown = self.shutdown.clone();
        let slot = tokio::select! {
            slot = self.wait_for_slot(&job) => Ok(slot),
            _ = &mut stopped => Err(Ending::by(FinishReason::Stopped)),
            _ = shutdown.wait() => Err(Ending::by(FinishReason::Interrupted)),
        };
        let ending = match slot {
            Ok(slot) => {
                let ending = self
                    .stream(&mut job, &mut stopped, &mut shutdown, &text)
                    .await;
                // Free for the next in line as soon as the model is done with this one.
                drop(slot);
                ending
            }
            Err(ending) => ending,
        };
        let text = std::mem::take(&mut *text.lock().unwrap_or_else(PoisonError::into_inner));
        self.conclude(job, text, ending).await;
    }

    /// A model slot: at once if one is free, else after waiting in line, telling the session
    /// its place whenever it changes.
    async fn wait_for_slot(&self, job: &Job) -> Option<Slot> {
        if let Some(slot) = self.slots.try_take() {
            return Some(slot);
        }
        let mut ticket = self.slots.line_up();
        let take = self.slots.take();
        tokio::pin!(take);
        let mut told = 0;
        loop {
            let place = ticket.place();
            if place != told {
                told = place;
                self.running.set_queued(&job.session, Some(place));
                let waiting = ServerMessage::ChatQueued {
                    message_id: job.message_id.clone(),
                    position: place,
                };
                // Not connected now: the catch-up tells a returning client.
                let _ = self
                    .sessions
                    .send_live(&job.session, waiting, DELIVERY_PATIENCE)
                    .await;
            }
            tokio::select! {
                slot = &mut take => {
                    self.running.set_queued(&job.session, None);
                    return slot;
                }
                _ = ticket.changed() => {}
            }
        }
    }

    /// Streams the model's reply as `chat_delta`s until it finishes, fails, is stopped, or the
    /// server shuts down.
    async fn stream(
        &self,
        job: &mut Job,
        stopped: &mut tokio::sync::oneshot::Receiver<()>,
        shutdown: &mut ShutdownListener,
        text: &SharedText,
    ) -> Ending {
        // The prompt goes to the provider; the rest of the job is needed to store the reply.
        let mut stream = self.provider.stream(std::mem::take(&mut job.request));
        let started = std::time::Instant::now();
        let mut pieces = 0u64;
        let mut flushed = tokio::time::Instant::now();
        let mut unflushed = false;
        let ending = loop {
            tokio::select! {
                _ = &mut *stopped => break Ending::by(FinishReason::Stopped),
                _ = shutdown.wait() => break Ending::by(FinishReason::Interrupted),
                event = stream.next() => match event {
                    Some(Ok(LlmEvent::Delta(delta))) => {
                        if pieces == 0 {
                            self.sessions.metrics().first_token(started.elapsed());
                        }
                        pieces += 1;
                        let offset = {
                            let mut text = text.lock().unwrap_or_else(PoisonError::into_inner);
                            let offset = text.len() as u64;
                            text.push_str(&delta);
                            offset
                        };
                        let piece = ServerMessage::ChatDelta {
                            message_id: job.message_id.clone(),
                            delta,
                            offset,
                        };
                        // No connection right now (a reconnect under way): the text still
                        // reaches the history and the final `chat_response`.
                        let _ = self.sessions.send_live(&job.session, piece, DELIVERY_PATIENCE).await;
                        unflushed = true;
                        if flushed.elapsed() >= FLUSH_EVERY {
                            self.flush(job, text).await;
                            flushed = tokio::time::Instant::now();
                            unflushed = false;
                        }
                    }
                    Some(Ok(LlmEvent::Finished { finish_reason, usage })) => {
                        break Ending { finish_reason, usage, error: None }
                    }
                    Some(Err(error)) => break Ending::failed(error),
                    None => break Ending::failed(LlmError::BadStream(
                        "the reply ended without finishing".into(),
                    )),
                }
            }
        };
        // Dropping the stream closes the request to the model now, so it stops generating.
        drop(stream);
        // The model's count when it gave one; else one per streamed piece.
        let tokens = ending
            .usage
            .as_ref()
            .map_or(pieces, |usage| u64::from(usage.completion_tokens));
        self.sessions
            .metrics()
            .reply_done(started.elapsed(), tokens);
        if unflushed && ending.finish_reason == FinishReason::Interrupted {
            // The server is stopping: keep the last second too, in case storing the end fails.
            self.flush(job, text).await;
        }
        ending
    }

    /// Keeps the reply's text so far in the database.
    async fn flush(&self, job: &Job, text: &SharedText) {
        let snapshot = text.lock().unwrap_or_else(PoisonError::into_inner).clone();
        if let Err(error) = self
            .sessions
            .flush_reply(&job.session, &job.message_id, &snapshot)
            .await
        {
            // The next flush or the end tries again; only a crash before then loses text.
            tracing::warn!(%error, "cannot keep a streaming reply's text");
        }
    }

    /// Tells the session how the reply ended and stores it in the session's transaction,
    /// trying again (with growing waits) while the database fails: the reply's text was kept
    /// as it streamed, and the session stays busy until its end is stored, so nothing is lost
    /// and nothing overtakes it. If the server stops first, the next start stores it.
    async fn conclude(&self, job: Job, text: String, ending: Ending) {
        let model = self.provider.model().to_owned();
        if let Some(error) = &ending.error {
            tracing::warn!(%error, "the model failed");
            // The details (URLs, the model server's own words) stay in the log.
            let notice = ServerMessage::error(ErrorCode::ModelError, error.public_message());
            self.sessions
                .metrics()
                .error(ErrorCode::ModelError.as_str());
            let _ = self
                .sessions
                .send_live(&job.session, notice, DELIVERY_PATIENCE)
                .await;
        } else {
            tracing::debug!(
                reason = ending.finish_reason.as_str(),
                chars = text.len(),
                "reply ended"
            );
        }
        let running = &self.running;
        let limit = self.sessions.max_frame_bytes();
        let mut wait = CONCLUDE_RETRY_FIRST;
        let mut told = false;
        loop {
            let concluded = self
                .sessions
                .transact(
                    &job.session,
                    None,
                    Delivery::Patient(CONCLUDE_PATIENCE),
                    |session| {
                        Ok::<_, Infallible>(fold(session, &job, &text, &model, &ending, limit))
                    },
                    // Under the session's lock: a chat right after this reply's end is not busy.
                    |()| running.finish(&job.session, &job.message_id),
                )
                .await;
            let Err(error) = concluded else { return };
            if matches!(error, TransactError::Storage(StorageError::NotOwner)) {
                // Another node serves the session now; it ends this reply from what was
                // flushed (as interrupted) when it takes the session over.
                running.finish(&job.session, &job.message_id);
                return;
            }
            tracing::error!(%error, retry_in = ?wait, "cannot store a reply");
            if !told {
                told = true;
                // Whatever else fails, keep the whole text (a plain update of the streaming
                // row), so recovery has it even if the server stops before a retry succeeds.
                let kept = SharedText::default();
                kept.lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .push_str(&text);
                self.flush(&job, &kept).await;
                let notice = ServerMessage::error(
                    ErrorCode::Internal,
                    "the reply could not be stored yet; the server keeps trying",
                );
                let _ = self
                    .sessions
                    .send_live(&job.session, notice, DELIVERY_PATIENCE)
                    .await;
            }
            let mut shutdown = self.shutdown.clone();
            tokio::select! {
                _ = tokio::time::sleep(wait) => {}
                _ = shutdown.wait() => {
                    // The text was kept as it streamed; recovery at the next start ends it.
                    running.finish(&job.session, &job.message_id);
                    return;
                }
            }
            wait = (wait * 2).min(CONCLUDE_RETRY_MAX);
        }
    }
}

/// How a reply ended.
#[derive(Debug)]
struct Ending {
    finish_reason: FinishReason,
    usage: Option<Usage>,
    error: Option<LlmError>,
}

impl Ending {
    fn by(finish_reason: FinishReason) -> Self {
        Self {
            finish_reason,
            usage: None,
            error: None,
        }
    }

    fn failed(error: LlmError) -> Self {
        Self {
            finish_reason: FinishReason::Error,
            usage: None,
            error: Some(error),
        }
    }
}

/// Folds a finished reply into the session: the conversation, its diffs, and what to store.
/// No history frame is made over `limit` bytes: a diff too large to send is left out and the
/// reply says so; a reply's text too large is cut, saying so.
fn fold(
    session: &mut SessionState,
    job: &Job,
    text: &str,
    model: &str,
    ending: &Ending,
    limit: usize,
) -> Effects<()> {
    // Room for the frame's JSON around the text (ids, metadata, escaping of a few quotes).
    let mut text = cut_to(text, limit.saturating_sub(4096) / 2);
    session.push_turn(Turn::assistant(text.clone()));
    // Only a complete reply's code is placed: a stopped or failed one may be cut mid-block.
    let proposals = if ending.finish_reason.is_complete() {
        let base = job
            .base
            .as_ref()
            .map(|(id, content)| (id.as_str(), content.as_str()));
        session.propose_from_reply(&text, job.active_file.as_deref(), base)
    } else {
        Vec::new()
    };
    let (proposals, too_large): (Vec<_>, Vec<_>) = proposals.into_iter().partition(|proposal| {
        ServerMessage::Diff(Box::new(proposal.clone()))
            .to_json()
            .len()
            + 64
            <= limit
    });
    for proposal in &too_large {
        session.take_diff(&proposal.diff_id);
        text.push_str(&format!(
            "\n\n*AXE: the change to `{}` is too large to review as a diff (over {} KiB), so it \
             is not offered. Ask for a smaller change, such as SEARCH/REPLACE edits.*",
            proposal.file_name,
            limit / 1024
        ));
    }
    let mut changes = vec![Change::FinishReply {
        message_id: job.message_id.clone(),
        content: text.clone(),
        status: ending.finish_reason.status(),
        model: model.to_owned(),
        finish_reason: ending.finish_reason,
    }];
    let mut events = vec![ServerMessage::ChatResponse {
        message: text,
        metadata: ChatMetadata {
            message_id: job.message_id.clone(),
            model: model.to_owned(),
            finish_reason: ending.finish_reason,
            diff_count: u32::try_from(proposals.len()).unwrap_or(u32::MAX),
            usage: ending.usage,
        },
    }];
    for proposal in proposals {
        changes.push(Change::ProposeDiff(Box::new(proposal.clone())));
        events.push(ServerMessage::Diff(Box::new(proposal)));
    }
    Effects {
        changes,
        events,
        then: (),
        version: None,
    }
}

/// `text` cut to at most `max` bytes on a character boundary, saying so when it was.
fn cut_to(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_owned();
    }
    let mut at = max;
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    format!(
        "{}\n\n*AXE: the reply was cut here; it was too long to keep.*",
        &text[..at]
    )
}
