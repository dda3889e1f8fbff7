//! `GET /healthz` (the process is alive) and `GET /readyz` (it accepts new sessions).

use crate::state::AppState;
use axum::{extract::State, http::StatusCode};

/// Always 200 while the process can answer at all.
pub async fn alive() -> &'static str {
    "ok"
}

/// 200 while serving (`degraded` in a cluster whose Redis is unreachable: the sessions held are
/// still served, and new ones wait for Redis), 503 once the node drains or shuts down, so a
/// load balancer stops sending it sessions.
pub async fn ready(State(state): State<AppState>) -> (StatusCode, &'static str) {
    if state.is_draining() {
        (StatusCode::SERVICE_UNAVAILABLE, "draining")
    } else if state.cluster.as_ref().is_some_and(|c| !c.is_healthy()) {
        (StatusCode::OK, "degraded: redis is unreachable")
    } else {
        (StatusCode::OK, "ready")
    }
}
