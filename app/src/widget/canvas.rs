//! The full-screen canvas: 40 % chat, 60 % code editor, the diff overlay; Esc leaves it.

use super::{
    chat::{ChatInput, ChatLog},
    diff_view::DiffOverlay,
    editor::Editor,
    panel::MinimizeButton,
    status::{ModelName, StatusBadge, TakenOverNotice},
};
use crate::store::{AxeStore, WidgetView};
use leptos::prelude::*;

/// The canvas view.
#[component]
pub fn Canvas() -> impl IntoView {
    let store = AxeStore::expect();
    let leave = move || store.view.set(WidgetView::Expanded);
    #[cfg(feature = "hydrate")]
    {
        let handle = window_event_listener(leptos::ev::keydown, move |event| {
            if event.key() == "Escape" {
                leave();
            }
        });
        on_cleanup(move || handle.remove());
    }
    // Each part is erased to `AnyView`: the fully typed tree is too deep for release builds and
    // costs compile time and wasm size.
    let header = view! {
        <header class="axe-header">
            <h2>"AXE Canvas"</h2>
            <StatusBadge/>
            <ModelName/>
            <span class="spacer"></span>
            <button type="button" aria-label="Exit canvas" title="Exit canvas (Esc)"
                on:click=move |_| leave()>"Exit canvas"</button>
            <MinimizeButton/>
        </header>
    }
    .into_any();
    let chat = view! {
        <div class="canvas-chat">
            <TakenOverNotice/>
            <ChatLog/>
            <ChatInput/>
        </div>
    }
    .into_any();
    let editor = view! {
        <div class="canvas-editor">
            <Editor/>
            <DiffOverlay/>
        </div>
    }
    .into_any();
    view! {
        <section class="axe-canvas" aria-label="AXE canvas">
            {header}
            <div class="canvas-body">{chat}{editor}</div>
        </section>
    }
}
