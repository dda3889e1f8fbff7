//! The widget's session and the token that opens it, kept in localStorage so a reload
//! continues the same conversation; and the decisions about them: when to refresh the token,
//! and what a refusal means.
//!
//! Where the token comes from: in anonymous mode (the default) the server's sessions API hands
//! out a session and a token for a fresh anonymous subject; when the host page supplies tokens
//! (it defines `window.axeGetToken`, an async function returning a JWT), the widget asks it
//! before each connect and after a refusal, and the sessions API only names the session.

use crate::local_storage;
use serde::{Deserialize, Serialize};

/// Where the credentials are kept.
pub const STORAGE_KEY: &str = "axe.credentials";
/// Where a session id was kept before tokens existed; such a session is claimed (it has no
/// owner yet) by the first token that opens it.
pub const LEGACY_SESSION_KEY: &str = "axe.session_id";
/// An anonymous token with less than this left is refreshed before connecting (seconds).
pub const REFRESH_WITHIN_SECS: u64 = 7 * 24 * 3600;

/// A session and the token that opens it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Credentials {
    /// The session.
    pub session_id: String,
    /// The bearer token (a JWT).
    pub token: String,
    /// When the token expires, in Unix seconds.
    pub expires_at: u64,
}

impl Credentials {
    /// The credentials kept in localStorage, if any are readable.
    pub fn load() -> Option<Self> {
        let saved = local_storage::load(STORAGE_KEY)?;
        serde_json::from_str::<Self>(&saved)
            .ok()
            .filter(|c| protocol::SessionId::parse(&c.session_id).is_ok() && !c.token.is_empty())
    }

    /// Keeps these credentials; `false` if the browser would not store them (the session then
    /// lasts as long as the page).
    pub fn save(&self) -> bool {
        serde_json::to_string(self)
            .map(|json| local_storage::save(STORAGE_KEY, &json))
            .unwrap_or(false)
    }

    /// Whether the token should be refreshed before use at `now` (Unix seconds).
    pub fn needs_refresh(&self, now: u64) -> bool {
        self.expires_at <= now + REFRESH_WITHIN_SECS
    }
}

/// A session id kept by an older widget, to be claimed with a fresh token.
pub fn legacy_session() -> Option<String> {
    local_storage::load(LEGACY_SESSION_KEY).filter(|id| protocol::SessionId::parse(id).is_ok())
}

/// What the server said when the widget asked whether it may open its session (it asks when
/// the socket failed to open: a browser cannot see the HTTP status of a refused upgrade).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// 200: the refusal was something passing (rate limit, server full, network): back off.
    Granted,
    /// 401: the token is not valid (any more).
    SignInExpired,
    /// 403: the session belongs to another account.
    Forbidden,
    /// No answer: the server is down or unreachable.
    Unreachable,
}

impl Access {
    /// The meaning of an HTTP status from `GET /api/axe/sessions/{id}`.
    pub fn from_status(status: Option<u16>) -> Self {
        match status {
            None => Self::Unreachable,
            Some(401) => Self::SignInExpired,
            Some(403) => Self::Forbidden,
            Some(_) => Self::Granted,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_is_refreshed_in_its_last_week() {
        let credentials = Credentials {
            session_id: "s-1".into(),
            token: "t".into(),
            expires_at: 1_000_000,
        };
        assert!(!credentials.needs_refresh(1_000_000 - REFRESH_WITHIN_SECS - 1));
        assert!(credentials.needs_refresh(1_000_000 - REFRESH_WITHIN_SECS));
        assert!(credentials.needs_refresh(2_000_000));
    }

    #[test]
    fn refusals_are_told_apart_by_status() {
        assert_eq!(Access::from_status(Some(200)), Access::Granted);
        assert_eq!(Access::from_status(Some(429)), Access::Granted);
        assert_eq!(Access::from_status(Some(401)), Access::SignInExpired);
        assert_eq!(Access::from_status(Some(403)), Access::Forbidden);
        assert_eq!(Access::from_status(None), Access::Unreachable);
    }

    #[test]
    fn credentials_survive_json() {
        let credentials = Credentials {
            session_id: "s-abc".into(),
            token: "a.b.c".into(),
            expires_at: 42,
        };
        let json = serde_json::to_string(&credentials).unwrap();
        assert_eq!(
            serde_json::from_str::<Credentials>(&json).unwrap(),
            credentials
        );
    }
}
