//! Telemetry from widgets: what a batch may hold, why one is refused, and what is kept of each
//! event once personal data is gone ([`anonymize`]).

pub mod anonymize;

use serde::Deserialize;
use serde_json::{Map, Value};
use std::fmt;

/// Most events in one request.
pub const MAX_EVENTS: usize = 100;

/// Largest request body, in bytes.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// Most properties on one event.
const MAX_PROPS: usize = 32;

/// Longest property name.
const MAX_PROP_NAME: usize = 64;

/// The events a widget may report.
pub const EVENT_NAMES: &[&str] = &[
    "widget_opened",
    "widget_closed",
    "view_changed",
    "message_sent",
    "message_acked",
    "reply_first_token",
    "reply_done",
    "diff_shown",
    "diff_applied",
    "diff_rejected",
    "connected",
    "connection_lost",
    "reconnected",
    "session_taken_over",
];

/// A request's body as sent.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Batch {
    /// The events, oldest first.
    pub events: Vec<Value>,
}

/// One event, checked.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    /// One of [`EVENT_NAMES`].
    pub name: String,
    /// When the widget saw it, Unix milliseconds.
    pub ts: i64,
    /// The session it happened in, if any.
    pub session_id: Option<String>,
    /// Its properties: strings (anonymized), numbers, booleans.
    pub props: Map<String, Value>,
}

/// Why a batch was refused: which event, and what was wrong with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// The index of the first bad event, when one is to blame.
    pub index: Option<usize>,
    /// What was wrong.
    pub reason: String,
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.index {
            Some(index) => write!(f, "event {index}: {}", self.reason),
            None => f.write_str(&self.reason),
        }
    }
}

fn refuse(index: usize, reason: impl Into<String>) -> Refusal {
    Refusal {
        index: Some(index),
        reason: reason.into(),
    }
}

/// Reads a request body into events, or says what the first problem is.
pub fn parse(body: &[u8]) -> Result<Vec<Event>, Refusal> {
    if body.len() > MAX_BODY_BYTES {
        return Err(Refusal {
            index: None,
            reason: format!("the body is over {MAX_BODY_BYTES} bytes"),
        });
    }
    let batch: Batch = serde_json::from_slice(body).map_err(|e| Refusal {
        index: None,
        reason: format!("expected {{\"events\": [...]}}: {e}"),
    })?;
    if batch.events.len() > MAX_EVENTS {
        return Err(Refusal {
            index: None,
            reason: format!("at most {MAX_EVENTS} events per request"),
        });
    }
    batch
        .events
        .into_iter()
        .enumerate()
        .map(|(index, event)| event_of(index, event))
        .collect()
}

