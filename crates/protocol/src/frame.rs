//! Turning a text frame into a message, with precise errors as values, and back.
//!
//! A frame is `{"type": …, "payload": {…}}` plus `"id"` (client frames) or `"seq"` (history
//! frames). Decoding reads those top-level fields without interpreting the payload, then reads
//! the payload straight into its message type: no intermediate JSON tree, which would cost the
//! browser's wasm a second copy of every message's decoder.

use crate::{client::ClientMessage, codes::ErrorCode, ids::MessageId, server::ServerMessage};
use serde::{de::DeserializeOwned, Deserialize};
use serde_json::value::RawValue;

/// A decoded client frame: the message and its optional client-chosen id.
#[derive(Debug, Clone, PartialEq)]
pub struct ClientFrame {
    /// The top-level `"id"`, if the client sent one.
    pub id: Option<MessageId>,
    /// The message itself.
    pub message: ClientMessage,
}

/// Why a text frame could not be decoded; `code` goes straight into an `error` message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{code}: {message}")]
pub struct DecodeError {
    /// Which of `invalid_json`, `unknown_type` or `invalid_payload` applies.
    pub code: ErrorCode,
    /// A short explanation for the sender.
    pub message: String,
}

impl DecodeError {
    fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }
}

/// A frame's top-level fields, each still as JSON text.
#[derive(Deserialize)]
struct Envelope<'a> {
    #[serde(rename = "type", default, borrow)]
    kind: Option<&'a RawValue>,
    #[serde(default, borrow)]
    id: Option<&'a RawValue>,
    #[serde(default, borrow)]
    seq: Option<&'a RawValue>,
    #[serde(default, borrow)]
    payload: Option<&'a RawValue>,
}

/// Reads the top-level fields of `text`, which must be a JSON object.
fn envelope(text: &str) -> Result<Envelope<'_>, DecodeError> {
    // A quick look first, so a JSON value that is not an object gets its own message.
    if !text.trim_start().starts_with('{') {
        serde_json::from_str::<serde::de::IgnoredAny>(text).map_err(|e| {
            DecodeError::new(ErrorCode::InvalidJson, format!("not valid JSON: {e}"))
        })?;
        return Err(DecodeError::new(
            ErrorCode::InvalidJson,
            "a frame must be a JSON object",
        ));
    }
    serde_json::from_str(text)
        .map_err(|e| DecodeError::new(ErrorCode::InvalidJson, format!("not valid JSON: {e}")))
}

/// The `"type"` of a frame, which must be a string.
fn type_name(kind: Option<&RawValue>) -> Result<String, DecodeError> {
    let kind = kind
        .ok_or_else(|| DecodeError::new(ErrorCode::InvalidPayload, "the frame has no \"type\""))?;
    serde_json::from_str(kind.get())
        .map_err(|_| DecodeError::new(ErrorCode::InvalidPayload, "\"type\" must be a string"))
}

/// Reads `payload` (absent counts as `{}`) as the message of type `kind`: the payload goes
/// straight into the variant, since the tag comes first.
fn message<T: DeserializeOwned>(
    kind: &str,
    payload: Option<&RawValue>,
) -> Result<T, serde_json::Error> {
    let tagged = format!(
        "{{\"type\":{},\"payload\":{}}}",
        serde_json::to_string(kind)?,
        payload.map_or("{}", RawValue::get)
    );
    serde_json::from_str(&tagged)
}

/// Whether a JSON text holds the escape `\u0000` (a NUL character) in a string: raw NULs
/// cannot appear in valid JSON, so this finds every one.
fn holds_nul(json: &str) -> bool {
    let bytes = json.as_bytes();
    let mut at = 0;
    while let Some(found) = json[at..].find("\\u0000") {
        let start = at + found;
        // An odd run of backslashes before "u0000" makes it an escape; an even one is a
        // literal backslash followed by the text "u0000".
        let backslashes = bytes[..=start]
            .iter()
            .rev()
            .take_while(|&&b| b == b'\\')
            .count();
        if backslashes % 2 == 1 {
            return true;
        }
        at = start + 1;
    }
    false
}

