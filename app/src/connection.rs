//! The browser's connection to the server (the Rust `useAxeWebSocket`): connect on mount, a ping
//! every 30 s, a dead link detected by a missing pong, reconnect 3 s after a close with backoff
//! after repeated failures, no reconnect after a take-over, everything closed on unmount.
//!
//! Nothing is lost: each (re)connect names the newest history `seq` this page has, so the
//! server replays what was missed first; then the outbox (unacknowledged messages, kept in
//! localStorage) goes out again in order, paced by [`crate::pacer`] (resent with the same id if
//! unacknowledged, held back while the server asks the widget to wait).
//!
//! Trust: the socket opens with the session's token as a subprotocol ([`crate::credentials`]
//! keeps them). A socket that fails to open makes the widget ask the server why: a refused
//! token gets a fresh one (or, anonymous and expired, a new session, with the unsent messages
//! moved to it); a session of another account is shown as such and not retried; anything else
//! is retried on the schedule.
//!
//! Transport only: what each frame means is [`crate::reducer`]'s business. Runs only in the
//! browser (`hydrate`); on the server [`start`] does nothing.

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
#[cfg(not(feature = "browser"))]
pub fn start(_store: crate::store::AxeStore) {}

#[cfg(feature = "browser")]
pub use browser::start;

