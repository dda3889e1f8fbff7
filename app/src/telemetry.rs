//! The widget's telemetry: named events with their timings (page load → Connected, send →
//! ack, send → first token, a reply's length), batched and sent to `POST /api/axe/events`
//! every 10 s or every 20 events with `fetch(keepalive)` (so a closing page still sends),
//! dropped rather than hoarded while offline (at most [`MAX_QUEUED`] wait), and nothing at all
//! when the host opted out (`data-telemetry="off"`). The server anonymizes what it keeps; the
//! widget sends no text anyway, only names, numbers and short labels.
//!
//! Natively (tests) events are kept in memory and read back with [`take_recorded`].

use serde::Serialize;
use std::collections::HashMap;

/// Most events waiting to be sent; older ones are dropped first.
pub const MAX_QUEUED: usize = 60;

/// Events per batch that trigger a send at once.
pub const BATCH: usize = 20;

/// A property's value.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Prop {
    /// A short label.
    Text(String),
    /// A measurement in whole units, e.g. milliseconds (integers only: formatting floats
    /// would pull a float printer into the widget's wasm).
    Number(i64),
    /// A flag.
    Flag(bool),
}

/// One event, as sent.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Event {
    /// One of the server's known names.
    pub name: &'static str,
    /// When it happened, Unix milliseconds.
    pub ts: u64,
    /// The session it happened in.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub session_id: Option<String>,
    /// Its properties, sent as a JSON object. A list, not a map: a map's code (sorting,
    /// balancing, one copy per kind of iterator) cost the widget's wasm 26 KB for a handful
    /// of entries.
    #[serde(serialize_with = "props_as_object")]
    pub props: Vec<(&'static str, Prop)>,
}

