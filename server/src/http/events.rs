//! `POST /api/axe/events`: widgets' telemetry. Behind the same origin check and token as the
//! rest of `/api/axe/`, rate limited per subject, at most 100 events and 64 KiB per request.
//! Each event is checked and anonymized ([`crate::telemetry`]) before anything is stored; the
//! subject and session are kept only as salted hashes and the client's address not at all.
//! `202 {"accepted": n}`, or a JSON refusal naming the first bad event.

use super::{access::Caller, error::ApiError};
use crate::{
    state::AppState,
    storage::telemetry::TelemetryRow,
    telemetry::{self, anonymize::salted_hash},
};
use axum::{
    body::Bytes,
    extract::State,
    http::StatusCode,
    response::{IntoResponse, Response},
    Json,
};

/// `POST /api/axe/events`.
pub async fn accept(State(state): State<AppState>, caller: Caller, body: Bytes) -> Response {
    if let Err(wait) = state.limiters.events.take(&caller.0.subject) {
        state.metrics.rate_limited("events");
        return ApiError::rate_limited("too many telemetry batches for this account", wait)
            .into_response();
    }
    if body.len() > telemetry::MAX_BODY_BYTES {
        return ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "too_large",
            format!("at most {} bytes per request", telemetry::MAX_BODY_BYTES),
        )
        .into_response();
    }
    let events = match telemetry::parse(&body) {
        Ok(events) => events,
        Err(refusal) => {
            return ApiError::new(
                StatusCode::BAD_REQUEST,
                "invalid_events",
                refusal.to_string(),
            )
            .into_response()
        }
    };
    let salt = &state.telemetry_salt;
    let subject = salted_hash(salt, &caller.0.subject);
    let rows: Vec<TelemetryRow> = events
        .iter()
        .map(|event| TelemetryRow {
            ts: event.ts,
            name: event.name.clone(),
            subject: subject.clone(),
            session: event.session_id.as_deref().map(|id| salted_hash(salt, id)),
            props: serde_json::Value::Object(event.props.clone()).to_string(),
        })
        .collect();
    if let Err(error) = state.storage.store_telemetry(&rows).await {
        tracing::error!(%error, "cannot store telemetry");
        return ApiError::internal("storing the events").into_response();
    }
    for event in &events {
        state.metrics.telemetry_event(&event.name);
    }
    (
        StatusCode::ACCEPTED,
        Json(serde_json::json!({ "accepted": events.len() })),
    )
        .into_response()
}
