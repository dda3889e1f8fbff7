//! The full-screen canvas: 40 % chat, 60 % code editor, the diff overlay; Esc leaves it.

use super::{
    chat::{ChatInput, ChatLog},
    conflict_view::ConflictOverlay,
    diff_view::DiffOverlay,
    editor::Editor,
    header::WidgetHeader,
    status::TakenOverNotice,
};
use crate::store::WidgetView;
use leptos::prelude::*;

/// The canvas view.
#[component]
pub fn Canvas() -> impl IntoView {
    #[cfg(feature = "browser")]
    {
        let store = crate::store::AxeStore::expect();
        let handle = window_event_listener(leptos::ev::keydown, move |event| {
            if event.key() == "Escape" {
                store.view.set(WidgetView::Expanded);
            }
        });
        on_cleanup(move || handle.remove());
    }
    // Each part is erased to `AnyView`: the fully typed tree is too deep for release builds and
    // costs compile time and wasm size.
    let header = view! { <WidgetHeader form=WidgetView::Canvas/> }.into_any();
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
            <ConflictOverlay/>
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
