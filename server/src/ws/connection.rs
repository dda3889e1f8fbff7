//! One session connection: a reader (this task) that decodes and handles client frames, and a
//! writer task that owns the socket's send half and drains a bounded queue.
//!
//! On connecting, the client first gets the history it missed (after its `last_seq`), then live
//! traffic. Each state-changing message is stored before it is acknowledged, and a repeated id
//! is acknowledged again without being processed twice.
//!
//! The reader decides when the connection ends (client close, error, idle, take-over, slow
//! consumer, shutdown), tells the writer which close frame to send, and unregisters.

use crate::outbound;
use crate::{
    commands::{self, Context, Limits, Refusal},
    registry::Kick,
    session::{ClientStamp, Delivery, ReplayFailure, TransactError, Transacted},
    state::{AppState, ConnectionSlot},
    throttle::{Bucket, Rate},
};
use axum::extract::ws::{CloseFrame, Message};
use futures_util::{Sink, SinkExt, Stream, StreamExt};
use protocol::{
    decode_client_frame, ClientFrame, ClientMessage, ErrorCode, ServerMessage, SessionId,
};
use std::time::{Duration, Instant};
use tokio::sync::oneshot;

/// How long the writer may take to send its close frame before it is abandoned.
const WRITER_CLOSE_GRACE: Duration = Duration::from_secs(2);

/// Why a connection ended, and so which close frame (if any) it gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum End {
    /// The client sent a close frame or its stream ended.
    ClientClosed,
    /// Nothing arrived within the idle limit.
    Idle,
    /// A newer connection took the session over.
    TakenOver,
    /// The client did not read its messages.
    SlowConsumer,
    /// A message exceeded the size limit.
    TooLarge,
    /// The peer vanished without a close handshake (reset, dropped TCP).
    ClientGone,
    /// The peer broke the WebSocket protocol.
    TransportError,
    /// A text frame was not UTF-8.
    InvalidUtf8,
    /// The server is shutting down.
    ServerShutdown,
    /// The token the connection was opened with expired.
    TokenExpired,
}

impl End {
    /// The close code the connection ended with: the one sent, or the client's (1005 when it
    /// gave none, 1006 when it vanished without one).
    pub fn code(self, client_code: Option<u16>) -> u16 {
        match self {
            End::ClientClosed => client_code.unwrap_or(1005),
            End::ClientGone => 1006,
            _ => self.close_frame().map_or(1006, |frame| frame.code),
        }
    }

    /// The close frame this end sends, or `None` when the client already closed.
    fn close_frame(self) -> Option<CloseFrame> {
        let (code, reason) = match self {
            End::ClientClosed | End::ClientGone => return None,
            End::Idle => (protocol::CLOSE_IDLE_TIMEOUT, "idle_timeout"),
            End::TakenOver => (protocol::CLOSE_SESSION_TAKEN_OVER, "session_taken_over"),
            End::SlowConsumer => (protocol::CLOSE_SLOW_CONSUMER, "slow_consumer"),
            End::TooLarge => (1009, "message_too_large"),
            End::TransportError => (1002, "protocol_error"),
            End::InvalidUtf8 => (1007, "invalid_utf8"),
            End::ServerShutdown => (1001, "server_shutting_down"),
            End::TokenExpired => (protocol::CLOSE_TOKEN_EXPIRED, "token_expired"),
        };
        Some(CloseFrame {
            code,
            reason: reason.into(),
        })
    }
}

/// What the gate in front of the socket established.
#[derive(Debug)]
pub struct Opened {
    /// The session, owned by the caller.
    pub session: SessionId,
    /// The newest history `seq` the client has.
    pub last_seq: u64,
    /// When the caller's token expires (Unix seconds): the connection closes then with 4401.
    pub expires_at: u64,
    /// This connection's place in the count of open connections.
    pub slot: ConnectionSlot,
}

