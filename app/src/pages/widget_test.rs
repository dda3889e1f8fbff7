//! `/widget-test`: a demo host page ("AXE Test Mode") with the widget minimized in a corner.

use crate::{store::WidgetView, widget::AxeWidget};
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

/// The widget test page; `?view=panel` or `?view=canvas` opens the widget in that form.
#[component]
pub fn WidgetTestPage() -> impl IntoView {
    let initial = match use_query_map().read_untracked().get("view").as_deref() {
        Some("panel") => WidgetView::Expanded,
        Some("canvas") => WidgetView::Canvas,
        _ => WidgetView::Minimized,
    };
    view! {
        <main class="host-page">
            <h1>"AXE Test Mode"</h1>
            <p>"This page stands in for a site that embeds AXE. The assistant waits in the bottom-right corner."</p>
            <p><a href="/">"Back to the start page"</a></p>
        </main>
        <div class="axe-root">
            <AxeWidget initial/>
        </div>
    }
}
