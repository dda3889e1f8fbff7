//! The browser's connection to the server (the Rust `useAxeWebSocket`): connect on mount, a ping
//! every 30 s, a dead link detected by a missing pong, reconnect 3 s after a close with backoff
//! after repeated failures, no reconnect after a take-over, everything closed on unmount.
//!
//! Runs only in the browser (`hydrate`); on the server [`start`] does nothing.

/// Milliseconds between keep-alive pings.
pub const PING_INTERVAL_MS: u32 = 30_000;
/// A ping unanswered for this long means the link is dead.
pub const PONG_TIMEOUT_MS: u32 = 10_000;

/// Delay before reconnect attempt `failures` (1-based), in milliseconds, before jitter.
///
/// Schedule: 3 s, 6 s, 12 s, 24 s, then 30 s (the cap). Jitter of up to +25 % is added from the
/// second attempt on, so many clients dropped together do not return in lockstep; the first
/// retry stays at exactly 3 s.
pub fn reconnect_delay_ms(failures: u32) -> u32 {
    const FIRST: u32 = 3_000;
    const CAP: u32 = 30_000;
    let doubled = FIRST.saturating_mul(1u32 << failures.saturating_sub(1).min(10));
    doubled.min(CAP)
}

/// Starts the connection for the widget whose state is `store`; stops it when the owner is
/// cleaned up.
#[cfg(not(feature = "hydrate"))]
pub fn start(_store: crate::store::AxeStore) {}

#[cfg(feature = "hydrate")]
pub use browser::start;

#[cfg(feature = "hydrate")]
mod browser {
    use super::{reconnect_delay_ms, PING_INTERVAL_MS, PONG_TIMEOUT_MS};
    use crate::{
        session,
        store::{Author, AxeStore, ConnectionStatus, EntryStatus},
    };
    use futures_channel::mpsc::UnboundedReceiver;
    use futures_util::{future::FutureExt, select, SinkExt, StreamExt};
    use gloo_net::websocket::{futures::WebSocket, Message, WebSocketError};
    use gloo_timers::future::TimeoutFuture;
    use leptos::prelude::*;
    use protocol::{encode_client_frame, ClientMessage, ServerMessage};
    use std::collections::VecDeque;

    fn log(text: &str) {
        web_sys::console::debug_1(&format!("[AXE WebSocket] {text}").into());
    }

    /// How one connection attempt ended.
    enum Outcome {
        /// The socket closed or failed; `was_open` tells whether it had connected.
        Closed { was_open: bool },
        /// The server closed with the take-over code.
        TakenOver,
        /// The widget is going away.
        Stopped,
    }

    /// See [`super::start`].
    pub fn start(store: AxeStore) {
        let Some(inbox) = store.take_inbox() else {
            return;
        };
        let (stop_tx, stop_rx) = futures_channel::oneshot::channel::<()>();
        let (reclaim_tx, reclaim_rx) = futures_channel::mpsc::unbounded::<()>();
        // Forwards "take it back" clicks to the task; skips the effect's first run.
        Effect::new(move |previous: Option<u32>| {
            let now = store.reclaim.get();
            if previous.is_some() {
                let _ = reclaim_tx.unbounded_send(());
            }
            now
        });
        on_cleanup(move || {
            // The task may have ended already; then there is nothing to stop.
            let _ = stop_tx.send(());
        });
        leptos::task::spawn_local(run(store, inbox, reclaim_rx, stop_rx));
    }

    async fn run(
        store: AxeStore,
        mut inbox: UnboundedReceiver<ClientMessage>,
        mut reclaim: futures_channel::mpsc::UnboundedReceiver<()>,
        stop: futures_channel::oneshot::Receiver<()>,
    ) {
        let mut stop = stop.fuse();
        let session = session::session_id();
        // Messages taken from the queue but not yet written to an open socket.
        let mut unsent: VecDeque<ClientMessage> = VecDeque::new();
        let mut failures = 0u32;
        loop {
            let outcome = {
                let attempt = connect_once(&store, &session, &mut inbox, &mut unsent).fuse();
                futures_util::pin_mut!(attempt);
                select! {
                    outcome = attempt => outcome,
                    _ = stop => Outcome::Stopped,
                }
            };
            match outcome {
                Outcome::Stopped => {
                    log("stopped");
                    return;
                }
                Outcome::TakenOver => {
                    log("session taken over by another tab; not reconnecting");
                    store.status.set(ConnectionStatus::TakenOver);
                    select! {
                        _ = reclaim.next() => failures = 0,
                        _ = stop => return,
                    }
                }
                Outcome::Closed { was_open } => {
                    store.status.set(ConnectionStatus::Offline);
                    if was_open {
                        failures = 0;
                    }
                    failures += 1;
                    let mut delay = reconnect_delay_ms(failures);
                    if failures > 1 {
                        delay += (js_sys::Math::random() * f64::from(delay) * 0.25) as u32;
                    }
                    log(&format!("closed; reconnecting in {delay} ms"));
                    select! {
                        _ = TimeoutFuture::new(delay).fuse() => {},
                        _ = stop => return,
                    }
                }
            }
        }
    }

    fn socket_url(session: &str) -> Option<String> {
        let location = web_sys::window()?.location();
        let scheme = if location.protocol().ok()? == "https:" {
            "wss"
        } else {
            "ws"
        };
        Some(format!(
            "{scheme}://{}/api/axe/ws/{session}",
            location.host().ok()?
        ))
    }

    fn ping_frame() -> String {
        encode_client_frame(
            None,
            &ClientMessage::Ping {
                ts: serde_json::Number::from_f64(js_sys::Date::now()),
            },
        )
    }

