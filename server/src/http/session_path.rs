//! The session id in `/api/axe/…/{session_id}` as an extractor: a handler that takes
//! [`SessionPath`] only runs for a well-formed id; anything else is answered with 400.

use super::error::ApiError;
use axum::{
    extract::{FromRequestParts, Path},
    http::{request::Parts, StatusCode},
};
use protocol::SessionId;

/// The route's `{session_id}`, checked.
#[derive(Debug, Clone)]
pub struct SessionPath(pub SessionId);

fn invalid(why: impl std::fmt::Display) -> ApiError {
    ApiError::new(
        StatusCode::BAD_REQUEST,
        "invalid_session_id",
        format!("invalid session id: {why}"),
    )
}

impl<S: Send + Sync> FromRequestParts<S> for SessionPath {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        // `Path<SessionId>` would work too, but its rejection text is axum's; ours names the
        // rule the id broke.
        let Path(raw) = Path::<String>::from_request_parts(parts, state)
            .await
            .map_err(|rejection| invalid(rejection.body_text()))?;
        SessionId::parse(&raw).map(SessionPath).map_err(invalid)
    }
}