fn event_of(index: usize, value: Value) -> Result<Event, Refusal> {
    let Value::Object(mut object) = value else {
        return Err(refuse(index, "an event must be an object"));
    };
    let name = match object.remove("name") {
        Some(Value::String(name)) if EVENT_NAMES.contains(&name.as_str()) => name,
        Some(Value::String(name)) => {
            return Err(refuse(
                index,
                format!(
                    "unknown event name {name:?}; known: {}",
                    EVENT_NAMES.join(", ")
                ),
            ))
        }
        _ => return Err(refuse(index, "\"name\" must be a string")),
    };
    let ts = match object.remove("ts") {
        Some(Value::Number(ts)) => ts
            .as_i64()
            .or_else(|| ts.as_f64().map(|f| f as i64))
            .filter(|ts| *ts > 0)
            .ok_or_else(|| refuse(index, "\"ts\" must be a positive time in milliseconds"))?,
        _ => return Err(refuse(index, "\"ts\" must be a number (Unix milliseconds)")),
    };
    let session_id = match object.remove("session_id") {
        None | Some(Value::Null) => None,
        Some(Value::String(id)) if protocol::SessionId::parse(&id).is_ok() => Some(id),
        Some(_) => return Err(refuse(index, "\"session_id\" must be a session id")),
    };
    let props = match object.remove("props") {
        None | Some(Value::Null) => Map::new(),
        Some(Value::Object(props)) => props,
        Some(_) => return Err(refuse(index, "\"props\" must be an object")),
    };
    if let Some(other) = object.keys().next() {
        return Err(refuse(index, format!("unknown field {other:?}")));
    }
    if props.len() > MAX_PROPS {
        return Err(refuse(index, format!("at most {MAX_PROPS} props")));
    }
    let mut kept = Map::new();
    for (key, value) in props {
        if key.is_empty()
            || key.len() > MAX_PROP_NAME
            || !key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
        {
            return Err(refuse(
                index,
                format!("prop name {key:?} is not [A-Za-z0-9_]{{1,64}}"),
            ));
        }
        match value {
            Value::String(text) => {
                // Too long to be anything but content: dropped, never stored.
                if let Some(text) = anonymize::scrub(&text) {
                    kept.insert(key, Value::String(text));
                }
            }
            Value::Number(_) | Value::Bool(_) => {
                kept.insert(key, value);
            }
            _ => {
                return Err(refuse(
                    index,
                    format!("prop {key:?} must be a string, a number or a boolean"),
                ))
            }
        }
    }
    Ok(Event {
        name,
        ts,
        session_id,
        props: kept,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refusal(body: &str) -> Refusal {
        parse(body.as_bytes()).unwrap_err()
    }

    #[test]
    fn a_good_batch_is_read_and_its_strings_scrubbed() {
        let events = parse(
            br#"{"events":[{"name":"widget_opened","ts":1795958844459,"session_id":"s-1",
                "props":{"view":"panel","ms":523,"first":true,"from":"mail me at a.b@example.com"}}]}"#,
        )
        .unwrap();
        assert_eq!(events.len(), 1);
        assert_eq!(events[0].props["view"], "panel");
        assert_eq!(events[0].props["ms"], 523);
        assert_eq!(events[0].props["from"], "mail me at [email]");
    }

    #[test]
    fn every_refusal_names_its_reason_and_the_first_bad_event() {
        let good = r#"{"name":"widget_opened","ts":1}"#;
        assert_eq!(refusal("not json").index, None);
        assert_eq!(refusal(r#"{"events":[],"extra":1}"#).index, None);
        let bad = |event: &str| refusal(&format!(r#"{{"events":[{good},{event}]}}"#));
        assert_eq!(bad(r#"{"name":"launch_missiles","ts":1}"#).index, Some(1));
        assert!(bad(r#"{"name":"launch_missiles","ts":1}"#)
            .reason
            .contains("unknown event name"));
        assert!(bad(r#"{"name":"widget_opened"}"#).reason.contains("\"ts\""));
        assert!(bad(r#"{"name":"widget_opened","ts":-5}"#)
            .reason
            .contains("\"ts\""));
        assert!(
            bad(r#"{"name":"widget_opened","ts":1,"session_id":"no spaces"}"#)
                .reason
                .contains("session_id")
        );
        assert!(bad(r#"{"name":"widget_opened","ts":1,"props":[1]}"#)
            .reason
            .contains("props"));
        assert!(
            bad(r#"{"name":"widget_opened","ts":1,"props":{"a":{"b":1}}}"#)
                .reason
                .contains("string, a number")
        );
        assert!(bad(r#"{"name":"widget_opened","ts":1,"props":{"a b":1}}"#)
            .reason
            .contains("prop name"));
        assert!(bad(r#"{"name":"widget_opened","ts":1,"ip":"1.2.3.4"}"#)
            .reason
            .contains("unknown field"));
        assert!(bad("7").reason.contains("object"));
    }

    #[test]
    fn the_limits_hold() {
        let event = r#"{"name":"widget_opened","ts":1}"#;
        let many = format!(
            r#"{{"events":[{}]}}"#,
            vec![event; MAX_EVENTS + 1].join(",")
        );
        assert!(refusal(&many).reason.contains("at most"));
        let most = format!(r#"{{"events":[{}]}}"#, vec![event; MAX_EVENTS].join(","));
        assert_eq!(parse(most.as_bytes()).unwrap().len(), MAX_EVENTS);
        let huge = format!(r#"{{"events":[],"pad":"{}"}}"#, "x".repeat(MAX_BODY_BYTES));
        assert!(refusal(&huge).reason.contains("bytes"));
        // A long string prop is dropped, the event kept.
        let long = format!(
            r#"{{"events":[{{"name":"message_sent","ts":1,"props":{{"text":"{}"}}}}]}}"#,
            "x".repeat(500)
        );
        assert!(parse(long.as_bytes()).unwrap()[0].props.is_empty());
    }
}