    async fn connect_once(
        store: &AxeStore,
        session: &str,
        inbox: &mut UnboundedReceiver<ClientMessage>,
        unsent: &mut VecDeque<ClientMessage>,
    ) -> Outcome {
        store.status.set(ConnectionStatus::Connecting);
        let Some(url) = socket_url(session) else {
            return Outcome::Closed { was_open: false };
        };
        log(&format!("Connecting to: {url}"));
        let Ok(socket) = WebSocket::open(&url) else {
            return Outcome::Closed { was_open: false };
        };
        let (mut sink, stream) = socket.split();
        let mut stream = stream.fuse();
        // Writing waits until the socket is open, so a written ping means "connected".
        if sink.send(Message::Text(ping_frame())).await.is_err() {
            return Outcome::Closed { was_open: false };
        }
        log("Connected");
        store.status.set(ConnectionStatus::Connected);
        let mut awaiting_pong = TimeoutFuture::new(PONG_TIMEOUT_MS).fuse();
        let mut next_ping = TimeoutFuture::new(PING_INTERVAL_MS).fuse();

        loop {
            // Whatever an earlier attempt could not send goes first, in order.
            while let Some(message) = unsent.pop_front() {
                if sink
                    .send(Message::Text(encode_client_frame(None, &message)))
                    .await
                    .is_err()
                {
                    unsent.push_front(message);
                    return Outcome::Closed { was_open: true };
                }
            }
            select! {
                incoming = stream.next() => match incoming {
                    Some(Ok(Message::Text(text))) => {
                        if on_server_text(store, &text) {
                            awaiting_pong = futures_util::future::Fuse::terminated();
                        }
                    }
                    Some(Ok(Message::Bytes(_))) => log("ignored a binary frame"),
                    Some(Err(WebSocketError::ConnectionClose(event))) => {
                        log(&format!("Closed: {} {}", event.code, event.reason));
                        return if event.code == protocol::CLOSE_SESSION_TAKEN_OVER {
                            Outcome::TakenOver
                        } else {
                            Outcome::Closed { was_open: true }
                        };
                    }
                    Some(Err(_)) | None => return Outcome::Closed { was_open: true },
                },
                outgoing = inbox.next() => match outgoing {
                    Some(message) => unsent.push_back(message),
                    None => return Outcome::Stopped,
                },
                _ = next_ping => {
                    if sink.send(Message::Text(ping_frame())).await.is_err() {
                        return Outcome::Closed { was_open: true };
                    }
                    next_ping = TimeoutFuture::new(PING_INTERVAL_MS).fuse();
                    awaiting_pong = TimeoutFuture::new(PONG_TIMEOUT_MS).fuse();
                }
                _ = awaiting_pong => {
                    log("no pong in time; treating the connection as dead");
                    return Outcome::Closed { was_open: true };
                }
            }
        }
    }

    /// Applies one server message to the store; returns whether it was a pong.
    fn on_server_text(store: &AxeStore, text: &str) -> bool {
        let message: ServerMessage = match serde_json::from_str(text) {
            Ok(message) => message,
            Err(error) => {
                log(&format!("unreadable message from the server: {error}"));
                return false;
            }
        };
        match message {
            ServerMessage::ChatDelta { message_id, delta } => {
                match store.reply_entry(&message_id) {
                    Some(entry) => entry.text.update(|text| text.push_str(&delta)),
                    None => {
                        store.push_reply(
                            Author::Assistant,
                            delta,
                            Some(message_id),
                            EntryStatus::Streaming,
                        );
                    }
                }
            }
            ServerMessage::ChatResponse { message, metadata } => {
                let status = match metadata.finish_reason.as_str() {
                    "stopped" => EntryStatus::Stopped,
                    "error" => EntryStatus::Failed,
                    _ => EntryStatus::Complete,
                };
                store.model.set(Some(metadata.model));
                match store.reply_entry(&metadata.message_id) {
                    Some(entry) => {
                        entry.text.set(message);
                        entry.status.set(status);
                    }
                    None => {
                        store.push_reply(
                            Author::Assistant,
                            message,
                            Some(metadata.message_id),
                            status,
                        );
                    }
                }
                store.awaiting_reply.set(false);
            }
            ServerMessage::Diff(proposal) => store.diffs.update(|diffs| diffs.push(*proposal)),
            ServerMessage::FileUpdate { file_id, content } => store.file.update(|file| {
                if file.id == file_id {
                    file.content = content;
                }
            }),
            ServerMessage::DiffResolved { diff_id, .. } => {
                store
                    .diffs
                    .update(|diffs| diffs.retain(|d| d.diff_id != diff_id));
            }
            ServerMessage::Pong { .. } => return true,
            ServerMessage::Error { code, message } => {
                // A refused chat gets no reply; a failed model still sends its `chat_response`.
                if code != protocol::ErrorCode::ModelError {
                    store.awaiting_reply.set(false);
                }
                store.push_entry(Author::Notice, format!("⚠ {code}: {message}"));
            }
        }
        false
    }
}

#[cfg(test)]
mod tests {
    use super::reconnect_delay_ms;

    #[test]
    fn the_first_retry_is_three_seconds_and_later_ones_back_off_to_a_cap() {
        let schedule: Vec<u32> = (1..=7).map(reconnect_delay_ms).collect();
        assert_eq!(
            schedule,
            [3_000, 6_000, 12_000, 24_000, 30_000, 30_000, 30_000]
        );
        assert_eq!(reconnect_delay_ms(u32::MAX), 30_000);
    }
}
