//! The AXE widget: one store and one connection, shown as a button, a panel or the canvas.
//!
//! - `header`: the header the panel and the canvas share.
//! - `status`: the connection icon, badge, offline warning and take-over notice.
//! - `chat`: the conversation log and the input.
//! - `panel`: the minimized button and the 320x480 expanded panel.
//! - `canvas`: the full-screen canvas (40 % chat, 60 % editor) with the diff overlay.
//! - `editor`: the code editor of the canvas.
//! - `diff_view`: the diff overlay with Apply and Reject.
//! - `conflict_view`: an edit that could not be merged, both sides and a draft to resolve.

mod canvas;
mod chat;
mod conflict_view;
mod diff_view;
mod editor;
mod header;
mod panel;
mod status;

use crate::{
    connection,
    store::{AxeStore, WidgetView},
};
use leptos::prelude::*;

/// The widget over `store` (made by whoever mounts it, who keeps it to act on the widget). It
/// connects on mount and disconnects on unmount.
#[component]
pub fn AxeWidget(store: AxeStore) -> impl IntoView {
    provide_context(store);
    connection::start(store);
    Effect::new(move || {
        if store.view.get() != WidgetView::Minimized {
            store.was_open.set_value(true);
        }
    });
    move || {
        match store.view.get() {
        WidgetView::Minimized => view! { <panel::Minimized/> }.into_any(),
        WidgetView::Expanded => view! { <panel::Expanded/> }.into_any(),
        WidgetView::Canvas => view! {
            <Suspense fallback=|| view! { <p class="canvas-loading" role="status">"Loading the canvas…"</p> }>
                {Suspend::new(async { canvas_view().await })}
            </Suspense>
        }
        .into_any(),
    }
    }
}

/// The canvas with its editor, diff and conflict views: with `cargo leptos build --split`, a
/// wasm chunk of its own, loaded the first time the canvas opens, so the panel does not pay
/// for it.
#[lazy]
fn canvas_view() -> AnyView {
    view! { <canvas::Canvas/> }.into_any()
}
