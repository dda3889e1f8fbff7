//! The browser's connection to the server (the Rust `useAxeWebSocket`): connect on mount, a ping
//! every 30 s, a dead link detected by a missing pong, reconnect 3 s after a close with backoff
//! after repeated failures, no reconnect after a take-over, everything closed on unmount.
//!
//! Nothing is lost: each (re)connect names the newest history `seq` this page has, so the
//! server replays what was missed first; then the outbox (unacknowledged messages, kept in
//! localStorage) is sent again in order, and anything still unacknowledged after
//! [`RESEND_AFTER_MS`] is sent again with the same id.
//!
//! Transport only: what each frame means is [`crate::reducer`]'s business. Runs only in the
//! browser (`hydrate`); on the server [`start`] does nothing.

/// Milliseconds between keep-alive pings.
pub const PING_INTERVAL_MS: u32 = 30_000;
/// A ping unanswered for this long means the link is dead.
pub const PONG_TIMEOUT_MS: u32 = 10_000;
/// A message unacknowledged for this long (while connected) is sent again, with the same id.
pub const RESEND_AFTER_MS: u32 = 10_000;

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
    use super::{reconnect_delay_ms, PING_INTERVAL_MS, PONG_TIMEOUT_MS, RESEND_AFTER_MS};
    use crate::{
        reducer::{self, Received},
        session,
        store::{AxeStore, ConnectionStatus},
    };
    use futures_channel::mpsc::UnboundedReceiver;
    use futures_util::{future::FutureExt, select, SinkExt, StreamExt};
    use gloo_net::websocket::{futures::WebSocket, Message, WebSocketError};
    use gloo_timers::future::TimeoutFuture;
    use leptos::prelude::*;
    use protocol::{encode_client_frame, ClientMessage};

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
        let Some(wire) = store.take_wire() else {
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
        leptos::task::spawn_local(run(store, wire, reclaim_rx, stop_rx));
    }

    async fn run(
        store: AxeStore,
        mut wire: UnboundedReceiver<String>,
        mut reclaim: futures_channel::mpsc::UnboundedReceiver<()>,
        stop: futures_channel::oneshot::Receiver<()>,
    ) {
        let mut stop = stop.fuse();
        let session = session::session_id();
        store.restore_outbox(&session);
        let mut failures = 0u32;
        loop {
            let outcome = {
                let attempt = connect_once(&store, &session, &mut wire).fuse();
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

    fn socket_url(session: &str, last_seq: u64) -> Option<String> {
        let location = web_sys::window()?.location();
        let scheme = if location.protocol().ok()? == "https:" {
            "wss"
        } else {
            "ws"
        };
        Some(format!(
            "{scheme}://{}/api/axe/ws/{session}?last_seq={last_seq}",
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
        wire: &mut UnboundedReceiver<String>,
    ) -> Outcome {
        store.status.set(ConnectionStatus::Connecting);
        let Some(url) = socket_url(session, store.last_seq.get_value()) else {
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
        // What waited for the socket is in the outbox (sent next, in order) or was a `stop`
        // for a reply that is over by now.
        while wire.try_recv().is_ok() {}
        let queued: Vec<String> = store
            .outbox
            .with_untracked(|o| o.pending.iter().map(|p| p.frame.clone()).collect());
        if !queued.is_empty() {
            log(&format!("sending {} queued messages", queued.len()));
        }
        for frame in queued {
            if sink.send(Message::Text(frame)).await.is_err() {
                return Outcome::Closed { was_open: true };
            }
        }
        let mut awaiting_pong = TimeoutFuture::new(PONG_TIMEOUT_MS).fuse();
        let mut next_ping = TimeoutFuture::new(PING_INTERVAL_MS).fuse();
        let mut next_resend = TimeoutFuture::new(RESEND_AFTER_MS).fuse();
        // Ids already waiting at the last resend check: still waiting at the next one means
        // unacknowledged for a whole interval.
        let mut waiting: Vec<String> = pending_ids(store);

        loop {
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
                outgoing = wire.next() => match outgoing {
                    Some(frame) => {
                        if sink.send(Message::Text(frame)).await.is_err() {
                            return Outcome::Closed { was_open: true };
                        }
                    }
                    None => return Outcome::Stopped,
                },
                _ = next_resend => {
                    let overdue: Vec<String> = store.outbox.with_untracked(|o| {
                        o.pending
                            .iter()
                            .filter(|p| waiting.contains(&p.id))
                            .map(|p| p.frame.clone())
                            .collect()
                    });
                    for frame in overdue {
                        log("resending an unacknowledged message");
                        if sink.send(Message::Text(frame)).await.is_err() {
                            return Outcome::Closed { was_open: true };
                        }
                    }
                    waiting = pending_ids(store);
                    next_resend = TimeoutFuture::new(RESEND_AFTER_MS).fuse();
                }
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

    fn pending_ids(store: &AxeStore) -> Vec<String> {
        store
            .outbox
            .with_untracked(|o| o.pending.iter().map(|p| p.id.clone()).collect())
    }

    /// Applies one server frame to the store; returns whether it was a pong.
    fn on_server_text(store: &AxeStore, text: &str) -> bool {
        match reducer::receive(store, text) {
            Received::Pong => true,
            Received::Unreadable(why) => {
                log(&format!("unreadable message from the server: {why}"));
                false
            }
            Received::Applied | Received::Repeated => false,
        }
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
