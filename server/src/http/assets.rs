//! `/axe/embed.js` and `/axe/b/{build}/{path}`: the widget's files for host pages on any
//! allowed origin — the loader (cached briefly: it names the current build) and the build's
//! files (cached for a year: a new build has new URLs), each in the best encoding the browser
//! takes, with the CORS headers a cross-origin module import and wasm fetch need.

use super::origin::{cors_headers, is_allowed};
use crate::{site::File, state::AppState};
use axum::{
    extract::{Path, State},
    http::{header, HeaderMap, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
};

/// How long a browser may keep the loader before asking again (it points at the build).
const LOADER_CACHE: &str = "public, max-age=300";

/// The build's files never change under their URL.
const BUILD_CACHE: &str = "public, max-age=31536000, immutable";

/// `GET /axe/embed.js`.
pub async fn loader(State(state): State<AppState>, request: HeaderMap) -> Response {
    let build = state.site.current();
    let etag = format!("\"{}\"", build.id);
    if request
        .get(header::IF_NONE_MATCH)
        .is_some_and(|sent| sent.as_bytes() == etag.as_bytes())
    {
        let mut response = StatusCode::NOT_MODIFIED.into_response();
        finish(&state, &request, response.headers_mut(), LOADER_CACHE);
        return response;
    }
    let mut response = encoded(&build.loader, &request);
    finish(&state, &request, response.headers_mut(), LOADER_CACHE);
    if let Ok(etag) = HeaderValue::from_str(&etag) {
        response.headers_mut().insert(header::ETAG, etag);
    }
    response
}

/// `GET /axe/build.json`: where the current build's files are, `{"assets": "/axe/b/{build}"}`
/// — for the npm package, which loads a build's wasm and glue together from AXE's server.
pub async fn build(State(state): State<AppState>, request: HeaderMap) -> Response {
    let id = state.site.current().id.clone();
    let mut response = (
        [(header::CONTENT_TYPE, "application/json")],
        format!("{{\"assets\":\"/axe/b/{id}\"}}"),
    )
        .into_response();
    finish(&state, &request, response.headers_mut(), LOADER_CACHE);
    response
}

/// `GET /axe/b/{build}/{path}`. A file of another build than the current one (a page that
/// loaded an older loader during a deploy) is answered from the current build, uncached.
pub async fn file(
    State(state): State<AppState>,
    Path((build_id, path)): Path<(String, String)>,
    request: HeaderMap,
) -> Response {
    let build = state.site.current();
    let Some(file) = build.files.get(&path) else {
        return (StatusCode::NOT_FOUND, "no such file in the widget's build").into_response();
    };
    let cache = if build_id == build.id {
        BUILD_CACHE
    } else {
        "no-store"
    };
    let mut response = encoded(file, &request);
    finish(&state, &request, response.headers_mut(), cache);
    response
}

/// `file` in the smallest encoding `request` accepts.
fn encoded(file: &File, request: &HeaderMap) -> Response {
    let accepts = |name: &str| {
        request
            .get_all(header::ACCEPT_ENCODING)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .any(|coding| {
                let mut parts = coding.trim().split(';');
                parts.next() == Some(name) && !parts.any(|p| p.trim() == "q=0")
            })
    };
    let (body, encoding) = if accepts("br") {
        (file.brotli.clone(), Some("br"))
    } else if accepts("gzip") {
        (file.gzip.clone(), Some("gzip"))
    } else {
        (file.identity.clone(), None)
    };
    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(file.content_type),
    );
    if let Some(encoding) = encoding {
        headers.insert(header::CONTENT_ENCODING, HeaderValue::from_static(encoding));
    }
    response
}

/// Caching, `Vary`, and for an allowed origin the CORS headers.
fn finish(state: &AppState, request: &HeaderMap, headers: &mut HeaderMap, cache: &'static str) {
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    headers.append(header::VARY, HeaderValue::from_static("Accept-Encoding"));
    // Pages that isolate themselves (COEP) may still load the widget from AXE's origin.
    headers.insert(
        "cross-origin-resource-policy",
        HeaderValue::from_static("cross-origin"),
    );
    let origin = request.get(header::ORIGIN);
    if let Some(origin) = origin.filter(|o| {
        o.to_str()
            .is_ok_and(|o| is_allowed(o, &state.config.allowed_origins))
    }) {
        cors_headers(headers, origin.clone());
    } else {
        headers.append(header::VARY, HeaderValue::from_static("Origin"));
    }
}
