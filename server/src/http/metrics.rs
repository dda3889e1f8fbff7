//! `GET /metrics`: the Prometheus exposition. Open to callers on this machine (loopback, not
//! forwarded by a proxy); from anywhere else only with `Authorization: Bearer
//! $AXE_METRICS_TOKEN` (or HTTP Basic with the token as password, for browsers) — refused
//! when no token is configured. The dashboard is protected the same way.

use super::error::ApiError;
use crate::state::AppState;
use axum::{
    extract::{ConnectInfo, State},
    http::{header, HeaderMap, StatusCode},
    response::{IntoResponse, Response},
};
use std::net::SocketAddr;

/// Whether the caller at `peer` with `headers` may read the server's metrics.
pub fn may_observe(state: &AppState, peer: SocketAddr, headers: &HeaderMap) -> bool {
    // A proxy on this machine forwards everyone's requests from loopback: those are not local.
    let forwarded = headers.contains_key("x-forwarded-for") || headers.contains_key("forwarded");
    if peer.ip().is_loopback() && !forwarded {
        return true;
    }
    let Some(expected) = state.config.observe.metrics_token.as_deref() else {
        return false;
    };
    let Some(given) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let presented = if let Some(bearer) = given.strip_prefix("Bearer ") {
        Some(bearer.trim().to_owned())
    } else {
        given
            .strip_prefix("Basic ")
            .and_then(|encoded| base64_decode(encoded.trim()))
            .and_then(|pair| {
                pair.split_once(':')
                    .map(|(_, password)| password.to_owned())
            })
    };
    presented.is_some_and(|p| constant_time_eq(p.as_bytes(), expected.as_bytes()))
}

/// Compares without stopping at the first difference, so timing tells nothing of the token.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Standard base64 (as HTTP Basic uses it); `None` if it is not.
fn base64_decode(text: &str) -> Option<String> {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut bits = 0u32;
    let mut count = 0;
    let mut out = Vec::new();
    for byte in text.bytes().filter(|b| *b != b'=') {
        let value = ALPHABET.iter().position(|c| *c == byte)? as u32;
        bits = (bits << 6) | value;
        count += 6;
        if count >= 8 {
            count -= 8;
            out.push((bits >> count) as u8);
            bits &= (1 << count) - 1;
        }
    }
    String::from_utf8(out).ok()
}

/// The refusal for a caller who may not observe.
pub fn refusal(state: &AppState) -> Response {
    let why = if state.config.observe.metrics_token.is_some() {
        "this needs Authorization: Bearer with the server's AXE_METRICS_TOKEN"
    } else {
        "only callers on this machine may see this; set AXE_METRICS_TOKEN to allow others"
    };
    let mut response = ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", why).into_response();
    response.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        header::HeaderValue::from_static("Basic realm=\"AXE metrics\""),
    );
    response
}

/// `GET /metrics`.
pub async fn exposition(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
) -> Response {
    if !may_observe(&state, peer, &headers) {
        return refusal(&state);
    }
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        state.metrics.render(),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basic_credentials_decode_and_tokens_compare_exactly() {
        assert_eq!(
            base64_decode("YXhlOnMzY3JldA==").as_deref(),
            Some("axe:s3cret")
        );
        assert_eq!(base64_decode("not base64!"), None);
        assert!(constant_time_eq(b"s3cret", b"s3cret"));
        assert!(!constant_time_eq(b"s3cret", b"s3creT"));
        assert!(!constant_time_eq(b"s3cret", b"s3cret-longer"));
    }
}