/// Decodes one text frame sent by a client.
///
/// The steps are separate so the sender learns exactly what was wrong: not JSON at all
/// (`invalid_json`), a `type` nobody knows (`unknown_type`), or a known type whose payload or id
/// does not fit (`invalid_payload`). A missing `payload` counts as `{}` so `{"type":"ping"}` works.
pub fn decode_client_frame(text: &str) -> Result<ClientFrame, DecodeError> {
    let envelope = envelope(text)?;
    if holds_nul(text) {
        // PostgreSQL cannot store U+0000 in text, and no editor content needs it: refused the
        // same way on every backend.
        return Err(DecodeError::new(
            ErrorCode::InvalidPayload,
            "text may not contain the NUL character (U+0000)",
        ));
    }
    let id = match envelope.id.map(RawValue::get) {
        None | Some("null") => None,
        Some(raw) => {
            let raw: String = serde_json::from_str(raw).map_err(|_| {
                DecodeError::new(ErrorCode::InvalidPayload, "\"id\" must be a string")
            })?;
            Some(MessageId::parse(&raw).map_err(|e| {
                DecodeError::new(ErrorCode::InvalidPayload, format!("invalid \"id\": {e}"))
            })?)
        }
    };
    let type_name = type_name(envelope.kind)?;
    if !ClientMessage::TYPES.contains(&type_name.as_str()) {
        return Err(DecodeError::new(
            ErrorCode::UnknownType,
            format!(
                "unknown message type {type_name:?}; expected one of {}",
                ClientMessage::TYPES.join(", ")
            ),
        ));
    }
    let message: ClientMessage = message(&type_name, envelope.payload).map_err(|e| {
        DecodeError::new(
            ErrorCode::InvalidPayload,
            format!("invalid payload for {type_name:?}: {e}"),
        )
    })?;
    check_lengths(&message)?;
    if message.needs_id() && id.is_none() {
        return Err(DecodeError::new(
            ErrorCode::InvalidPayload,
            format!("a {type_name:?} message needs an \"id\" so it can be acknowledged"),
        ));
    }
    Ok(ClientFrame { id, message })
}

/// Refuses ids and names longer than [`crate::limits`] allows.
fn check_lengths(message: &ClientMessage) -> Result<(), DecodeError> {
    use crate::limits::*;
    let check = |field: &str, value: &str, max: usize| {
        if value.chars().count() > max {
            Err(DecodeError::new(
                ErrorCode::InvalidPayload,
                format!("{field} is longer than {max} characters"),
            ))
        } else {
            Ok(())
        }
    };
    let file = |id: &str, name: Option<&str>, language: Option<&str>| {
        check("file_id", id, MAX_FILE_ID_CHARS)?;
        check("name", name.unwrap_or_default(), MAX_FILE_NAME_CHARS)?;
        check("language", language.unwrap_or_default(), MAX_LANGUAGE_CHARS)
    };
    match message {
        ClientMessage::Chat { context, .. } => {
            if let Some(context) = context {
                check(
                    "mode",
                    context.mode.as_deref().unwrap_or_default(),
                    MAX_MODE_CHARS,
                )?;
                if let Some(active) = &context.active_file {
                    file(&active.id, Some(&active.name), Some(&active.language))?;
                }
            }
            Ok(())
        }
        ClientMessage::DiffApplied { diff_id, hunks } => {
            check("diff_id", diff_id, MAX_REFERENCE_CHARS)?;
            if hunks.as_ref().is_some_and(|h| h.len() > MAX_HUNK_INDEXES) {
                return Err(DecodeError::new(
                    ErrorCode::InvalidPayload,
                    format!("at most {MAX_HUNK_INDEXES} hunk indexes"),
                ));
            }
            Ok(())
        }
        ClientMessage::DiffRejected { diff_id } => check("diff_id", diff_id, MAX_REFERENCE_CHARS),
        ClientMessage::FileUpdated {
            file_id,
            name,
            language,
            ..
        } => file(file_id, name.as_deref(), language.as_deref()),
        ClientMessage::ResolveConflict { conflict_id, .. } => {
            check("conflict_id", conflict_id, MAX_REFERENCE_CHARS)
        }
        ClientMessage::Stop { message_id } => check(
            "message_id",
            message_id.as_deref().unwrap_or_default(),
            MAX_REFERENCE_CHARS,
        ),
        ClientMessage::LoadHistory { .. } | ClientMessage::Ping { .. } => Ok(()),
    }
}

/// A decoded server frame: the message and, for history, its place in the session.
#[derive(Debug, Clone, PartialEq)]
pub struct ServerFrame {
    /// The top-level `"seq"`: present on history messages, increasing by one per session.
    pub seq: Option<u64>,
    /// The message itself.
    pub message: ServerMessage,
}

/// `body` (a JSON object's text) with `field` (already JSON) added first.
fn with_field(body: String, field: &str, value: &str) -> String {
    match body.strip_prefix('{') {
        Some(rest) => format!("{{\"{field}\":{value},{rest}"),
        None => body,
    }
}

