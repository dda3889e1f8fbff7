//! `/widget-test`: a demo host page ("AXE Test Mode"), which loads AXE through the script tag
//! exactly as a third-party site would; the widget waits minimized in the corner.

use super::EmbedScript;
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

/// The widget test page; `?view=panel` or `?view=canvas` opens the widget in that form.
#[component]
pub fn WidgetTestPage() -> impl IntoView {
    let view = match use_query_map().read_untracked().get("view").as_deref() {
        Some("panel") => Some("panel"),
        Some("canvas") => Some("canvas"),
        _ => None,
    };
    let script = match view {
        Some(view) => view! { <EmbedScript view/> }.into_any(),
        None => view! { <EmbedScript/> }.into_any(),
    };
    view! {
        <main class="host-page">
            <h1>"AXE Test Mode"</h1>
            <p>"This page stands in for a site that embeds AXE. The assistant waits in the bottom-right corner."</p>
            <p><a href="/">"Back to the start page"</a></p>
        </main>
        {script}
    }
}
