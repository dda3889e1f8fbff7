//! The browser's calls to the sessions API (`/api/axe/sessions…`) and to the host page's token
//! callback. Browser only (`browser`).

use crate::credentials::Credentials;
use js_sys::{Function, Promise};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{Request, RequestInit, Response};

/// Why a call did not give credentials.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// The server answered with this status (401, 403, 429…).
    Status(u16),
    /// No answer (the server is down, the network is gone) or an unreadable one.
    Unreachable,
}

async fn call(
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<String>,
) -> Result<(u16, String), Failure> {
    let init = RequestInit::new();
    init.set_method(method);
    let headers = web_sys::Headers::new().map_err(|_| Failure::Unreachable)?;
    if let Some(token) = token {
        headers
            .set("Authorization", &format!("Bearer {token}"))
            .map_err(|_| Failure::Unreachable)?;
    }
    if let Some(body) = body {
        headers
            .set("Content-Type", "application/json")
            .map_err(|_| Failure::Unreachable)?;
        init.set_body(&JsValue::from_str(&body));
    }
    init.set_headers(&headers);
    let url = format!("{}{path}", crate::host::server_origin());
    let request = Request::new_with_str_and_init(&url, &init).map_err(|_| Failure::Unreachable)?;
    let window = web_sys::window().ok_or(Failure::Unreachable)?;
    let response: Response = JsFuture::from(window.fetch_with_request(&request))
        .await
        .map_err(|_| Failure::Unreachable)?
        .unchecked_into();
    let status = response.status();
    let text = match response.text() {
        Ok(promise) => JsFuture::from(promise)
            .await
            .ok()
            .and_then(|t| t.as_string())
            .unwrap_or_default(),
        Err(_) => String::new(),
    };
    Ok((status, text))
}

/// The sessions API's answer.
#[derive(serde::Deserialize)]
struct Grant {
    session_id: String,
    #[serde(default)]
    token: Option<String>,
    #[serde(default)]
    expires_at: u64,
}

/// Reads a sessions API grant; `token` is used when the grant has none (jwt mode).
fn grant(status: u16, body: &str, token: Option<&str>) -> Result<Credentials, Failure> {
    if !(200..300).contains(&status) {
        return Err(Failure::Status(status));
    }
    let grant: Grant = serde_json::from_str(body).map_err(|_| Failure::Unreachable)?;
    let token = grant
        .token
        .or_else(|| token.map(str::to_owned))
        .ok_or(Failure::Unreachable)?;
    Ok(Credentials {
        session_id: grant.session_id,
        token,
        expires_at: grant.expires_at,
    })
}

/// A session: a new one, or `session_id` claimed. In anonymous mode (`token` `None`) it comes
/// with a token for a fresh anonymous subject; with the host's `token`, it is that subject's.
pub async fn create_session(
    token: Option<&str>,
    session_id: Option<&str>,
) -> Result<Credentials, Failure> {
    #[derive(serde::Serialize)]
    struct Create<'a> {
        session_id: Option<&'a str>,
    }
    let body = serde_json::to_string(&Create { session_id }).unwrap_or_else(|_| "{}".into());
    let (status, text) = call("POST", "/api/axe/sessions", token, Some(body)).await?;
    grant(status, &text, token)
}

/// A fresh anonymous token for `current`'s session.
pub async fn refresh(current: &Credentials) -> Result<Credentials, Failure> {
    let path = format!("/api/axe/sessions/{}/token", current.session_id);
    let (status, text) = call("POST", &path, Some(&current.token), None).await?;
    grant(status, &text, None)
}

/// The status of `GET /api/axe/sessions/{id}` with `credentials`: whether they open it.
pub async fn check(credentials: &Credentials) -> Option<u16> {
    let path = format!("/api/axe/sessions/{}", credentials.session_id);
    call("GET", &path, Some(&credentials.token), None)
        .await
        .ok()
        .map(|(status, _)| status)
}

/// A token from the host page's callback (which may return it or a promise of it).
pub async fn host_token(source: &Function) -> Option<String> {
    let returned = source.call0(&JsValue::NULL).ok()?;
    let value = match returned.dyn_into::<Promise>() {
        Ok(promise) => JsFuture::from(promise).await.ok()?,
        Err(value) => value,
    };
    value.as_string().filter(|t| !t.is_empty())
}