fn props_as_object<S: serde::Serializer>(
    props: &[(&'static str, Prop)],
    serializer: S,
) -> Result<S::Ok, S::Error> {
    use serde::ser::SerializeMap;
    let mut map = serializer.serialize_map(Some(props.len()))?;
    for (key, value) in props {
        map.serialize_entry(key, value)?;
    }
    map.end()
}

impl Event {
    /// A `name` event now in `session`, with `props`.
    pub fn new(
        name: &'static str,
        session: Option<String>,
        props: Vec<(&'static str, Prop)>,
    ) -> Self {
        Self {
            name,
            ts: crate::clock::now_ms() as u64,
            session_id: session,
            props,
        }
    }
}

/// The timings kept between the events that measure them.
#[derive(Debug, Default)]
struct Clocks {
    /// When each unacknowledged message was sent, by id.
    /// (A `HashMap<String, f64>` like the pacer's, so the wasm carries one copy of its code.)
    sent: HashMap<String, f64>,
    /// When the last chat was sent, until its reply's first token.
    chat_sent: Option<f64>,
    /// When the reply in progress started to arrive.
    reply_started: Option<f64>,
    /// When the connection was lost, until it is back.
    lost_at: Option<f64>,
    /// Whether the first connect was reported.
    connected_once: bool,
}

thread_local! {
    static CLOCKS: std::cell::RefCell<Clocks> = std::cell::RefCell::default();
}

fn clocks<T>(change: impl FnOnce(&mut Clocks) -> T) -> T {
    CLOCKS.with_borrow_mut(change)
}

fn ms(value: f64) -> Prop {
    Prop::Number(value.max(0.0).round() as i64)
}

/// A state-changing message `id` went out.
pub fn message_sent(id: &str, kind: &'static str, session: Option<String>) {
    let now = crate::clock::now_ms();
    clocks(|c| {
        // A message resent keeps its first time.
        c.sent.entry(id.to_owned()).or_insert(now);
        if kind == "chat" {
            c.chat_sent = Some(now);
        }
    });
    record(Event::new(
        "message_sent",
        session,
        vec![("kind", Prop::Text(kind.into()))],
    ));
}

/// The server acknowledged `id`.
pub fn message_acked(id: &str, session: Option<String>) {
    let now = crate::clock::now_ms();
    if let Some(sent) = clocks(|c| c.sent.remove(id)) {
        record(Event::new(
            "message_acked",
            session,
            vec![("ms", ms(now - sent))],
        ));
    }
}

/// A reply's text began or went on arriving.
pub fn reply_piece(session: Option<String>) {
    let now = crate::clock::now_ms();
    let first = clocks(|c| {
        if c.reply_started.is_some() {
            return None;
        }
        c.reply_started = Some(now);
        Some(c.chat_sent.take())
    });
    if let Some(sent) = first {
        let props = sent
            .map(|sent| ("ms", ms(now - sent)))
            .into_iter()
            .collect();
        record(Event::new("reply_first_token", session, props));
    }
}

/// A reply ended for `reason` (one asked for in this page: replays of old ones are not).
pub fn reply_done(reason: &str, session: Option<String>) {
    let now = crate::clock::now_ms();
    let (asked, started) = clocks(|c| (c.chat_sent.take().is_some(), c.reply_started.take()));
    if !asked && started.is_none() {
        return;
    }
    let mut props = vec![("finish_reason", Prop::Text(reason.into()))];
    if let Some(started) = started {
        props.push(("ms", ms(now - started)));
    }
    record(Event::new("reply_done", session, props));
}

/// The connection is up; `since_page_load` ms after the page started, for the first time.
pub fn connected(since_page_load: f64, session: Option<String>) {
    let now = crate::clock::now_ms();
    let (first, lost_at) = clocks(|c| {
        let first = !c.connected_once;
        c.connected_once = true;
        (first, c.lost_at.take())
    });
    if first {
        record(Event::new(
            "connected",
            session.clone(),
            vec![("ms", ms(since_page_load))],
        ));
    }
    if let Some(lost_at) = lost_at {
        record(Event::new(
            "reconnected",
            session,
            vec![("ms", ms(now - lost_at))],
        ));
    }
}

/// The connection was lost (it had been up).
pub fn connection_lost(session: Option<String>) {
    let now = crate::clock::now_ms();
    let fresh = clocks(|c| c.lost_at.is_none().then(|| c.lost_at = Some(now)).is_some());
    if fresh {
        record(Event::new("connection_lost", session, Vec::new()));
    }
}

/// Records `event` (sent with the next batch).
pub fn record(event: Event) {
    imp::record(event);
}

#[cfg(not(feature = "browser"))]
mod imp {
    use super::Event;
    use std::cell::RefCell;

    thread_local! {
        static RECORDED: RefCell<Vec<Event>> = const { RefCell::new(Vec::new()) };
    }

    pub fn record(event: Event) {
        RECORDED.with_borrow_mut(|events| events.push(event));
    }

    /// The events recorded on this thread since the last call.
    pub fn take_recorded() -> Vec<Event> {
        RECORDED.with_borrow_mut(std::mem::take)
    }
}

#[cfg(not(feature = "browser"))]
pub use imp::take_recorded;

#[cfg(feature = "browser")]
pub use imp::{enable, flush};

#[cfg(feature = "browser")]
mod imp {
    use super::{Event, BATCH, MAX_QUEUED};
    use std::cell::RefCell;
    use wasm_bindgen::{closure::Closure, JsCast, JsValue};

    /// How often waiting events are sent.
    const EVERY_MS: i32 = 10_000;

    /// The request body: `{"events": [...]}`.
    #[derive(serde::Serialize)]
    struct Batch<'a> {
        events: &'a [Event],
    }

    #[derive(Default)]
    struct Sender {
        enabled: bool,
        queue: Vec<Event>,
        started: bool,
    }

    thread_local! {
        static SENDER: RefCell<Sender> = RefCell::default();
    }

    /// Turns telemetry on (the host did not opt out); without it nothing is recorded.
    pub fn enable(on: bool) {
        SENDER.with_borrow_mut(|s| s.enabled = on);
    }

    pub fn record(event: Event) {
        let (full, start) = SENDER.with_borrow_mut(|s| {
            if !s.enabled {
                return (false, false);
            }
            s.queue.push(event);
            let over = s.queue.len().saturating_sub(MAX_QUEUED);
            s.queue.drain(..over);
            let start = !s.started;
            s.started = true;
            (s.queue.len() >= BATCH, start)
        });
        if start {
            start_timers();
        }
        if full {
            flush();
        }
    }

    /// Every 10 s, and when the page is hidden (closing, switching tabs): send what waits.
    fn start_timers() {
        let Some(window) = web_sys::window() else {
            return;
        };
        let tick = Closure::<dyn Fn()>::new(flush);
        let _ = window.set_interval_with_callback_and_timeout_and_arguments_0(
            tick.as_ref().unchecked_ref(),
            EVERY_MS,
        );
        tick.forget();
        if let Some(document) = window.document() {
            let hidden = Closure::<dyn Fn()>::new(|| {
                let hidden = web_sys::window()
                    .and_then(|w| w.document())
                    .is_some_and(|d| d.visibility_state() == web_sys::VisibilityState::Hidden);
                if hidden {
                    flush();
                }
            });
            let _ = document.add_event_listener_with_callback(
                "visibilitychange",
                hidden.as_ref().unchecked_ref(),
            );
            hidden.forget();
        }
    }

    /// Sends what waits, with `keepalive` so it survives the page closing. A failed send puts
    /// the events back (the oldest dropped beyond the cap).
    pub fn flush() {
        let batch = SENDER.with_borrow_mut(|s| std::mem::take(&mut s.queue));
        if batch.is_empty() {
            return;
        }
        let Some(credentials) = crate::credentials::Credentials::load() else {
            requeue(batch);
            return;
        };
        // Serialized straight from the typed batch: a `json!` tree would bring serde_json's
        // `Value` machinery back into the wasm.
        let Ok(body) = serde_json::to_string(&Batch { events: &batch }) else {
            return;
        };
        let init = web_sys::RequestInit::new();
        init.set_method("POST");
        // `keepalive`: the request outlives the page (web-sys has no setter for it here).
        let _ = js_sys::Reflect::set(&init, &JsValue::from_str("keepalive"), &JsValue::TRUE);
        init.set_body(&JsValue::from_str(&body));
        let Ok(headers) = web_sys::Headers::new() else {
            return;
        };
        let _ = headers.set("Content-Type", "application/json");
        let _ = headers.set("Authorization", &format!("Bearer {}", credentials.token));
        init.set_headers(&headers);
        let url = format!("{}/api/axe/events", crate::host::server_origin());
        let Some(window) = web_sys::window() else {
            return;
        };
        let sent = window.fetch_with_str_and_init(&url, &init);
        leptos::task::spawn_local(async move {
            let ok = wasm_bindgen_futures::JsFuture::from(sent)
                .await
                .ok()
                .and_then(|r| r.dyn_into::<web_sys::Response>().ok())
                .is_some_and(|r| r.ok() || r.status() == 400);
            // 400: the server will never take these; anything else may pass later.
            if !ok {
                requeue(batch);
            }
        });
    }

    fn requeue(batch: Vec<Event>) {
        SENDER.with_borrow_mut(|s| {
            let mut events = batch;
            events.append(&mut s.queue);
            let over = events.len().saturating_sub(MAX_QUEUED);
            events.drain(..over);
            s.queue = events;
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timings_measure_from_the_event_that_starts_them() {
        let _ = take_recorded();
        message_sent("c-1", "chat", Some("s-1".into()));
        reply_piece(Some("s-1".into()));
        reply_piece(Some("s-1".into()));
        message_acked("c-1", Some("s-1".into()));
        message_acked("c-unknown", None);
        reply_done("stop", Some("s-1".into()));
        let names: Vec<&str> = take_recorded().iter().map(|e| e.name).collect();
        assert_eq!(
            names,
            [
                "message_sent",
                "reply_first_token",
                "message_acked",
                "reply_done"
            ],
            "one first token per reply; no ack for a message never sent"
        );
        connection_lost(None);
        connection_lost(None);
        connected(120.0, None);
        connected(0.0, None);
        let events = take_recorded();
        let names: Vec<&str> = events.iter().map(|e| e.name).collect();
        assert_eq!(names, ["connection_lost", "connected", "reconnected"]);
        assert_eq!(events[1].props, [("ms", Prop::Number(120))]);
    }

    #[test]
    fn events_serialize_as_the_server_reads_them() {
        let event = Event {
            name: "view_changed",
            ts: 5,
            session_id: None,
            props: vec![
                ("view", Prop::Text("canvas".into())),
                ("ms", Prop::Number(3)),
            ],
        };
        assert_eq!(
            serde_json::to_value(&event).unwrap(),
            serde_json::json!({"name": "view_changed", "ts": 5, "props": {"ms": 3, "view": "canvas"}})
        );
    }
}
