//! The sessions API: `POST /api/axe/sessions` (a new session, and in anonymous mode a token for
//! a fresh anonymous subject), `POST /api/axe/sessions/{id}/token` (a fresh token for the
//! session's owner, anonymous mode), `GET /api/axe/sessions/{id}` (whether the caller may open
//! it: what a browser asks when its WebSocket failed to open, since it cannot see why).

use super::{
    access::{claim_session, rate_key, Caller},
    error::ApiError,
    session_path::SessionPath,
};
use crate::{
    auth::{bearer, random, AuthMode},
    state::AppState,
};
use axum::{
    extract::{ConnectInfo, FromRequestParts, State},
    http::{request::Parts, StatusCode},
    response::{IntoResponse, Response},
    Json,
};
use protocol::SessionId;
use serde::Serialize;
use std::net::SocketAddr;

/// What the sessions API answers.
#[derive(Debug, Serialize)]
pub struct SessionGrant {
    /// The session.
    pub session_id: String,
    /// A token for it (anonymous mode; `null` in jwt mode, where the host mints tokens).
    pub token: Option<String>,
    /// When that token expires, in Unix seconds (the caller's own token's, in jwt mode).
    pub expires_at: u64,
}

/// What `POST /api/axe/sessions` may carry: the id of a session to open (a host's own naming,
/// or a session an older widget kept before tokens existed). Without it, the server makes one.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateRequest {
    /// The session to create or claim.
    #[serde(default)]
    pub session_id: Option<String>,
}

/// The caller's token, if the request carries a valid one; `None` if it carries none.
async fn optional_caller(parts: &mut Parts, state: &AppState) -> Result<Option<Caller>, ApiError> {
    if bearer::token(&parts.headers).is_none() {
        return Ok(None);
    }
    Caller::from_request_parts(parts, state).await.map(Some)
}

/// `POST /api/axe/sessions`.
pub async fn create(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    request: axum::extract::Request,
) -> Response {
    match create_session(&state, peer, request).await {
        Ok(grant) => (StatusCode::CREATED, Json(grant)).into_response(),
        Err(refusal) => refusal.into_response(),
    }
}

async fn create_session(
    state: &AppState,
    peer: SocketAddr,
    request: axum::extract::Request,
) -> Result<SessionGrant, ApiError> {
    // Anyone may ask in anonymous mode, so the asking is rate limited per address.
    if let Err(wait) = state
        .limiters
        .connects_by_address
        .take(&rate_key(peer.ip()))
    {
        state.metrics.rate_limited("sessions_address");
        return Err(ApiError::rate_limited(
            "too many new sessions from this address",
            wait,
        ));
    }
    let (mut parts, body) = request.into_parts();
    let caller = optional_caller(&mut parts, state).await?;
    // A small JSON object at most; an empty body is `{}`.
    let body = axum::body::to_bytes(body, 4096).await.map_err(|_| {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "body_too_large",
            "the body is over 4 KiB",
        )
    })?;
    let wanted: CreateRequest = if body.iter().all(u8::is_ascii_whitespace) {
        CreateRequest::default()
    } else {
        serde_json::from_slice(&body).map_err(|e| {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                "invalid_body",
                format!("expected {{\"session_id\"?: string}}: {e}"),
            )
        })?
    };
    let random_id = |prefix| {
        random::id(prefix, 24).map_err(|error| {
            tracing::error!(%error, "no randomness");
            ApiError::internal("making an id")
        })
    };
    let (caller, minted) = match (state.auth.mode(), caller) {
        (_, Some(caller)) => (caller, None),
        (AuthMode::Anonymous, None) => {
            let subject = random_id("anon-")?;
            let minted = state
                .auth
                .mint(&subject)
                .ok_or_else(|| ApiError::internal("minting a token"))?;
            let verified = crate::auth::Verified {
                subject,
                expires_at: minted.expires_at,
            };
            (Caller(verified), Some(minted))
        }
        (AuthMode::Jwt, None) => {
            return Err(ApiError::unauthorized(
                "a bearer token from the host application is required",
            ))
        }
    };
    let session = match wanted.session_id {
        Some(id) => SessionId::parse(&id).map_err(|e| {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                "invalid_session_id",
                format!("invalid session id: {e}"),
            )
        })?,
        None => SessionId::parse(&random_id("s-")?)
            .map_err(|_| ApiError::internal("making a session id"))?,
    };
    claim_session(state, &session, &caller).await?;
    Ok(SessionGrant {
        session_id: session.as_str().to_owned(),
        expires_at: minted
            .as_ref()
            .map_or(caller.0.expires_at, |m| m.expires_at),
        token: minted.map(|m| m.token),
    })
}

/// `POST /api/axe/sessions/{id}/token`: a fresh token for the session's owner.
pub async fn refresh_token(
    SessionPath(session): SessionPath,
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<SessionGrant>, ApiError> {
    claim_session(&state, &session, &caller).await?;
    let minted = state.auth.mint(&caller.0.subject).ok_or_else(|| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "minted_by_host",
            "tokens are minted by the host application (AXE_AUTH=jwt); ask it for a fresh one",
        )
    })?;
    Ok(Json(SessionGrant {
        session_id: session.as_str().to_owned(),
        token: Some(minted.token),
        expires_at: minted.expires_at,
    }))
}

/// `GET /api/axe/sessions/{id}`: 200 if the caller may open the session (401, 403 otherwise).
pub async fn check(
    SessionPath(session): SessionPath,
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<SessionGrant>, ApiError> {
    claim_session(&state, &session, &caller).await?;
    Ok(Json(SessionGrant {
        session_id: session.as_str().to_owned(),
        token: None,
        expires_at: caller.0.expires_at,
    }))
}
