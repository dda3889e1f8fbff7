//! The minimized button and the 320x480 expanded chat panel.

use super::{
    chat::{ChatInput, ChatLog},
    header::WidgetHeader,
    status::TakenOverNotice,
};
use crate::store::{AxeStore, WidgetView};
use leptos::{html, prelude::*};

/// The floating button that opens the panel. When the panel or canvas was just closed, focus
/// comes back to it (on first showing, the page's focus is left alone).
#[component]
pub fn Minimized() -> impl IntoView {
    let store = AxeStore::expect();
    let button: NodeRef<html::Button> = NodeRef::new();
    if store.was_open.get_value() {
        Effect::new(move || {
            if let Some(button) = button.get() {
                let _ = button.focus();
            }
        });
    }
    view! {
        <button type="button" class="axe-launcher" aria-label="Open AXE assistant" node_ref=button
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
    // Esc closes the panel (the canvas has its own: back to the panel).
    let on_key = move |event: leptos::ev::KeyboardEvent| {
        if event.key() == "Escape" {
            store.view.set(WidgetView::Minimized);
        }
    };
    view! {
        <section class="axe-panel" aria-label="AXE assistant" on:keydown=on_key>
            {header}
            <TakenOverNotice/>
            {conflict_waits}
            <ChatLog/>
            <ChatInput/>
        </section>
    }
}
