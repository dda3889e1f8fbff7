//! Turning a text frame into a client message, with precise errors as values, and back.

use crate::{client::ClientMessage, codes::ErrorCode, ids::MessageId, server::ServerMessage};
use serde_json::{Map, Value};

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

/// Decodes one text frame sent by a client.
///
/// The steps are separate so the sender learns exactly what was wrong: not JSON at all
/// (`invalid_json`), a `type` nobody knows (`unknown_type`), or a known type whose payload or id
/// does not fit (`invalid_payload`). A missing `payload` counts as `{}` so `{"type":"ping"}` works.
pub fn decode_client_frame(text: &str) -> Result<ClientFrame, DecodeError> {
    let value: Value = serde_json::from_str(text)
        .map_err(|e| DecodeError::new(ErrorCode::InvalidJson, format!("not valid JSON: {e}")))?;
    let Value::Object(mut object) = value else {
        return Err(DecodeError::new(
            ErrorCode::InvalidJson,
            "a frame must be a JSON object",
        ));
    };
    if object.values().any(holds_nul) {
        // PostgreSQL cannot store U+0000 in text, and no editor content needs it: refused the
        // same way on every backend.
        return Err(DecodeError::new(
            ErrorCode::InvalidPayload,
            "text may not contain the NUL character (U+0000)",
        ));
    }

    let id = match object.remove("id") {
        None | Some(Value::Null) => None,
        Some(Value::String(raw)) => Some(MessageId::parse(&raw).map_err(|e| {
            DecodeError::new(ErrorCode::InvalidPayload, format!("invalid \"id\": {e}"))
        })?),
        Some(_) => {
            return Err(DecodeError::new(
                ErrorCode::InvalidPayload,
                "\"id\" must be a string",
            ))
        }
    };

    let type_name = match object.get("type") {
        Some(Value::String(name)) => name.clone(),
        Some(_) => {
            return Err(DecodeError::new(
                ErrorCode::InvalidPayload,
                "\"type\" must be a string",
            ))
        }
        None => {
            return Err(DecodeError::new(
                ErrorCode::InvalidPayload,
                "the frame has no \"type\"",
            ))
        }
    };
    if !ClientMessage::TYPES.contains(&type_name.as_str()) {
        return Err(DecodeError::new(
            ErrorCode::UnknownType,
            format!(
                "unknown message type {type_name:?}; expected one of {}",
                ClientMessage::TYPES.join(", ")
            ),
        ));
    }

    let payload = object
        .remove("payload")
        .unwrap_or_else(|| Value::Object(Map::new()));
    let mut tagged = Map::new();
    tagged.insert("type".into(), Value::String(type_name.clone()));
    tagged.insert("payload".into(), payload);
    let message = serde_json::from_value(Value::Object(tagged)).map_err(|e| {
        DecodeError::new(
            ErrorCode::InvalidPayload,
            format!("invalid payload for {type_name:?}: {e}"),
        )
    })?;
    let message: ClientMessage = message;
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

/// Whether any string in `value` (keys included) holds U+0000.
fn holds_nul(value: &Value) -> bool {
    match value {
        Value::String(text) => text.contains('\0'),
        Value::Array(items) => items.iter().any(holds_nul),
        Value::Object(map) => map
            .iter()
            .any(|(key, v)| key.contains('\0') || holds_nul(v)),
        Value::Null | Value::Bool(_) | Value::Number(_) => false,
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

/// Encodes a server message as one JSON text frame, with its `seq` when it is history.
pub fn encode_server_frame(seq: Option<u64>, message: &ServerMessage) -> String {
    let Some(seq) = seq else {
        return message.to_json();
    };
    let mut value = serde_json::to_value(message).unwrap_or(Value::Null);
    if let Value::Object(object) = &mut value {
        object.insert("seq".into(), Value::from(seq));
    }
    value.to_string()
}

/// Decodes one text frame sent by the server.
pub fn decode_server_frame(text: &str) -> Result<ServerFrame, DecodeError> {
    let mut value: Value = serde_json::from_str(text)
        .map_err(|e| DecodeError::new(ErrorCode::InvalidJson, format!("not valid JSON: {e}")))?;
    let seq = match &mut value {
        Value::Object(object) => object.remove("seq").and_then(|seq| seq.as_u64()),
        _ => None,
    };
    let message = serde_json::from_value(value)
        .map_err(|e| DecodeError::new(ErrorCode::InvalidPayload, format!("invalid frame: {e}")))?;
    Ok(ServerFrame { seq, message })
}

/// Encodes a client message (with its optional id) as one JSON text frame.
pub fn encode_client_frame(id: Option<&MessageId>, message: &ClientMessage) -> String {
    let mut value = serde_json::to_value(message).unwrap_or(Value::Null);
    if let (Some(id), Value::Object(object)) = (id, &mut value) {
        object.insert("id".into(), Value::String(id.as_str().to_owned()));
    }
    value.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code_of(text: &str) -> ErrorCode {
        decode_client_frame(text).unwrap_err().code
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
