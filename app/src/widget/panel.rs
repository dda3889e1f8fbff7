//! The minimized button and the 320x480 expanded chat panel.

use super::{
    chat::{ChatInput, ChatLog},
    header::WidgetHeader,
    status::TakenOverNotice,
};
use crate::store::{AxeStore, WidgetView};
use leptos::prelude::*;

/// The floating button that opens the panel.
#[component]
pub fn Minimized() -> impl IntoView {
    let store = AxeStore::expect();
    view! {
        <button type="button" class="axe-launcher" aria-label="Open AXE assistant"
            on:click=move |_| store.view.set(WidgetView::Expanded)>
            "AXE"
        </button>
    }
}

/// The chat panel.
#[component]
pub fn Expanded() -> impl IntoView {
    // Erased to `AnyView`: the fully typed tree is too deep for release builds.
    let header = view! { <WidgetHeader form=WidgetView::Expanded/> }.into_any();
    let store = AxeStore::expect();
    let conflict_waits = move || {
        store.conflicts.with(|c| c.first().map(|k| k.file_name.clone())).map(|name| {
            view! {
                <p class="hint warning" role="status">
                    {format!("Your edit of {name} collided with another one: open the canvas to resolve it.")}
                </p>
            }
        })
    };
    view! {
        <section class="axe-panel" aria-label="AXE assistant">
            {header}
            <TakenOverNotice/>
            {conflict_waits}
            <ChatLog/>
            <ChatInput/>
        </section>
    }
}
