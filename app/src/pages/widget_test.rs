//! `/widget-test`: a demo host page ("AXE Test Mode"), which loads AXE through the script tag
//! exactly as a third-party site would; the widget waits minimized in the corner.

use super::EmbedScript;
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

/// The widget test page; `?view=panel` or `?view=canvas` opens the widget in that form,
/// `?telemetry=off` opts it out of telemetry.
#[component]
pub fn WidgetTestPage() -> impl IntoView {
    let query = use_query_map().read_untracked();
    let view = match query.get("view").as_deref() {
        Some("panel") => Some("panel"),
        Some("canvas") => Some("canvas"),
        _ => None,
    };
    let telemetry = (query.get("telemetry").as_deref() == Some("off")).then_some("off");
    let script = match (view, telemetry) {
        (Some(view), Some(telemetry)) => view! { <EmbedScript view telemetry/> }.into_any(),
        (Some(view), None) => view! { <EmbedScript view/> }.into_any(),
        (None, Some(telemetry)) => view! { <EmbedScript telemetry/> }.into_any(),
        (None, None) => view! { <EmbedScript/> }.into_any(),
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
