//! The page that embeds the widget: where AXE's server and files are, how to get a token, and
//! what the host is told (`file_update`, `diff_applied`, `diff_rejected`, `connection`).
//!
//! One widget per page, so the bridge is per thread (the browser runs the widget on one). The
//! events are plain Rust values: the reducer emits them natively too, where tests read them
//! back with [`take_recorded`].

use serde::Serialize;

/// What the host page is told.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum HostEvent {
    /// The server's copy of a file changed (a diff applied, a merge, another tab's edit): the
    /// host can write `content` into its own editor.
    FileUpdate {
        /// The file's id.
        file_id: String,
        /// Its whole new content.
        content: String,
        /// The server's version of it.
        version: Option<i64>,
    },
    /// A diff the person applied is stored; `content` is the file with it.
    DiffApplied {
        /// The diff.
        diff_id: String,
        /// The file it changed.
        file_id: String,
        /// The file's content with the change.
        content: String,
    },
    /// A diff the person rejected is forgotten.
    DiffRejected {
        /// The diff.
        diff_id: String,
    },
    /// The connection changed: `connected`, `connecting`, `offline`, `taken_over`,
    /// `sign_in_expired` or `forbidden`.
    Connection {
        /// Where it stands.
        status: &'static str,
    },
}

impl HostEvent {
    /// The event's name for `AXE.on(name, …)`.
    pub fn name(&self) -> &'static str {
        match self {
            Self::FileUpdate { .. } => "file_update",
            Self::DiffApplied { .. } => "diff_applied",
            Self::DiffRejected { .. } => "diff_rejected",
            Self::Connection { .. } => "connection",
        }
    }
}

/// Tells the host `event`.
pub fn emit(event: HostEvent) {
    imp::emit(event);
}

#[cfg(not(feature = "browser"))]
mod imp {
    use super::HostEvent;
    use std::cell::RefCell;

    thread_local! {
        static RECORDED: RefCell<Vec<HostEvent>> = const { RefCell::new(Vec::new()) };
    }

    /// Natively nobody listens: events are kept for tests.
    pub fn emit(event: HostEvent) {
        RECORDED.with_borrow_mut(|events| events.push(event));
    }

    /// The events emitted on this thread since the last call.
    pub fn take_recorded() -> Vec<HostEvent> {
        RECORDED.with_borrow_mut(std::mem::take)
    }
}

#[cfg(not(feature = "browser"))]
pub use imp::take_recorded;

#[cfg(feature = "browser")]
pub use imp::{asset_url, configure, import_module, server_origin, token_source, Bridge};

#[cfg(feature = "browser")]
mod imp {
    use super::HostEvent;
    use js_sys::{Function, Promise};
    use std::cell::RefCell;
    use wasm_bindgen::JsValue;

    /// What the loader (or the npm package) hands the widget when it mounts it.
    #[derive(Clone, Default)]
    pub struct Bridge {
        /// AXE's server, e.g. `https://axe.example.com` (no trailing slash); the page's own
        /// origin when empty.
        pub server: String,
        /// Where the widget's files are (the editor module is `{assets}/editor/axe-editor.js`).
        pub assets: String,
        /// `(name, detail)`: tells the host an event.
        pub emit: Option<Function>,
        /// `(url) => import(url)`: the browser's dynamic import, which Rust cannot spell.
        pub import: Option<Function>,
        /// `() => token | Promise<token>`: the host's token, when the host mints them.
        pub get_token: Option<Function>,
    }

    thread_local! {
        static BRIDGE: RefCell<Bridge> = RefCell::new(Bridge::default());
    }

    /// Replaces the bridge (mounting) or changes its token source (`AXE.configure`).
    pub fn configure(change: impl FnOnce(&mut Bridge)) {
        BRIDGE.with_borrow_mut(change);
    }

    /// AXE's server origin.
    pub fn server_origin() -> String {
        let configured = BRIDGE.with_borrow(|b| b.server.clone());
        if !configured.is_empty() {
            return configured;
        }
        web_sys::window()
            .and_then(|w| w.location().origin().ok())
            .unwrap_or_default()
    }

    /// The URL of the widget's file at `path` (relative to its asset folder).
    pub fn asset_url(path: &str) -> String {
        let assets = BRIDGE.with_borrow(|b| b.assets.clone());
        if assets.is_empty() {
            format!("{}/{path}", server_origin())
        } else {
            format!("{}/{path}", assets.trim_end_matches('/'))
        }
    }

    /// The host's token callback, if it gave one.
    pub fn token_source() -> Option<Function> {
        BRIDGE.with_borrow(|b| b.get_token.clone())
    }

    /// Imports the ES module at `url`.
    pub fn import_module(url: &str) -> Result<Promise, JsValue> {
        let import = BRIDGE
            .with_borrow(|b| b.import.clone())
            .ok_or_else(|| JsValue::from_str("the page gave the widget no way to load modules"))?;
        let promise = import.call1(&JsValue::NULL, &JsValue::from_str(url))?;
        Ok(Promise::resolve(&promise))
    }

    /// Calls the host's event callback; a host that throws does not stop the widget.
    pub fn emit(event: HostEvent) {
        let Some(emit) = BRIDGE.with_borrow(|b| b.emit.clone()) else {
            return;
        };
        let Ok(json) = serde_json::to_string(&event) else {
            return;
        };
        let detail = js_sys::JSON::parse(&json).unwrap_or(JsValue::NULL);
        // The host's callback failing is the host's business; it is logged by the browser.
        let _ = emit.call2(&JsValue::NULL, &JsValue::from_str(event.name()), &detail);
    }
}
