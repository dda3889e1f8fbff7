//! The session id: created on first visit and kept in localStorage, so a reload continues the
//! same session.

/// The localStorage key holding the session id.
pub const STORAGE_KEY: &str = "axe.session_id";

/// This browser's session id, created and stored on first use.
#[cfg(feature = "hydrate")]
pub fn session_id() -> String {
    if let Some(existing) =
        crate::local_storage::load(STORAGE_KEY).filter(|id| protocol::SessionId::parse(id).is_ok())
    {
        return existing;
    }
    let fresh = new_session_id();
    // Without storage (private mode) the session simply lasts as long as the page.
    crate::local_storage::save(STORAGE_KEY, &fresh);
    fresh
}

/// A random id of `s-` and 24 characters of `[a-z0-9]` from the browser's CSPRNG, so a session
/// id cannot be guessed.
#[cfg(feature = "hydrate")]
fn new_session_id() -> String {
    const ALPHABET: &[u8] = b"0123456789abcdefghijklmnopqrstuvwxyz";
    let mut bytes = [0u8; 24];
    let filled = web_sys::window()
        .and_then(|w| w.crypto().ok())
        .and_then(|c| c.get_random_values_with_u8_array(&mut bytes).ok())
        .is_some();
    if !filled {
        // Every browser that runs wasm has crypto; this keeps the widget working regardless.
        for byte in &mut bytes {
            *byte = (js_sys::Math::random() * 256.0) as u8;
        }
    }
    let mut id = String::from("s-");
    id.extend(
        bytes
            .iter()
            .map(|b| char::from(ALPHABET[usize::from(*b) % ALPHABET.len()])),
    );
    id
}
