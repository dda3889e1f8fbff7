//! One session connection: a reader (this task) that decodes and handles client frames, and a
//! writer task that owns the socket's send half and drains a bounded queue.
//!
//! The reader decides when the connection ends (client close, error, idle, take-over, slow
//! consumer, shutdown), tells the writer which close frame to send, and unregisters.

use crate::{
    handler::{self, Limits},
    session::SharedSession,
    state::AppState,
    ws::registry::Kick,
};
use axum::extract::ws::{CloseFrame, Message};
use futures_util::{Sink, SinkExt, Stream, StreamExt};
use protocol::{decode_client_frame, ClientMessage, ErrorCode, ServerMessage, SessionId};
use std::{sync::PoisonError, time::Duration};
use tokio::sync::{mpsc, oneshot};

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
    /// The server is shutting down.
    ServerShutdown,
}

impl End {
    /// The close frame this end sends, or `None` when the client already closed.
    fn close_frame(self) -> Option<CloseFrame> {
        let (code, reason) = match self {
            End::ClientClosed | End::ClientGone => return None,
            End::Idle => (protocol::CLOSE_IDLE_TIMEOUT, "idle_timeout"),
            End::TakenOver => (protocol::CLOSE_SESSION_TAKEN_OVER, "session_taken_over"),
            End::SlowConsumer => (protocol::CLOSE_SLOW_CONSUMER, "slow_consumer"),
            End::TooLarge => (1009, "message_too_large"),
            End::TransportError => (1002, "protocol_error"),
            End::ServerShutdown => (1001, "server_shutting_down"),
        };
        Some(CloseFrame {
            code,
            reason: reason.into(),
        })
    }
}

/// Serves one upgraded connection for `session` until it ends.
#[tracing::instrument(name = "connection", skip_all, fields(session = %session))]
pub async fn serve<W, R>(sink: W, stream: R, session: SessionId, state: AppState)
where
    W: Sink<Message> + Unpin + Send + 'static,
    R: Stream<Item = Result<Message, axum::Error>> + Unpin,
{
    // Held until this function returns, so shutdown can wait for every connection to finish.
    let _open = state.connections_open.clone();
    let (outbound_tx, outbound_rx) = mpsc::channel(state.config.outbound_queue);
    let (close_tx, close_rx) = oneshot::channel();
    let writer = tokio::spawn(write_loop(sink, outbound_rx, close_rx));
    let registration = state.registry.register(&session, outbound_tx.clone());
    tracing::debug!(connection = registration.connection_id, "connected");

    let mut reader = Reader {
        session: &session,
        state: &state,
        outbound: outbound_tx,
        session_state: None,
    };
    let end = reader.run(stream, registration.kicked).await;

    state
        .registry
        .unregister(&session, registration.connection_id);
    let close = end.close_frame();
    match end {
        End::TooLarge | End::SlowConsumer | End::TransportError => {
            tracing::warn!(?end, "connection closed by the server")
        }
        _ => tracing::debug!(?end, "connection ended"),
    }
    if let Some(frame) = close {
        // The writer may have ended already (socket gone); then there is nobody to close.
        let _ = close_tx.send(frame);
    }
    drop(reader);
    let mut writer = writer;
    if tokio::time::timeout(WRITER_CLOSE_GRACE, &mut writer)
        .await
        .is_err()
    {
        // The peer stopped reading and the close frame cannot be written: drop the socket.
        writer.abort();
    }
}

/// The reading half's context.
struct Reader<'a> {
    session: &'a SessionId,
    state: &'a AppState,
    /// Encoded frames for the writer. Text rather than `ServerMessage`: the channel allocates
    /// its slots in blocks of 32, and 32 strings cost 0.75 KiB where 32 messages cost 5.3 KiB.
    outbound: mpsc::Sender<String>,
    /// This session's state, looked up on the first message that needs it, so idle
    /// connections cost nothing here.
    session_state: Option<SharedSession>,
}