/// Encodes a server message as one JSON text frame, with its `seq` when it is history.
pub fn encode_server_frame(seq: Option<u64>, message: &ServerMessage) -> String {
    let body = message.to_json();
    match seq {
        Some(seq) => with_field(body, "seq", &seq.to_string()),
        None => body,
    }
}

/// Decodes one text frame sent by the server: its payload goes straight into the variant its
/// `type` names (see `tagged.rs` for why not through serde's tagged-enum decoder).
pub fn decode_server_frame(text: &str) -> Result<ServerFrame, DecodeError> {
    let envelope = envelope(text)?;
    let seq = envelope
        .seq
        .and_then(|seq| serde_json::from_str::<u64>(seq.get()).ok());
    let type_name = type_name(envelope.kind)?;
    let payload = envelope.payload.map_or("{}", RawValue::get);
    let message = ServerMessage::from_payload(&type_name, payload)
        .map_err(|e| {
            DecodeError::new(
                ErrorCode::InvalidPayload,
                format!("invalid payload for {type_name:?}: {e}"),
            )
        })?
        .ok_or_else(|| {
            DecodeError::new(
                ErrorCode::UnknownType,
                format!("unknown message type {type_name:?}"),
            )
        })?;
    Ok(ServerFrame { seq, message })
}

