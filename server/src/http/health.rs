//! `GET /healthz` (the process is alive) and `GET /readyz` (it accepts new sessions).

use crate::state::AppState;
use axum::{extract::State, http::StatusCode};

/// Always 200 while the process can answer at all.
pub async fn alive() -> &'static str {
    "ok"
}

/// 200 while serving, 503 once shutdown has begun, so a load balancer stops sending sessions.
pub async fn ready(State(state): State<AppState>) -> (StatusCode, &'static str) {
    if state.shutdown.is_shutting_down() {
        (StatusCode::SERVICE_UNAVAILABLE, "shutting down")
    } else {
        (StatusCode::OK, "ready")
    }
}