/// Serves one upgraded connection until it ends.
///
/// In three phases, of which only reading lasts: joining the session and closing are boxed, so
/// their (much larger) state is on the heap only while they run and not part of every idle
/// connection's task. The task's own future stays near the reader's size.
pub async fn serve<W, R>(sink: W, stream: R, opened: Opened, state: AppState)
where
    W: Sink<Message> + Unpin + Send + 'static,
    R: Stream<Item = Result<Message, axum::Error>> + Unpin,
{
    let mut live = Box::pin(join(sink, opened, &state)).await;
    let (end, client_code) = match live.caught_up {
        Ok(()) => {
            let mut reader = Reader {
                session: &live.session,
                state: &state,
                outbound: live.outbound.clone(),
                frames: Bucket::new(live.frame_rate, Instant::now()),
                expires: live.expires,
                client_code: None,
            };
            let kicked = live.kicked.take();
            let end = match kicked {
                Some(kicked) => reader.run(stream, kicked).await,
                None => End::TakenOver,
            };
            (end, reader.client_code)
        }
        Err(ReplayFailure::ClientGone) => (End::ClientGone, None),
        Err(ReplayFailure::TooSlow) => (End::SlowConsumer, None),
    };
    Box::pin(close(live, end, client_code, &state)).await;
}

/// A joined connection: what reading and closing need.
struct Live {
    session: SessionId,
    connection_id: u64,
    /// Whether the replay reached the client.
    caught_up: Result<(), ReplayFailure>,
    /// Resolves when the registry asks this connection to end; taken by the reader.
    kicked: Option<oneshot::Receiver<Kick>>,
    outbound: outbound::Sender,
    close: oneshot::Sender<CloseFrame>,
    writer: tokio::task::JoinHandle<()>,
    frame_rate: Rate,
    expires: tokio::time::Instant,
    /// This connection's place in the count of open connections; shutdown waits until every
    /// slot is given back.
    _slot: ConnectionSlot,
}

/// Starts the writer, registers the connection and sends it what it missed.
async fn join<W>(sink: W, opened: Opened, state: &AppState) -> Live
where
    W: Sink<Message> + Unpin + Send + 'static,
{
    let Opened {
        session,
        last_seq,
        expires_at,
        slot,
    } = opened;
    let (outbound, outbound_rx) = outbound::channel(state.config.outbound_queue);
    let (close, close_rx) = oneshot::channel();
    let writer = tokio::spawn(write_loop(sink, outbound_rx, close_rx));
    let replies = &state.replies;
    let metrics = &state.metrics;
    metrics.connected(metrics.minutes.is_reconnect(session.as_str()));
    let (registration, caught_up) = state
        .sessions
        .join(&session, last_seq, &outbound, |outbound| {
            replies.catch_up(&session, outbound)
        })
        .await;
    tracing::debug!(connection = registration.connection_id, "connected");
    let frames = state.config.limits.frames_per_sec;
    Live {
        session,
        connection_id: registration.connection_id,
        caught_up,
        kicked: Some(registration.kicked),
        outbound,
        close,
        writer,
        frame_rate: Rate::per_second(frames, frames.saturating_mul(2)),
        expires: token_deadline(expires_at, state.auth.leeway()),
        _slot: slot,
    }
}

/// Unregisters the connection, has the writer send the close frame `end` calls for, and waits
/// a moment for it. `client_code`: the close code the client sent, if it closed.
async fn close(live: Live, end: End, client_code: Option<u16>, state: &AppState) {
    state.sessions.leave(&live.session, live.connection_id);
    state.metrics.closed(end.code(client_code));
    state
        .metrics
        .minutes
        .connection_ended(live.session.as_str());
    match end {
        End::TooLarge | End::SlowConsumer | End::TransportError | End::InvalidUtf8 => {
            tracing::warn!(?end, "connection closed by the server")
        }
        _ => tracing::debug!(?end, "connection ended"),
    }
    if let Some(frame) = end.close_frame() {
        // The writer may have ended already (socket gone); then there is nobody to close.
        let _ = live.close.send(frame);
    }
    // The writer ends once every sender is gone and the queue is drained.
    drop(live.outbound);
    let mut writer = live.writer;
    if tokio::time::timeout(WRITER_CLOSE_GRACE, &mut writer)
        .await
        .is_err()
    {
        // The peer stopped reading and the close frame cannot be written: drop the socket.
        writer.abort();
    }
}

