//! `/canvas`: the canvas on its own, full screen.

use crate::{store::WidgetView, widget::AxeWidget};
use leptos::prelude::*;

/// The canvas page.
#[component]
pub fn CanvasPage() -> impl IntoView {
    view! {
        <div class="axe-root">
            <AxeWidget initial=WidgetView::Canvas/>
        </div>
    }
}