#[cfg(feature = "browser")]
mod browser {
    use super::{reconnect_delay_ms, PING_INTERVAL_MS, PONG_TIMEOUT_MS};
    use crate::{
        api,
        credentials::{self, Access, Credentials},
        history,
        reducer::{self, Received},
        store::{Author, AxeStore, ConnectionStatus, Outgoing},
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

    fn now_secs() -> u64 {
        (js_sys::Date::now() / 1000.0) as u64
    }

    /// How one connection attempt ended.
    enum Outcome {
        /// The socket closed or failed; `was_open` tells whether the server had answered.
        Closed { was_open: bool },
        /// The server closed with the take-over code.
        TakenOver,
        /// The server closed because the token expired: get a fresh one and come back at once.
        TokenExpired,
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
        // Forwards "take it back" / "start again" clicks to the task; skips the first run.
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

    /// Where the widget's tokens come from.
    enum Source {
        /// The server mints them (anonymous mode).
        Anonymous,
        /// The host page's token callback (`AXE.configure({getToken})`).
        Host(js_sys::Function),
    }

    impl Source {
        fn detect() -> Self {
            crate::host::token_source().map_or(Self::Anonymous, Self::Host)
        }

        /// Credentials to connect with: those kept, refreshed when due; else a session made
        /// (or, for an older widget's session id, claimed).
        async fn credentials(
            &self,
            kept: Option<Credentials>,
        ) -> Result<Credentials, api::Failure> {
            match self {
                Self::Anonymous => match kept {
                    Some(kept) if !kept.needs_refresh(now_secs()) => Ok(kept),
                    Some(kept) => api::refresh(&kept).await,
                    None => {
                        let legacy = credentials::legacy_session();
                        api::create_session(None, legacy.as_deref()).await
                    }
                },
                Self::Host(source) => {
                    let token = api::host_token(source)
                        .await
                        .ok_or(api::Failure::Status(401))?;
                    match kept {
                        Some(kept) => Ok(Credentials {
                            token,
                            expires_at: 0,
                            ..kept
                        }),
                        None => api::create_session(Some(&token), None).await,
                    }
                }
            }
        }

        /// After a 401: anonymous mode starts a new session of a fresh subject (the old token
        /// can no longer be refreshed); the host is asked for a token again.
        async fn after_sign_in_expired(
            &self,
            kept: Credentials,
        ) -> Result<Credentials, api::Failure> {
            match self {
                Self::Anonymous => api::create_session(None, None).await,
                Self::Host(_) => self.credentials(Some(kept)).await,
            }
        }
    }

    /// What the person is told when the widget moves to a new session.
    const AFTER_EXPIRY: &str =
        "Your sign-in expired, so this is a new conversation. Unsent changes were kept and go to it.";
    const AFTER_FORBIDDEN: &str = "This is a new conversation of your own.";

    /// Adopts `fresh` credentials: keeps them, and shows their session. When the page showed
    /// (or had kept) another session, the unsent messages move there, the conversation starts
    /// afresh and the person is told `why`; otherwise what the tab kept of the session comes
    /// back, so the connect names its real `last_seq`.
    fn adopt(store: &AxeStore, previous: Option<&Credentials>, fresh: &Credentials, why: &str) {
        if !fresh.save() {
            log("this browser would not keep the session; it lasts as long as the page");
        }
        if store.session().as_deref() == Some(fresh.session_id.as_str()) {
            return;
        }
        if store.session().is_none() {
            match previous.filter(|p| p.session_id != fresh.session_id) {
                // Its unsent messages are loaded first, to move with the widget.
                Some(previous) => store.restore_outbox(&previous.session_id),
                None => return restore_session(store, &fresh.session_id),
            }
        }
        store.move_to_session(&fresh.session_id);
        store.push_entry(Author::Notice, why.into());
    }

    /// Shows what this tab kept of `session` (its conversation, and the unsent messages on
    /// top), so a reload reconnects with its real `last_seq`.
    fn restore_session(store: &AxeStore, session: &str) {
        if let Some(saved) = history::load(session) {
            history::restore(store, saved);
        }
        store.restore_outbox(session);
    }

    async fn run(
        store: AxeStore,
        mut wire: UnboundedReceiver<Outgoing>,
        mut reclaim: futures_channel::mpsc::UnboundedReceiver<()>,
        stop: futures_channel::oneshot::Receiver<()>,
    ) {
        let mut stop = stop.fuse();
        let mut current: Option<Credentials> = None;
        let mut failures = 0u32;
        loop {
            // Looked up on every attempt: the host may configure its token source after the
            // widget mounted.
            let source = Source::detect();
            let kept = current.clone().or_else(Credentials::load);
            let fresh = {
                let asking = source.credentials(kept.clone()).fuse();
                futures_util::pin_mut!(asking);
                select! {
                    fresh = asking => fresh,
                    _ = stop => return,
                }
            };
            let credentials = match fresh {
                Ok(fresh) => {
                    adopt(
                        &store,
                        current.as_ref().or(kept.as_ref()),
                        &fresh,
                        AFTER_EXPIRY,
                    );
                    current = Some(fresh.clone());
                    fresh
                }
                Err(api::Failure::Status(401)) if matches!(source, Source::Host(_)) => {
                    store.status.set(ConnectionStatus::SignInExpired);
                    select! {
                        _ = reclaim.next() => { failures = 0; continue; }
                        _ = stop => return,
                    }
                }
                Err(failure) => {
                    // The server is down or refused a new session: as for a failed connect.
                    log(&format!("no credentials yet ({failure:?})"));
                    if let Some(kept) = kept.as_ref().filter(|_| store.session().is_none()) {
                        restore_session(&store, &kept.session_id);
                    }
                    store.status.set(ConnectionStatus::Offline);
                    failures += 1;
                    if !wait_to_retry(failures, &mut stop).await {
                        return;
                    }
                    continue;
                }
            };
            let outcome = {
                let attempt = connect_once(&store, &credentials, &mut wire).fuse();
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
                Outcome::TokenExpired => {
                    log("the token expired; reconnecting with a fresh one");
                    current = Some(Credentials {
                        expires_at: 0,
                        ..credentials
                    });
                }
                Outcome::Closed { was_open } => {
                    store.status.set(ConnectionStatus::Offline);
                    if was_open {
                        failures = 0;
                    } else {
                        // A browser cannot see why an upgrade was refused: ask.
                        match Access::from_status(api::check(&credentials).await) {
                            Access::SignInExpired => {
                                log("the token was refused");
                                match source.after_sign_in_expired(credentials.clone()).await {
                                    Ok(fresh) => {
                                        adopt(&store, Some(&credentials), &fresh, AFTER_EXPIRY);
                                        current = Some(fresh);
                                        continue;
                                    }
                                    Err(_) => {
                                        store.status.set(ConnectionStatus::SignInExpired);
                                        select! {
                                            _ = reclaim.next() => { failures = 0; continue; }
                                            _ = stop => return,
                                        }
                                    }
                                }
                            }
                            Access::Forbidden => {
                                log("the session belongs to another account");
                                store.status.set(ConnectionStatus::Forbidden);
                                select! {
                                    _ = reclaim.next() => {
                                        // "Start a new conversation".
                                        failures = 0;
                                        if let Ok(fresh) = source.after_sign_in_expired(credentials.clone()).await {
                                            adopt(&store, Some(&credentials), &fresh, AFTER_FORBIDDEN);
                                            current = Some(fresh);
                                        }
                                        continue;
                                    }
                                    _ = stop => return,
                                }
                            }
                            Access::Granted | Access::Unreachable => {}
                        }
                    }
                    failures += 1;
                    if !wait_to_retry(failures, &mut stop).await {
                        return;
                    }
                }
            }
        }
    }

    /// Waits out the reconnect schedule for attempt `failures`; `false` if the widget stopped.
    async fn wait_to_retry(
        failures: u32,
        mut stop: &mut futures_util::future::Fuse<futures_channel::oneshot::Receiver<()>>,
    ) -> bool {
        let mut delay = reconnect_delay_ms(failures);
        if failures > 1 {
            delay += (js_sys::Math::random() * f64::from(delay) * 0.25) as u32;
        }
        log(&format!("closed; reconnecting in {delay} ms"));
        select! {
            _ = TimeoutFuture::new(delay).fuse() => true,
            _ = stop => false,
        }
    }

    /// The session's socket on AXE's server (which may be another origin than the page's).
    fn socket_url(session: &str, last_seq: u64) -> Option<String> {
        let origin = crate::host::server_origin();
        let (scheme, host) = if let Some(host) = origin.strip_prefix("https://") {
            ("wss", host)
        } else {
            ("ws", origin.strip_prefix("http://")?)
        };
        Some(format!(
            "{scheme}://{host}/api/axe/ws/{session}?last_seq={last_seq}"
        ))
    }

    fn ping_frame() -> String {
        encode_client_frame(
            None,
            &ClientMessage::Ping {
                // Whole milliseconds: an integer needs no float formatting in the widget.
                ts: Some(serde_json::Number::from(js_sys::Date::now() as u64)),
            },
        )
    }

    /// Sends what the pacer says is due; returns when to look again, or `Err` if the socket
    /// failed.
    async fn pump<S>(store: &AxeStore, sink: &mut S) -> Result<Option<f64>, ()>
    where
        S: futures_util::Sink<Message> + Unpin,
    {
        let pending = store.pending_ids();
        let now = js_sys::Date::now();
        let due = store.pacer.try_update_value(|p| p.due(&pending, now));
        let Some(due) = due else { return Ok(None) };
        store
            .paused_until
            .set(store.pacer.with_value(|p| p.paused_until(now)));
        for id in due.send {
            if let Some(frame) = store.frame_to_send(&id) {
                sink.send(Message::Text(frame)).await.map_err(|_| ())?;
            }
        }
        Ok(due.next_at)
    }

    /// A timer for the pacer's next look, or one that never fires.
    fn pump_timer(at: Option<f64>) -> futures_util::future::Fuse<TimeoutFuture> {
        match at {
            Some(at) => {
                let wait = (at - js_sys::Date::now()).clamp(0.0, 3_600_000.0) as u32;
                TimeoutFuture::new(wait).fuse()
            }
            None => futures_util::future::Fuse::terminated(),
        }
    }

    async fn connect_once(
        store: &AxeStore,
        credentials: &Credentials,
        wire: &mut UnboundedReceiver<Outgoing>,
    ) -> Outcome {
        store.status.set(ConnectionStatus::Connecting);
        let Some(url) = socket_url(&credentials.session_id, store.last_seq.get_value()) else {
            return Outcome::Closed { was_open: false };
        };
        log(&format!("Connecting to: {url}"));
        // Browsers cannot set headers on a WebSocket: the token travels as a subprotocol.
        let bearer = format!(
            "{}{}",
            protocol::BEARER_SUBPROTOCOL_PREFIX,
            credentials.token
        );
        let Ok(socket) =
            WebSocket::open_with_protocols(&url, &[protocol::SUBPROTOCOL, bearer.as_str()])
        else {
            return Outcome::Closed { was_open: false };
        };
        let (mut sink, stream) = socket.split();
        let mut stream = stream.fuse();
        if sink.send(Message::Text(ping_frame())).await.is_err() {
            return Outcome::Closed { was_open: false };
        }
        // Connected only once the server has answered: a socket the browser failed to open can
        // accept a write before its failure is reported.
        let mut answered = false;
        // What waited for the socket is in the outbox (sent by the pacer) or was a `stop` for
        // a reply that is over by now.
        while wire.try_recv().is_ok() {}
        store.pacer.update_value(|p| p.reconnected());
        let mut next_pump = futures_util::future::Fuse::terminated();
        let mut awaiting_pong = TimeoutFuture::new(PONG_TIMEOUT_MS).fuse();
        let mut next_ping = TimeoutFuture::new(PING_INTERVAL_MS).fuse();
        let closed = |answered: bool| Outcome::Closed { was_open: answered };

        loop {
            select! {
                incoming = stream.next() => match incoming {
                    Some(Ok(Message::Text(text))) => {
                        if !answered {
                            answered = true;
                            log("Connected");
                            store.status.set(ConnectionStatus::Connected);
                            match pump(store, &mut sink).await {
                                Ok(at) => next_pump = pump_timer(at),
                                Err(()) => return closed(answered),
                            }
                        }
                        match reducer::receive(store, &text) {
                            Received::Pong => awaiting_pong = futures_util::future::Fuse::terminated(),
                            Received::Unreadable(why) => log(&format!("unreadable message from the server: {why}")),
                            Received::Applied | Received::Repeated => {}
                        }
                    }
                    Some(Ok(Message::Bytes(_))) => log("ignored a binary frame"),
                    Some(Err(WebSocketError::ConnectionClose(event))) => {
                        log(&format!("Closed: {} {}", event.code, event.reason));
                        return match event.code {
                            protocol::CLOSE_SESSION_TAKEN_OVER => Outcome::TakenOver,
                            protocol::CLOSE_TOKEN_EXPIRED => Outcome::TokenExpired,
                            _ => closed(answered),
                        };
                    }
                    Some(Err(_)) | None => return closed(answered),
                },
                outgoing = wire.next() => match outgoing {
                    Some(Outgoing::Now(frame)) => {
                        if sink.send(Message::Text(frame)).await.is_err() {
                            return closed(answered);
                        }
                    }
                    Some(Outgoing::Outbox) => {
                        if answered {
                            match pump(store, &mut sink).await {
                                Ok(at) => next_pump = pump_timer(at),
                                Err(()) => return closed(answered),
                            }
                        }
                    }
                    None => return Outcome::Stopped,
                },
                _ = next_pump => {
                    match pump(store, &mut sink).await {
                        Ok(at) => next_pump = pump_timer(at),
                        Err(()) => return closed(answered),
                    }
                }
                _ = next_ping => {
                    if sink.send(Message::Text(ping_frame())).await.is_err() {
                        return closed(answered);
                    }
                    next_ping = TimeoutFuture::new(PING_INTERVAL_MS).fuse();
                    awaiting_pong = TimeoutFuture::new(PONG_TIMEOUT_MS).fuse();
                }
                _ = awaiting_pong => {
                    log("no pong in time; treating the connection as dead");
                    return closed(answered);
                }
            }
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