impl Reader<'_> {
    async fn run<R>(&mut self, mut stream: R, mut kicked: oneshot::Receiver<Kick>) -> End
    where
        R: Stream<Item = Result<Message, axum::Error>> + Unpin,
    {
        let mut shutdown = self.state.shutdown.clone();
        let idle = self.state.config.idle_timeout;
        loop {
            tokio::select! {
                kick = &mut kicked => return match kick {
                    Ok(Kick::TakenOver) => End::TakenOver,
                    Ok(Kick::SlowConsumer) => End::SlowConsumer,
                    // Only the registry holds the sender and it always sends before dropping;
                    // should that ever change, ending is safer than polling a spent channel.
                    Err(_) => End::TakenOver,
                },
                _ = shutdown.wait() => return End::ServerShutdown,
                next = tokio::time::timeout(idle, stream.next()) => {
                    let message = match next {
                        Err(_) => return End::Idle,
                        Ok(None) => return End::ClientClosed,
                        Ok(Some(Err(error))) => return classify(error),
                        Ok(Some(Ok(message))) => message,
                    };
                    if let Some(end) = self.on_message(message) {
                        return end;
                    }
                }
            }
        }
    }

    /// Handles one frame; `Some` ends the connection.
    fn on_message(&mut self, message: Message) -> Option<End> {
        let replies = match message {
            Message::Text(text) => self.on_text(text.as_str()),
            Message::Binary(_) => vec![ServerMessage::error(
                ErrorCode::UnsupportedFrame,
                "binary frames are not supported; send JSON text frames",
            )],
            // WebSocket-level pings are answered by the library; any frame counts as activity.
            Message::Ping(_) | Message::Pong(_) => Vec::new(),
            Message::Close(_) => return Some(End::ClientClosed),
        };
        for reply in replies {
            if self.outbound.try_send(reply.to_json()).is_err() {
                return Some(End::SlowConsumer);
            }
        }
        None
    }

    fn on_text(&mut self, text: &str) -> Vec<ServerMessage> {
        let frame = match decode_client_frame(text) {
            Ok(frame) => frame,
            Err(error) => {
                tracing::debug!(%error, "bad frame");
                return vec![ServerMessage::error(error.code, error.message)];
            }
        };
        match &frame.message {
            // Pings are the only traffic of idle sessions; they need no session state.
            ClientMessage::Ping { ts } => return vec![ServerMessage::Pong { ts: ts.clone() }],
            ClientMessage::Stop { message_id } => {
                let stopped = self
                    .state
                    .generations
                    .stop(self.session, message_id.as_deref());
                return if stopped {
                    Vec::new()
                } else {
                    vec![ServerMessage::error(
                        ErrorCode::NothingToStop,
                        "no reply is being generated",
                    )]
                };
            }
            ClientMessage::Chat { .. } if self.state.generations.is_running(self.session) => {
                return vec![ServerMessage::error(
                    ErrorCode::Busy,
                    "a reply is still being generated; stop it or wait for it",
                )];
            }
            _ => {}
        }
        let shared = self
            .session_state
            .get_or_insert_with(|| self.state.sessions.get_or_create(self.session))
            .clone();
        let limits = Limits {
            max_text_bytes: self.state.config.max_file_bytes,
            prompt: self.state.config.prompt_budget,
        };
        let handled = {
            // Held only while the synchronous handler runs; never across an `.await`.
            let mut session = shared.lock().unwrap_or_else(PoisonError::into_inner);
            handler::handle(self.session, &mut session, frame.message, limits)
        };
        if let Some(job) = handled.job {
            if !self.state.generations.start(self.state.clone(), job) {
                return vec![ServerMessage::error(
                    ErrorCode::Busy,
                    "a reply is still being generated; stop it or wait for it",
                )];
            }
        }
        handled.replies
    }
}

/// Maps a read error to the way the connection ends.
fn classify(error: axum::Error) -> End {
    use tokio_tungstenite::tungstenite::{error::ProtocolError, Error as WsError};
    let inner = error.into_inner();
    match inner.downcast_ref::<WsError>() {
        Some(WsError::Capacity(_)) => End::TooLarge,
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
    mut outbound: mpsc::Receiver<String>,
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