/// When a token that expires at `expires_at` (Unix seconds) stops being accepted, with the
/// leeway, as a point on the runtime's clock.
fn token_deadline(expires_at: u64, leeway: Duration) -> tokio::time::Instant {
    let now = crate::auth::now_secs();
    let left = Duration::from_secs(expires_at.saturating_sub(now)) + leeway;
    // Far-future tokens would overflow the clock; a year is as good as never here.
    tokio::time::Instant::now() + left.min(Duration::from_secs(365 * 24 * 3600))
}

/// The reading half's context.
struct Reader<'a> {
    session: &'a SessionId,
    state: &'a AppState,
    /// Encoded frames for the writer. Text rather than `ServerMessage`: the channel allocates
    /// its slots in blocks of 32, and 32 strings cost 0.75 KiB where 32 messages cost 5.3 KiB.
    outbound: outbound::Sender,
    /// Every frame this connection sends takes a token.
    frames: Bucket,
    /// When the connection's token stops being valid.
    expires: tokio::time::Instant,
    /// The close code the client sent, once it has closed.
    client_code: Option<u16>,
}

impl Reader<'_> {
    async fn run<R>(&mut self, mut stream: R, mut kicked: oneshot::Receiver<Kick>) -> End
    where
        R: Stream<Item = Result<Message, axum::Error>> + Unpin,
    {
        let mut shutdown = self.state.shutdown.clone();
        let idle = self.state.config.idle_timeout;
        let mut idle_at = tokio::time::Instant::now() + idle;
        loop {
            // One timer for both deadlines: every idle connection holds this future, and each
            // timer in it is part of that connection's memory.
            let deadline = idle_at.min(self.expires);
            tokio::select! {
                kick = &mut kicked => return match kick {
                    Ok(Kick::TakenOver) => End::TakenOver,
                    Ok(Kick::SlowConsumer) => End::SlowConsumer,
                    // Only the registry holds the sender and it always sends before dropping;
                    // should that ever change, ending is safer than polling a spent channel.
                    Err(_) => End::TakenOver,
                },
                _ = shutdown.wait() => return End::ServerShutdown,
                _ = tokio::time::sleep_until(deadline) => {
                    return if deadline == self.expires { End::TokenExpired } else { End::Idle };
                }
                next = stream.next() => {
                    idle_at = tokio::time::Instant::now() + idle;
                    let message = match next {
                        None => return End::ClientClosed,
                        Some(Err(error)) => return classify(error),
                        Some(Ok(message)) => message,
                    };
                    if let Some(end) = self.on_message(message).await {
                        return end;
                    }
                }
            }
        }
    }

    /// Handles one frame; `Some` ends the connection.
    async fn on_message(&mut self, message: Message) -> Option<End> {
        let replies = match message {
            Message::Text(text) => self.on_text(text.as_str()).await,
            Message::Binary(_) => vec![ServerMessage::error(
                ErrorCode::UnsupportedFrame,
                "binary frames are not supported; send JSON text frames",
            )],
            // WebSocket-level pings are answered by the library; any frame counts as activity.
            Message::Ping(_) | Message::Pong(_) => Vec::new(),
            Message::Close(frame) => {
                self.client_code = frame.map(|f| f.code);
                return Some(End::ClientClosed);
            }
        };
        for reply in replies {
            if let ServerMessage::Error { code, .. } = &reply {
                self.state.metrics.error(code.as_str());
            }
            if self.outbound.try_send(reply.to_json()).is_err() {
                return Some(End::SlowConsumer);
            }
        }
        None
    }

    /// Answers one text frame; what it returns goes to this connection. History frames go
    /// through the registry instead, under the session's lock (see [`Self::change`]).
    async fn on_text(&mut self, text: &str) -> Vec<ServerMessage> {
        let received = Instant::now();
        let metrics = &self.state.metrics;
        let frame = match decode_client_frame(text) {
            Ok(frame) => frame,
            Err(error) => {
                tracing::debug!(%error, "bad frame");
                metrics.client_message("invalid");
                return vec![ServerMessage::error(error.code, error.message)];
            }
        };
        metrics.client_message(frame.message.type_name());
        if let Err(wait) = self.frames.take(received) {
            metrics.rate_limited("frames");
            let limits = &self.state.config.limits;
            let message = format!(
                "at most {} messages a second ({} at once); send this one again in {} ms",
                limits.frames_per_sec,
                limits.frames_per_sec.saturating_mul(2),
                wait.as_millis()
            );
            let id = frame.id.as_ref().map(protocol::MessageId::as_str);
            return vec![ServerMessage::rate_limited(message, id, millis(wait))];
        }
        match &frame.message {
            // Pings are the only traffic of idle sessions; they need no session state.
            ClientMessage::Ping { ts } => vec![ServerMessage::Pong { ts: ts.clone() }],
            ClientMessage::Stop { message_id } => {
                if self.state.replies.stop(self.session, message_id.as_deref()) {
                    Vec::new()
                } else {
                    vec![ServerMessage::error(
                        ErrorCode::NothingToStop,
                        "no reply is being generated",
                    )]
                }
            }
            ClientMessage::LoadHistory { before, limit } => {
                // Boxed for the same reason as `change` below: a database read is a large future.
                let page = self
                    .state
                    .sessions
                    .history_page(self.session, *before, *limit);
                match Box::pin(page).await {
                    Ok(page) => vec![page],
                    Err(error) => vec![storage_failed(&error)],
                }
            }
            // Boxed: the transaction's future is large and rare; the reader's own future, which
            // every idle connection holds, stays small.
            _ => Box::pin(self.change(frame, received)).await,
        }
    }

    /// Processes a state-changing message in the session's transaction: at most once per id,
    /// stored before it is acknowledged, its ack and history frames queued in order. What it
    /// returns (a refusal, or the database's failure) goes to this connection alone.
    async fn change(&mut self, frame: ClientFrame, received: Instant) -> Vec<ServerMessage> {
        let ClientFrame { id, message } = frame;
        // The decoder refuses these messages without an id.
        let Some(id) = id else {
            return Vec::new();
        };
        let state = self.state;
        let session = self.session;
        let limits = Limits {
            max_text_bytes: state.config.max_file_bytes,
            max_files: state.config.limits.max_files_per_session,
            prompt: state.config.prompt_budget,
        };
        let is_chat = matches!(message, ClientMessage::Chat { .. });
        // The version an edit was made on, read before the transaction: stored versions never
        // change, so no lock is needed, and the merge inside the transaction has it at hand.
        let base = match &message {
            ClientMessage::FileUpdated {
                file_id,
                base_version: Some(version),
                ..
            } => Some((file_id.clone(), *version)),
            ClientMessage::Chat {
                context:
                    Some(protocol::ChatContext {
                        active_file: Some(file),
                        ..
                    }),
                ..
            } => file.base_version.map(|version| (file.id.clone(), version)),
            _ => None,
        };
        let base_content = match base {
            Some((file_id, version)) => {
                match state
                    .sessions
                    .file_version(session, &file_id, version)
                    .await
                {
                    Ok(content) => content,
                    Err(error) => return vec![storage_failed(&error)],
                }
            }
            None => None,
        };
        let stamp = ClientStamp {
            id: &id,
            kind: message.type_name(),
        };
        let outcome = state
            .sessions
            .transact(
                session,
                Some(stamp),
                Delivery::Now,
                |loaded| {
                    // After the de-duplication: a resent chat that was stored already is
                    // acknowledged, not counted.
                    if is_chat {
                        state.limiters.chats.take(session).map_err(|wait| {
                            Refusal::rate_limited(
                                format!(
                                    "at most {} chat messages a minute; send this one again in {:.1} s",
                                    state.config.limits.chats_per_min,
                                    wait.as_secs_f64()
                                ),
                                wait,
                            )
                        })?;
                    }
                    let context = Context {
                        session,
                        id: &id,
                        limits,
                        // Under the session's lock, so no other chat can start a reply meanwhile.
                        reply_running: state.replies.is_running(session),
                        base_content: base_content.as_deref(),
                    };
                    commands::execute(loaded, message, context)
                },
                |job| {
                    if let Some(job) = job {
                        // Cannot fail: the session's lock is held and no reply was running.
                        state.replies.start(job);
                    }
                },
            )
            .await;
        match outcome {
            Ok(Transacted::Committed | Transacted::Duplicate) => {
                state.metrics.acked(received.elapsed());
                Vec::new()
            }
            Ok(Transacted::Refused(refusal)) => {
                if refusal.code == ErrorCode::RateLimited {
                    state.metrics.rate_limited("chats");
                }
                vec![refusal.to_message(Some(&id))]
            }
            Err(TransactError::FrameTooLarge { kind, bytes, limit }) => {
                // Final: the same message would make the same frame.
                vec![ServerMessage::refusal(
                    ErrorCode::MessageTooLarge,
                    format!("this would make a {kind} message of {bytes} bytes, over the {limit}-byte limit"),
                    Some(id.as_str()),
                )]
            }
            Err(TransactError::Storage(error)) => vec![storage_failed(&error)],
        }
    }
}

