//! Where a request carries its token: `Authorization: Bearer <token>`, or — for browsers, which
//! cannot set headers on a WebSocket — a `Sec-WebSocket-Protocol` entry `axe.bearer.<token>`
//! offered together with `axe.v1`. Never the query string: URLs end up in logs and histories.

use axum::http::{header, HeaderMap};
use protocol::{BEARER_SUBPROTOCOL_PREFIX, SUBPROTOCOL};

/// The token of a request, if it carries one the accepted way.
pub fn token(headers: &HeaderMap) -> Option<&str> {
    if let Some(value) = headers.get(header::AUTHORIZATION) {
        let value = value.to_str().ok()?;
        let (scheme, token) = value.split_once(' ')?;
        return scheme.eq_ignore_ascii_case("bearer").then(|| token.trim());
    }
    subprotocol_token(headers)
}

/// The token offered as a subprotocol entry, only when `axe.v1` is offered too.
fn subprotocol_token(headers: &HeaderMap) -> Option<&str> {
    let offered: Vec<&str> = headers
        .get_all(header::SEC_WEBSOCKET_PROTOCOL)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .map(str::trim)
        .collect();
    if !offered.contains(&SUBPROTOCOL) {
        return None;
    }
    offered
        .iter()
        .find_map(|entry| entry.strip_prefix(BEARER_SUBPROTOCOL_PREFIX))
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(pairs: &[(header::HeaderName, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(name.clone(), HeaderValue::from_str(value).unwrap());
        }
        map
    }

    #[test]
    fn a_bearer_header_or_a_subprotocol_entry_with_axe_v1() {
        assert_eq!(
            token(&headers(&[(header::AUTHORIZATION, "Bearer abc.def.ghi")])),
            Some("abc.def.ghi")
        );
        assert_eq!(
            token(&headers(&[(header::AUTHORIZATION, "bearer x")])),
            Some("x")
        );
        assert_eq!(
            token(&headers(&[(header::AUTHORIZATION, "Basic dXNlcg==")])),
            None
        );
        let offered = headers(&[(
            header::SEC_WEBSOCKET_PROTOCOL,
            "axe.v1, axe.bearer.abc.def.ghi",
        )]);
        assert_eq!(token(&offered), Some("abc.def.ghi"));
        let split = headers(&[
            (header::SEC_WEBSOCKET_PROTOCOL, "axe.bearer.t"),
            (header::SEC_WEBSOCKET_PROTOCOL, "axe.v1"),
        ]);
        assert_eq!(token(&split), Some("t"));
        let without_v1 = headers(&[(header::SEC_WEBSOCKET_PROTOCOL, "axe.bearer.t")]);
        assert_eq!(token(&without_v1), None);
        assert_eq!(token(&HeaderMap::new()), None);
    }
}
