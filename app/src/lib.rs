//! AXE's Leptos application: the widget, mounted client-side into any page (in a shadow
//! root, by the loader `/axe/embed.js` or the npm package), and AXE's own pages, rendered on the
//! server without hydration (they embed the widget the way any host does).
//!
//! # Layout
//! - [`embed`]: mounting the widget and the host's handle on it (browser only).
//! - [`host`]: the embedding page — where AXE's server and files are, its token callback, the
//!   events it is told.
//! - [`widget`]: the AXE widget (button, panel, canvas) and its parts.
//! - [`store`]: the widget's reactive state, provided through context.
//! - [`connection`]: the browser's WebSocket to the server: transport only (browser only).
//! - [`reducer`]: what each server frame does to the store (native and browser, unit-tested).
//! - [`history`]: snapshots applied to the store, and the shown conversation kept across
//!   reloads.
//! - [`credentials`]: the session and its token, kept in localStorage; when to refresh, what
//!   a refusal means.
//! - `api`: the browser's calls to the sessions API (browser only).
//! - [`local_storage`]: localStorage by key (nothing outside the browser).
//! - [`outbox`]: the offline queue of unacknowledged messages, kept in localStorage.
//! - [`pacer`]: when each outbox message goes on the wire (order, window, rate, waits).
//! - [`telemetry`]: the widget's events and timings, batched to the server.
//! - [`markdown`], [`highlight`]: safe rendering of replies and code.
//! - `clipboard`: the Copy button's clipboard access; [`clock`]: the time in milliseconds.
//! - [`shell`], [`App`] and `pages` (server only): AXE's own pages `/`, `/widget-test` and
//!   `/canvas`; [`SiteInfo`], what the server tells them about itself.

// Leptos view types nest deeply in release builds (no type erasure there).
#![recursion_limit = "256"]

#[cfg(feature = "browser")]
mod api;
mod clipboard;
pub mod clock;
pub mod connection;
pub mod credentials;
#[cfg(feature = "browser")]
pub mod embed;
pub mod highlight;
pub mod history;
pub mod host;
pub mod local_storage;
pub mod markdown;
pub mod outbox;
pub mod pacer;
#[cfg(feature = "ssr")]
mod pages;
pub mod reducer;
pub mod store;
pub mod telemetry;
pub mod widget;

#[cfg(feature = "ssr")]
pub use pages::{landing::SiteInfo, shell, App};
