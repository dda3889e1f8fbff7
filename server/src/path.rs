//! Path parameters the routes share: the session id in `/api/axe/…/{session_id}`.

use axum::{
    http::StatusCode,
    response::{IntoResponse, Response},
};
use protocol::{IdError, SessionId};

/// A session id in a path that is not one; answered with 400 naming what is wrong.
#[derive(Debug)]
pub struct InvalidSessionId(IdError);

impl IntoResponse for InvalidSessionId {
    fn into_response(self) -> Response {
        (
            StatusCode::BAD_REQUEST,
            format!("invalid session id: {}", self.0),
        )
            .into_response()
    }
}

/// The session id of a route.
pub fn session_id(raw: &str) -> Result<SessionId, InvalidSessionId> {
    SessionId::parse(raw).map_err(InvalidSessionId)
}
