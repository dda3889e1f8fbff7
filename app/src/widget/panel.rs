//! The minimized button and the 320x480 expanded chat panel.

use super::{
    chat::{ChatInput, ChatLog},
    status::{ModelName, StatusIcon, TakenOverNotice},
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

/// The button that folds the widget back to its launcher, in the panel's and canvas's headers.
#[component]
pub fn MinimizeButton() -> impl IntoView {
    let store = AxeStore::expect();
    view! {
        <button type="button" aria-label="Minimize assistant" title="Minimize"
            on:click=move |_| store.view.set(WidgetView::Minimized)>"–"</button>
    }
}

/// The chat panel.
#[component]
pub fn Expanded() -> impl IntoView {
    let store = AxeStore::expect();
    let header = view! {
            <header class="axe-header">
                <h2>"AXE"</h2>
                <StatusIcon/>
                <ModelName/>
                <span class="spacer"></span>
                <button type="button" aria-label="Maximize to canvas" title="Maximize"
                    on:click=move |_| store.view.set(WidgetView::Canvas)>
                    <svg viewBox="0 0 24 24" width="14" height="14" aria-hidden="true" fill="none"
                        stroke="currentColor" stroke-width="2" stroke-linecap="round">
                        <path d="M4 9V4h5M20 9V4h-5M4 15v5h5M20 15v5h-5"/>
                    </svg>
                </button>
                <MinimizeButton/>
            </header>
    }
    .into_any();
    view! {
        <section class="axe-panel" aria-label="AXE assistant">
            {header}
            <TakenOverNotice/>
            <ChatLog/>
            <ChatInput/>
        </section>
    }
}
