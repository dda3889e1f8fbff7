//! Path parameters the routes share: the session id in `/api/axe/…/{session_id}`.

use axum::{
    http::StatusCode,
    response::{IntoResponse, Response},
};
use protocol::SessionId;

/// The session id of a route, or the 400 answer naming what is wrong with it.
pub fn session_id(raw: &str) -> Result<SessionId, Response> {
    SessionId::parse(raw).map_err(|error| {
        (
            StatusCode::BAD_REQUEST,
            format!("invalid session id: {error}"),
        )
            .into_response()
    })
}
