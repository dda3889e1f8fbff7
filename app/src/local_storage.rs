//! The browser's localStorage, read and written by key; outside the browser (SSR) it holds
//! nothing, and a browser without storage (private mode, quota) keeps things in memory only.

/// The value under `key`, if there is storage and one.
pub fn load(key: &str) -> Option<String> {
    #[cfg(feature = "hydrate")]
    {
        web_sys::window()?
            .local_storage()
            .ok()??
            .get_item(key)
            .ok()?
    }
    #[cfg(not(feature = "hydrate"))]
    {
        let _ = key;
        None
    }
}

/// Stores `value` under `key` if there is storage; a failure (full, denied) is not an error:
/// callers keep their state in memory as well.
pub fn save(key: &str, value: &str) {
    #[cfg(feature = "hydrate")]
    {
        if let Some(storage) = web_sys::window().and_then(|w| w.local_storage().ok().flatten()) {
            let _ = storage.set_item(key, value);
        }
    }
    #[cfg(not(feature = "hydrate"))]
    {
        let _ = (key, value);
    }
}
