//! The header the panel and the canvas share: title, connection state, model, the button that
//! switches between the two forms, and Minimize.

use super::status::{ModelName, StatusBadge, StatusIcon};
use crate::store::{AxeStore, WidgetView};
use leptos::prelude::*;

/// The header of the panel (`form` = `Expanded`) or of the canvas (`form` = `Canvas`).
#[component]
pub fn WidgetHeader(form: WidgetView) -> impl IntoView {
    let store = AxeStore::expect();
    let in_canvas = form == WidgetView::Canvas;
    let (title, status) = if in_canvas {
        ("AXE Canvas", view! { <StatusBadge/> }.into_any())
    } else {
        ("AXE", view! { <StatusIcon/> }.into_any())
    };
    let switch = if in_canvas {
        view! {
            <button type="button" aria-label="Exit canvas" title="Exit canvas (Esc)"
                on:click=move |_| store.view.set(WidgetView::Expanded)>"Exit canvas"</button>
        }
        .into_any()
    } else {
        view! {
            <button type="button" aria-label="Maximize to canvas" title="Maximize"
                on:click=move |_| store.view.set(WidgetView::Canvas)>
                <svg viewBox="0 0 24 24" width="14" height="14" aria-hidden="true" fill="none"
                    stroke="currentColor" stroke-width="2" stroke-linecap="round">
                    <path d="M4 9V4h5M20 9V4h-5M4 15v5h5M20 15v5h-5"/>
                </svg>
            </button>
        }
        .into_any()
    };
    view! {
        <header class="axe-header">
            <h2>{title}</h2>
            {status}
            <ModelName/>
            <span class="spacer"></span>
            {switch}
            <button type="button" aria-label="Minimize assistant" title="Minimize"
                on:click=move |_| store.view.set(WidgetView::Minimized)>"–"</button>
        </header>
    }
}
