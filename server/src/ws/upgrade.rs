//! `GET /api/axe/ws/{session_id}?last_seq=N`: the gate in front of a session's socket. In
//! order: a well-formed session id and `last_seq` (400), not shutting down (503), a valid token
//! (401), the connect rate per address and per subject (429 with `Retry-After`), room for one
//! more connection (503), the session owned by the caller or claimed for it (403), and in a
//! cluster this node serving the session (503 while it moves). Then the
//! socket's limits are set and it is upgraded, answering the `axe.v1` subprotocol when offered.

use crate::{
    http::{
        access::{claim_session, rate_key, Caller},
        error::ApiError,
        session_path::SessionPath,
    },
    state::AppState,
    ws::connection,
};
use axum::{
    extract::{
        ws::{rejection::WebSocketUpgradeRejection, WebSocketUpgrade},
        ConnectInfo, Query, State,
    },
    http::StatusCode,
    response::{IntoResponse, Response},
};
use futures_util::StreamExt;
use serde::Deserialize;
use std::net::SocketAddr;
use tracing::Instrument;

/// The upgrade request's query string.
#[derive(Debug, Deserialize)]
pub struct ConnectQuery {
    /// The newest history `seq` the client has seen; the server replays what came after.
    #[serde(default)]
    last_seq: Option<String>,
}

/// Read buffer per socket, allocated up front. Client frames are mostly small JSON (a ping is
/// 40 bytes) and tungstenite grows the buffer for a larger message, so a small one costs only
/// extra reads for large messages; axum's default (128 KiB) would dominate the memory of an
/// idle session.
const READ_BUFFER_BYTES: usize = 256;

/// Upgrades to the session WebSocket, or refuses (see the module's list).
pub async fn handle(
    SessionPath(session): SessionPath,
    Query(query): Query<ConnectQuery>,
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    caller: Result<Caller, ApiError>,
    upgrade: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> Response {
    let last_seq = match query.last_seq.as_deref().map(str::parse::<u64>) {
        None => 0,
        Some(Ok(seq)) => seq,
        Some(Err(_)) => {
            return ApiError::new(
                StatusCode::BAD_REQUEST,
                "invalid_last_seq",
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
        return ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "shutting_down",
            "the server is shutting down",
        )
        .into_response();
    }
    let caller = match caller {
        Ok(caller) => caller,
        Err(refusal) => return refusal.into_response(),
    };
    let limiters = &state.limiters;
    let over = limiters
        .connects_by_address
        .take(&rate_key(peer.ip()))
        .err()
        .map(|wait| {
            (
                "connects_address",
                "too many connects from this address",
                wait,
            )
        })
        .or_else(|| {
            limiters
                .connects_by_subject
                .take(&caller.0.subject)
                .err()
                .map(|wait| {
                    (
                        "connects_subject",
                        "too many connects for this account",
                        wait,
                    )
                })
        });
    if let Some((rule, why, wait)) = over {
        state.metrics.rate_limited(rule);
        return ApiError::rate_limited(why, wait).into_response();
    }
    let Some(slot) = limiters.open_connection(state.config.limits.max_connections) else {
        let mut refusal = ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "server_full",
            "the server holds as many connections as it may; try again shortly",
        );
        refusal.retry_after = Some(std::time::Duration::from_secs(5));
        return refusal.into_response();
    };
    if let Err(refusal) = claim_session(&state, &session, &caller).await {
        return refusal.into_response();
    }
    // In a cluster, this node must serve the session before its socket opens.
    if let Err(refusal) = crate::ownership::take(&state, &session).await {
        return refusal.into_response();
    }
    let max = state.config.max_message_bytes;
    let expires_at = caller.0.expires_at;
    upgrade
        .protocols([protocol::SUBPROTOCOL])
        .read_buffer_size(READ_BUFFER_BYTES)
        // 0: every message is written out at once instead of gathering in a buffer.
        .write_buffer_size(0)
        // Bounds what a stuck peer can make us hold beyond the queue of whole messages.
        .max_write_buffer_size(max.saturating_mul(2))
        .max_message_size(max)
        .max_frame_size(max)
        .on_upgrade(move |socket| {
            let span = tracing::info_span!("connection", session = %session);
            let (sink, stream) = socket.split();
            let opened = connection::Opened {
                session,
                last_seq,
                expires_at,
                slot,
            };
            // Instrumented here rather than with `#[instrument]` on `serve`: the attribute
            // keeps two copies of the future's state, and each idle connection holds it.
            connection::serve(sink, stream, opened, state).instrument(span)
        })
}
