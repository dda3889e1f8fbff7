//! The stable error codes of `error` messages. Clients branch on these, so they never change.

use serde::{Deserialize, Serialize};
use std::fmt;

/// Why the server answered with an `error` message. Serialized as a snake_case string.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// The text frame was not valid JSON, or not a JSON object.
    InvalidJson,
    /// The `type` field named no message this server knows.
    UnknownType,
    /// The `type` was known but the payload (or the top-level `id`) did not fit it.
    InvalidPayload,
    /// The frame was binary; only text frames carry messages.
    UnsupportedFrame,
    /// A field was larger than the server accepts (the connection stays open).
    MessageTooLarge,
    /// A `diff_applied` / `diff_rejected` named a diff the session does not have (or no longer has).
    UnknownDiff,
    /// A message named a file the session does not have.
    UnknownFile,
    /// A diff was made from a version of the file that has changed since; it was not applied.
    StaleDiff,
    /// The sender went over a rate limit; the message was not processed. `retry_after_ms` says
    /// when to send it again.
    RateLimited,
    /// A reply is still being generated for this session; stop it or wait.
    Busy,
    /// The language model failed (unreachable, refused, timed out, or sent a broken stream).
    ModelError,
    /// A `stop` arrived when no reply was being generated.
    NothingToStop,
    /// The server failed in a way that is not the sender's fault.
    Internal,
}

impl ErrorCode {
    /// Whether a message refused with this code may succeed when sent again unchanged: the
    /// client keeps it and resends it later (after `retry_after_ms` for `rate_limited`, once
    /// the reply is over for `busy`, on the next connect for `internal`). Any other refusal
    /// is final.
    pub fn is_retryable(self) -> bool {
        matches!(self, Self::RateLimited | Self::Busy | Self::Internal)
    }

    /// The code as it appears on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::InvalidJson => "invalid_json",
            Self::UnknownType => "unknown_type",
            Self::InvalidPayload => "invalid_payload",
            Self::UnsupportedFrame => "unsupported_frame",
            Self::MessageTooLarge => "message_too_large",
            Self::UnknownDiff => "unknown_diff",
            Self::UnknownFile => "unknown_file",
            Self::StaleDiff => "stale_diff",
            Self::RateLimited => "rate_limited",
            Self::Busy => "busy",
            Self::ModelError => "model_error",
            Self::NothingToStop => "nothing_to_stop",
            Self::Internal => "internal",
        }
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_names_match_serde_names() {
        for code in [
            ErrorCode::InvalidJson,
            ErrorCode::UnknownType,
            ErrorCode::InvalidPayload,
            ErrorCode::UnsupportedFrame,
            ErrorCode::MessageTooLarge,
            ErrorCode::UnknownDiff,
            ErrorCode::UnknownFile,
            ErrorCode::StaleDiff,
            ErrorCode::RateLimited,
            ErrorCode::Busy,
            ErrorCode::ModelError,
            ErrorCode::NothingToStop,
            ErrorCode::Internal,
        ] {
            let json = serde_json::to_string(&code).unwrap();
            assert_eq!(json, format!("\"{}\"", code.as_str()));
        }
    }
}
