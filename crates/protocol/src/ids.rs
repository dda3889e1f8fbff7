//! Validated identifiers: a value of these types is known to be well formed.

use serde::{Deserialize, Serialize};
use std::fmt;

/// Longest session id, in characters.
pub const MAX_SESSION_ID_LEN: usize = 64;
/// Longest client-chosen message id, in characters.
pub const MAX_MESSAGE_ID_LEN: usize = 64;

/// Why an identifier was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdError {
    /// The id was the empty string.
    #[error("the id is empty")]
    Empty,
    /// The id was longer than allowed.
    #[error("the id is longer than {max} characters")]
    TooLong {
        /// The limit that was passed.
        max: usize,
    },
    /// The id held a character outside `[A-Za-z0-9_-]`.
    #[error("the id may only contain A-Z, a-z, 0-9, '_' and '-'")]
    BadCharacter,
}

/// Refuses an empty id and one of more than `max` characters.
fn check_length(raw: &str, max: usize) -> Result<(), IdError> {
    if raw.is_empty() {
        Err(IdError::Empty)
    } else if raw.chars().count() > max {
        Err(IdError::TooLong { max })
    } else {
        Ok(())
    }
}

/// A session id: 1–64 characters of `[A-Za-z0-9_-]`, as it appears in `/api/axe/ws/{session_id}`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct SessionId(String);

impl SessionId {
    /// Checks `raw` and wraps it; the restricted alphabet keeps ids safe in URLs, logs and keys.
    pub fn parse(raw: &str) -> Result<Self, IdError> {
        check_length(raw, MAX_SESSION_ID_LEN)?;
        if !raw
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
        {
            return Err(IdError::BadCharacter);
        }
        Ok(Self(raw.to_owned()))
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl<'de> Deserialize<'de> for SessionId {
    fn deserialize<D: serde::Deserializer<'de>>(de: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(de)?;
        Self::parse(&raw).map_err(serde::de::Error::custom)
    }
}

impl fmt::Display for SessionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A client-chosen message id (top-level `"id"` of a frame): any string of 1–64 characters.
///
/// Later protocol versions acknowledge and de-duplicate by this id.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct MessageId(String);

impl MessageId {
    /// Checks the length of `raw` and wraps it.
    pub fn parse(raw: &str) -> Result<Self, IdError> {
        check_length(raw, MAX_MESSAGE_ID_LEN)?;
        Ok(Self(raw.to_owned()))
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl<'de> Deserialize<'de> for MessageId {
    fn deserialize<D: serde::Deserializer<'de>>(de: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(de)?;
        Self::parse(&raw).map_err(serde::de::Error::custom)
    }
}

impl fmt::Display for MessageId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn session_ids_follow_the_documented_alphabet_and_length() {
        assert!(SessionId::parse("session-123_ABC").is_ok());
        assert_eq!(SessionId::parse(""), Err(IdError::Empty));
        assert_eq!(
            SessionId::parse(&"a".repeat(65)),
            Err(IdError::TooLong { max: 64 })
        );
        assert!(SessionId::parse(&"a".repeat(64)).is_ok());
        assert_eq!(SessionId::parse("a b"), Err(IdError::BadCharacter));
        assert_eq!(SessionId::parse("ä"), Err(IdError::BadCharacter));
        assert_eq!(SessionId::parse("../x"), Err(IdError::BadCharacter));
    }

    #[test]
    fn message_ids_are_limited_in_length_only() {
        assert!(MessageId::parse("msg 1 ✓").is_ok());
        assert_eq!(MessageId::parse(""), Err(IdError::Empty));
        assert!(MessageId::parse(&"é".repeat(64)).is_ok());
        assert!(MessageId::parse(&"é".repeat(65)).is_err());
    }
}
