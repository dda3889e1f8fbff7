//! `GET /api/axe/sessions/{session_id}/export`: everything stored about one session as JSON —
//! its history frames, both sides of the conversation, every file version, every diff and the
//! client message ids processed. For people taking their session elsewhere, and for tests that
//! compare what a client saw with what the server kept.

use super::session_path::SessionPath;
use crate::state::AppState;
use axum::{
    extract::State,
    http::StatusCode,
    response::{IntoResponse, Response},
    Json,
};

/// Answers with the session's export, 400 for a malformed id, 500 if the database failed.
pub async fn session_export(
    SessionPath(session): SessionPath,
    State(state): State<AppState>,
) -> Response {
    match state.sessions.export(&session).await {
        Ok(export) => Json(export).into_response(),
        Err(error) => {
            tracing::error!(%error, "export failed");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                "the session could not be read",
            )
                .into_response()
        }
    }
}
