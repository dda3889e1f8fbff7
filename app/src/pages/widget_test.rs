//! `/widget-test`: a demo host page ("AXE Test Mode") with the widget minimized in a corner.

use crate::{store::WidgetView, widget::AxeWidget};
use leptos::prelude::*;

/// The widget test page.
#[component]
pub fn WidgetTestPage() -> impl IntoView {
    view! {
        <main class="host-page">
            <h1>"AXE Test Mode"</h1>
            <p>"This page stands in for a site that embeds AXE. The assistant waits in the bottom-right corner."</p>
            <p><a href="/">"Back to the start page"</a></p>
        </main>
        <div class="axe-root">
            <AxeWidget initial=WidgetView::Minimized/>
        </div>
    }
}
