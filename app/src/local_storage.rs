//! The browser's localStorage, read and written by key; outside the browser (SSR) it holds
//! nothing, and a browser without storage (private mode, quota) keeps things in memory only.

/// The value under `key`, if there is storage and one.
pub fn load(key: &str) -> Option<String> {
    #[cfg(feature = "browser")]
    {
        web_sys::window()?
            .local_storage()
            .ok()??
            .get_item(key)
            .ok()?
    }
    #[cfg(not(feature = "browser"))]
    {
        let _ = key;
        None
    }
}

/// Stores `value` under `key`; `false` if it could not be stored (no storage, private mode,
/// quota full). Callers keep their state in memory as well, and say so where it matters.
pub fn save(key: &str, value: &str) -> bool {
    #[cfg(feature = "browser")]
    {
        web_sys::window()
            .and_then(|w| w.local_storage().ok().flatten())
            .is_some_and(|storage| storage.set_item(key, value).is_ok())
    }
    #[cfg(not(feature = "browser"))]
    {
        let _ = (key, value);
        false
    }
}

/// Removes `key`, if there is storage.
pub fn remove(key: &str) {
    #[cfg(feature = "browser")]
    {
        if let Some(storage) = web_sys::window().and_then(|w| w.local_storage().ok().flatten()) {
            // Nothing to undo if the browser refuses.
            let _ = storage.remove_item(key);
        }
    }
    #[cfg(not(feature = "browser"))]
    {
        let _ = key;
    }
}
