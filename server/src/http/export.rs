//! `GET /api/axe/sessions/{session_id}/export`: everything stored about one session as JSON —
//! its history frames, both sides of the conversation, every file version, every diff and the
//! client message ids processed. For people taking their session elsewhere, and for tests that
//! compare what a client saw with what the server kept.

use super::{
    access::{claim_session, Caller},
    error::ApiError,
    session_path::SessionPath,
};
use crate::state::AppState;
use axum::{
    extract::State,
    response::{IntoResponse, Response},
    Json,
};

/// Answers with the session's export to its owner: 400 for a malformed id, 401 without a valid
/// token, 403 to anyone else, 500 if the database failed.
pub async fn session_export(
    SessionPath(session): SessionPath,
    State(state): State<AppState>,
    caller: Caller,
) -> Response {
    if let Err(refusal) = claim_session(&state, &session, &caller).await {
        return refusal.into_response();
    }
    match state.sessions.export(&session).await {
        Ok(export) => Json(export).into_response(),
        Err(error) => {
            tracing::error!(%error, "export failed");
            ApiError::internal("reading the session").into_response()
        }
    }
}