/// Encodes a client message (with its optional id) as one JSON text frame.
pub fn encode_client_frame(id: Option<&MessageId>, message: &ClientMessage) -> String {
    // Serializing these plain values cannot fail.
    let body = serde_json::to_string(message).unwrap_or_default();
    match id {
        Some(id) => {
            let id = serde_json::to_string(id.as_str()).unwrap_or_default();
            with_field(body, "id", &id)
        }
        None => body,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code_of(text: &str) -> ErrorCode {
        decode_client_frame(text).unwrap_err().code
    }

    #[test]
    fn a_nul_escape_is_refused_but_a_literal_backslash_u0000_is_text() {
        let frame = |content: &str| {
            format!(
                r#"{{"type":"file_updated","id":"c-1","payload":{{"file_id":"f","content":"{content}"}}}}"#
            )
        };
        assert_eq!(code_of(&frame(r"a\u0000b")), ErrorCode::InvalidPayload);
        assert_eq!(code_of(&frame(r"a\\\u0000b")), ErrorCode::InvalidPayload);
        let literal = decode_client_frame(&frame(r"a\\u0000b")).unwrap();
        assert!(
            matches!(literal.message, ClientMessage::FileUpdated { content, .. } if content == "a\\u0000b")
        );
        // In a key too.
        let key = r#"{"type":"ping","x\u0000":1}"#;
        assert_eq!(code_of(key), ErrorCode::InvalidPayload);
    }

    #[test]
    fn frames_encode_with_their_id_or_seq_and_decode_back() {
        let id = MessageId::parse("c-9").unwrap();
        let message = ClientMessage::DiffRejected {
            diff_id: "d-1".into(),
        };
        let text = encode_client_frame(Some(&id), &message);
        assert!(
            text.starts_with(r#"{"id":"c-9","type":"diff_rejected""#),
            "{text}"
        );
        assert_eq!(
            decode_client_frame(&text).unwrap(),
            ClientFrame {
                id: Some(id),
                message
            }
        );
        let pong = ServerMessage::Pong { ts: None };
        let text = encode_server_frame(Some(12), &pong);
        assert!(text.starts_with(r#"{"seq":12,"type":"pong""#), "{text}");
        assert_eq!(
            decode_server_frame(&text).unwrap(),
            ServerFrame {
                seq: Some(12),
                message: pong
            }
        );
        // Any order of the top-level fields decodes the same.
        let reordered =
            r#"{"payload":{"diff_id":"d-1"},"seq":3,"type":"diff_rejected","id":"c-1"}"#;
        assert!(decode_client_frame(reordered).is_ok());
    }

    #[test]
    fn malformed_frames_map_to_their_codes() {
        assert_eq!(code_of("{"), ErrorCode::InvalidJson);
        assert_eq!(code_of(""), ErrorCode::InvalidJson);
        assert_eq!(code_of("[1,2]"), ErrorCode::InvalidJson);
        assert_eq!(code_of("\"ping\""), ErrorCode::InvalidJson);
        assert_eq!(code_of(r#"{"type":"launch"}"#), ErrorCode::UnknownType);
        assert_eq!(code_of(r#"{"payload":{}}"#), ErrorCode::InvalidPayload);
        assert_eq!(code_of(r#"{"type":7}"#), ErrorCode::InvalidPayload);
        assert_eq!(code_of(r#"{"type":"chat"}"#), ErrorCode::InvalidPayload);
        assert_eq!(
            code_of(r#"{"type":"chat","payload":{"message":"no id"}}"#),
            ErrorCode::InvalidPayload
        );
        assert_eq!(
            code_of(r#"{"type":"chat","id":"c-1","payload":{"message":5}}"#),
            ErrorCode::InvalidPayload
        );
        assert_eq!(
            code_of(r#"{"type":"diff_applied","id":"c-1","payload":[]}"#),
            ErrorCode::InvalidPayload
        );
        let long_id = format!(r#"{{"type":"ping","id":"{}"}}"#, "x".repeat(65));
        assert_eq!(code_of(&long_id), ErrorCode::InvalidPayload);
        assert_eq!(
            code_of(r#"{"type":"ping","id":3}"#),
            ErrorCode::InvalidPayload
        );
        assert_eq!(
            code_of(r#"{"type":"chat","id":"c-1","payload":{"message":"a\u0000b"}}"#),
            ErrorCode::InvalidPayload
        );
        assert!(decode_client_frame(
            r#"{"type":"chat","id":"c-1","payload":{"message":"bell\u0007"}}"#
        )
        .is_ok());
    }

    #[test]
    fn a_ping_without_payload_decodes_and_keeps_its_id() {
        let frame = decode_client_frame(r#"{"type":"ping","id":"m-1"}"#).unwrap();
        assert_eq!(frame.message, ClientMessage::Ping { ts: None });
        assert_eq!(frame.id.unwrap().as_str(), "m-1");
    }

    #[test]
    fn encoding_then_decoding_gives_back_the_frame() {
        let id = MessageId::parse("abc").unwrap();
        let message = ClientMessage::DiffRejected {
            diff_id: "d-1".into(),
        };
        let text = encode_client_frame(Some(&id), &message);
        let frame = decode_client_frame(&text).unwrap();
        assert_eq!(frame.id, Some(id));
        assert_eq!(frame.message, message);
    }

    #[test]
    fn history_frames_carry_their_seq_at_the_top_level() {
        let message = ServerMessage::Ack {
            id: "c-1".into(),
            version: None,
        };
        let text = encode_server_frame(Some(7), &message);
        assert!(text.contains(r#""seq":7"#), "{text}");
        let frame = decode_server_frame(&text).unwrap();
        assert_eq!(frame.seq, Some(7));
        assert_eq!(frame.message, message);
        let plain = decode_server_frame(&encode_server_frame(None, &message)).unwrap();
        assert_eq!(plain.seq, None);
    }

    #[test]
    fn a_server_frame_decodes_in_any_field_order_and_names_what_is_wrong() {
        let payload_first = r#"{"payload":{"id":"c-1","version":4},"type":"ack","seq":2}"#;
        let frame = decode_server_frame(payload_first).unwrap();
        assert_eq!(frame.seq, Some(2));
        assert_eq!(
            frame.message,
            ServerMessage::Ack {
                id: "c-1".into(),
                version: Some(4)
            }
        );
        let server_code = |text: &str| decode_server_frame(text).unwrap_err().code;
        assert_eq!(server_code(r#"{"type":"launch"}"#), ErrorCode::UnknownType);
        assert_eq!(
            server_code(r#"{"type":"ack","payload":{"version":4}}"#),
            ErrorCode::InvalidPayload
        );
        assert_eq!(
            server_code(r#"{"type":"diff","payload":[]}"#),
            ErrorCode::InvalidPayload
        );
        assert_eq!(server_code("[]"), ErrorCode::InvalidJson);
    }

    #[test]
    fn arbitrary_bytes_never_panic() {
        // A cheap deterministic fuzz: every prefix of some valid and invalid frames.
        let samples = [
            r#"{"type":"chat","payload":{"message":"hi","context":{"active_file":{"id":"f","name":"a.rs","language":"rust"}}}}"#,
            r#"{"type":"file_updated","payload":{"file_id":"f","content":"é\u0000"}}"#,
            "{\"type\":\"ping\",\"payload\":{\"ts\":1e400}}",
        ];
        for sample in samples {
            for end in 0..=sample.len() {
                if let Some(prefix) = sample.get(..end) {
                    let _ = decode_client_frame(prefix);
                }
            }
        }
    }
}
