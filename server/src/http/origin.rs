//! The origin check in front of `/api/axe/`: a browser request from a web origin outside
//! `AXE_ALLOWED_ORIGINS` is refused with 403 before anything else runs, so no other site a
//! person visits can use AXE from their browser. A request without `Origin` is not a browser's
//! cross-site request and is judged by its token alone.
//!
//! Allowed origins also get the CORS headers a cross-origin widget needs (its `fetch` of the
//! sessions API, with an `Authorization` header, is preflighted).

use super::error::ApiError;
use crate::state::AppState;
use axum::{
    extract::{Request, State},
    http::{header, HeaderMap, HeaderValue, Method, StatusCode},
    middleware::Next,
    response::{IntoResponse, Response},
};

/// Whether `origin` (as the browser sent it) is in `allowed`.
pub fn is_allowed(origin: &str, allowed: &[String]) -> bool {
    let origin = origin.trim_end_matches('/').to_ascii_lowercase();
    allowed.contains(&origin)
}

/// Lets `origin` read the response (and tells caches the answer depends on it).
pub fn cors_headers(headers: &mut HeaderMap, origin: HeaderValue) {
    headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
    headers.append(header::VARY, HeaderValue::from_static("Origin"));
}

/// The middleware: refuses foreign origins, answers preflights, adds CORS headers.
pub async fn guard(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let Some(origin) = request.headers().get(header::ORIGIN).cloned() else {
        return next.run(request).await;
    };
    let allowed = origin
        .to_str()
        .is_ok_and(|o| is_allowed(o, &state.config.allowed_origins));
    if !allowed {
        return ApiError::forbidden(
            "origin_not_allowed",
            "this web origin may not use AXE; the server's AXE_ALLOWED_ORIGINS does not list it",
        )
        .into_response();
    }
    if request.method() == Method::OPTIONS {
        let mut response = StatusCode::NO_CONTENT.into_response();
        let headers = response.headers_mut();
        cors_headers(headers, origin);
        headers.insert(
            header::ACCESS_CONTROL_ALLOW_METHODS,
            HeaderValue::from_static("GET, POST"),
        );
        headers.insert(
            header::ACCESS_CONTROL_ALLOW_HEADERS,
            HeaderValue::from_static("authorization, content-type"),
        );
        headers.insert(
            header::ACCESS_CONTROL_MAX_AGE,
            HeaderValue::from_static("600"),
        );
        return response;
    }
    let mut response = next.run(request).await;
    cors_headers(response.headers_mut(), origin);
    response.headers_mut().insert(
        header::ACCESS_CONTROL_EXPOSE_HEADERS,
        HeaderValue::from_static("retry-after"),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_match_exactly_ignoring_case_and_a_trailing_slash() {
        let allowed = vec!["https://app.example.com".to_owned()];
        assert!(is_allowed("https://app.example.com", &allowed));
        assert!(is_allowed("HTTPS://APP.example.com/", &allowed));
        assert!(!is_allowed("https://app.example.com.evil.test", &allowed));
        assert!(!is_allowed("http://app.example.com", &allowed));
        assert!(!is_allowed("null", &allowed));
    }
}