/// The error a client gets when the database failed: no id, so the message is resent later.
fn storage_failed(error: &crate::storage::StorageError) -> ServerMessage {
    tracing::error!(%error, "storage failed");
    ServerMessage::error(
        ErrorCode::Internal,
        "the server could not store this message; it will be resent",
    )
}

/// A wait in whole milliseconds, for `retry_after_ms`.
fn millis(wait: Duration) -> u64 {
    u64::try_from(wait.as_millis()).unwrap_or(u64::MAX)
}

/// Maps a read error to the way the connection ends.
fn classify(error: axum::Error) -> End {
    use tokio_tungstenite::tungstenite::{error::ProtocolError, Error as WsError};
    let inner = error.into_inner();
    match inner.downcast_ref::<WsError>() {
        Some(WsError::Capacity(_)) => End::TooLarge,
        Some(WsError::Utf8(_)) => End::InvalidUtf8,
        Some(
            WsError::Io(_)
            | WsError::ConnectionClosed
            | WsError::AlreadyClosed
            | WsError::Protocol(ProtocolError::ResetWithoutClosingHandshake),
        ) => End::ClientGone,
        _ => End::TransportError,
    }
}

/// Drains the outgoing queue into the socket; sends the close frame when told to.
async fn write_loop<W>(
    mut sink: W,
    mut outbound: outbound::Receiver,
    mut close: oneshot::Receiver<CloseFrame>,
) where
    W: Sink<Message> + Unpin,
{
    loop {
        tokio::select! {
            // Closing wins over queued messages: a kicked or shutting-down connection should
            // learn why at once rather than after its backlog.
            biased;
            frame = &mut close => {
                if let Ok(frame) = frame {
                    let _ = sink.send(Message::Close(Some(frame))).await;
                }
                break;
            }
            next = outbound.recv() => match next {
                Some(message) => {
                    if sink.send(Message::Text(message.into())).await.is_err() {
                        break;
                    }
                }
                None => break,
            },
        }
    }
    // Flushes a pending close (ours, or the reply to the client's) and ends the stream; the
    // socket may already be gone, which is fine.
    let _ = sink.close().await;
}
