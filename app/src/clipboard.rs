//! Copying text to the clipboard (browser only; a no-op when rendering on the server).

/// Copies `text` to the system clipboard.
#[cfg(feature = "browser")]
pub fn copy(text: &str) {
    if let Some(window) = web_sys::window() {
        // The promise is not awaited: a refused copy leaves nothing to undo.
        let _ = window.navigator().clipboard().write_text(text);
    }
}

/// Copies `text` to the system clipboard.
#[cfg(not(feature = "browser"))]
pub fn copy(_text: &str) {}
