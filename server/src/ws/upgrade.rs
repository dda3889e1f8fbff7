//! `GET /api/axe/ws/{session_id}?last_seq=N`: checks the session id and the newest history
//! `seq` the client has (0 or absent: none), sets the socket's limits, upgrades.

use crate::{http::session_path::SessionPath, state::AppState, ws::connection};
use axum::{
    extract::{
        ws::{rejection::WebSocketUpgradeRejection, WebSocketUpgrade},
        Query, State,
    },
    http::StatusCode,
    response::{IntoResponse, Response},
};
use futures_util::StreamExt;
use serde::Deserialize;

/// The upgrade request's query string.
#[derive(Debug, Deserialize)]
pub struct ConnectQuery {
    /// The newest history `seq` the client has seen; the server replays what came after.
    #[serde(default)]
    last_seq: Option<String>,
}

/// Read buffer per socket. tungstenite zero-fills it, so all of it is resident; client frames
/// are small JSON, and a large message grows the buffer as needed. axum's default (128 KiB)
/// would dominate the memory of an idle session.
const READ_BUFFER_BYTES: usize = 1024;

/// Upgrades to the session WebSocket, or refuses with 400 (bad id or `last_seq`) or 503
/// (shutting down).
pub async fn handle(
    SessionPath(session): SessionPath,
    Query(query): Query<ConnectQuery>,
    State(state): State<AppState>,
    upgrade: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> Response {
    let last_seq = match query.last_seq.as_deref().map(str::parse::<u64>) {
        None => 0,
        Some(Ok(seq)) => seq,
        Some(Err(_)) => {
            return (
                StatusCode::BAD_REQUEST,
                "invalid last_seq: expected a whole number (the newest seq the client has)",
            )
                .into_response()
        }
    };
    let upgrade = match upgrade {
        Ok(upgrade) => upgrade,
        Err(rejection) => return rejection.into_response(),
    };
    if state.shutdown.is_shutting_down() {
        return (StatusCode::SERVICE_UNAVAILABLE, "server is shutting down").into_response();
    }
    let max = state.config.max_message_bytes;
    upgrade
        .read_buffer_size(READ_BUFFER_BYTES)
        // 0: every message is written out at once instead of gathering in a buffer.
        .write_buffer_size(0)
        // Bounds what a stuck peer can make us hold beyond the queue of whole messages.
        .max_write_buffer_size(max.saturating_mul(2))
        .max_message_size(max)
        .max_frame_size(max)
        .on_upgrade(move |socket| async move {
            let (sink, stream) = socket.split();
            connection::serve(sink, stream, session, last_seq, state).await;
        })
}
