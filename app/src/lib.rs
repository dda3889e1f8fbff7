//! AXE's Leptos application: the HTML shell, the routes and the pages.
//!
//! # Layout
//! - [`shell`]: the document the server renders around every page.
//! - [`App`]: the router with the pages `/`, `/widget-test` and `/canvas`.
//! - `pages`: one module per page; [`SiteInfo`], what the server tells its pages about itself.
//! - [`widget`]: the AXE widget (button, panel, canvas) and its parts.
//! - [`store`]: the widget's reactive state, provided through context.
//! - [`connection`]: the browser's WebSocket to the server: transport only (hydrate only).
//! - [`reducer`]: what each server frame does to the store (native and browser, unit-tested).
//! - [`history`]: snapshots applied to the store, and the shown conversation kept across
//!   reloads.
//! - [`credentials`]: the session and its token, kept in localStorage; when to refresh, what
//!   a refusal means.
//! - `api`: the browser's calls to the sessions API and the host's token callback (hydrate).
//! - [`local_storage`]: localStorage by key (nothing outside the browser).
//! - [`outbox`]: the offline queue of unacknowledged messages, kept in localStorage.
//! - [`pacer`]: when each outbox message goes on the wire (order, window, rate, waits).
//! - [`markdown`], [`highlight`]: safe rendering of replies and code.
//! - `clipboard`: the Copy button's clipboard access.

// Leptos view types nest deeply in release builds (no type erasure there).
#![recursion_limit = "256"]

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, MetaTags, Stylesheet, Title};
use leptos_router::{
    components::{Route, Router, Routes},
    StaticSegment,
};

#[cfg(feature = "hydrate")]
mod api;
mod clipboard;
pub mod connection;
pub mod credentials;
pub mod highlight;
pub mod history;
pub mod local_storage;
pub mod markdown;
pub mod outbox;
pub mod pacer;
mod pages;
pub mod reducer;
pub mod store;
pub mod widget;

pub use pages::landing::SiteInfo;

/// The HTML document around every page, rendered on the server.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <AutoReload options=options.clone()/>
                <HydrationScripts options/>
                <MetaTags/>
            </head>
            <body>
                <App/>
            </body>
        </html>
    }
}

/// The application: stylesheet, title and routes.
#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    view! {
        <Stylesheet id="leptos" href="/pkg/axe.css"/>
        <Title text="AXE assistant"/>
        <Router>
            <Routes fallback=|| view! { <p>"Page not found."</p> }>
                <Route path=StaticSegment("") view=pages::landing::LandingPage/>
                <Route path=StaticSegment("widget-test") view=pages::widget_test::WidgetTestPage/>
                <Route path=StaticSegment("canvas") view=pages::canvas::CanvasPage/>
            </Routes>
        </Router>
    }
}
