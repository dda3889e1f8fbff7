//! The session id in `/api/axe/…/{session_id}` as an extractor: a handler that takes
//! [`SessionPath`] only runs for a well-formed id; anything else is answered with 400.

use axum::{
    extract::{FromRequestParts, Path},
    http::{request::Parts, StatusCode},
    response::{IntoResponse, Response},
};
use protocol::SessionId;

/// The route's `{session_id}`, checked.
#[derive(Debug, Clone)]
pub struct SessionPath(pub SessionId);

/// A session id in a path that is not one; answered with 400 naming what is wrong.
#[derive(Debug)]
pub struct InvalidSessionId(String);

impl IntoResponse for InvalidSessionId {
    fn into_response(self) -> Response {
        (
            StatusCode::BAD_REQUEST,
            format!("invalid session id: {}", self.0),
        )
            .into_response()
    }
}

impl<S: Send + Sync> FromRequestParts<S> for SessionPath {
    type Rejection = InvalidSessionId;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        // `Path<SessionId>` would work too, but its rejection text is axum's; ours names the
        // rule the id broke.
        let Path(raw) = Path::<String>::from_request_parts(parts, state)
            .await
            .map_err(|rejection| InvalidSessionId(rejection.body_text()))?;
        SessionId::parse(&raw)
            .map(SessionPath)
            .map_err(|error| InvalidSessionId(error.to_string()))
    }
}
