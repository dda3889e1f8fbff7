//! The canvas's code editor: the open file with line numbers; Tab indents; edits reach the
//! server as `file_updated` after 2 s without typing.

use crate::store::AxeStore;
use leptos::{ev::KeyboardEvent, html, prelude::*};
use std::time::Duration;

/// Quiet time after the last keystroke before the file is sent.
const SYNC_DELAY: Duration = Duration::from_secs(2);

/// The editor.
#[component]
pub fn Editor() -> impl IntoView {
    let store = AxeStore::expect();
    let area: NodeRef<html::Textarea> = NodeRef::new();
    let pending = StoredValue::new(None::<TimeoutHandle>);
    let line_numbers = move || {
        let count = store.file.with(|f| f.content.split('\n').count().max(1));
        (1..=count)
            .map(|n| n.to_string())
            .collect::<Vec<_>>()
            .join("\n")
    };
    let schedule_sync = move || {
        if let Some(previous) = pending.get_value() {
            previous.clear();
        }
        let handle = set_timeout_with_handle(move || store.send_file_update(), SYNC_DELAY).ok();
        pending.set_value(handle);
    };
    let on_input = move |event| {
        let value = event_target_value(&event);
        store.file.update(|file| file.content = value);
        schedule_sync();
    };
    let on_key = move |event: KeyboardEvent| {
        if event.key() != "Tab" || event.ctrl_key() || event.alt_key() || event.meta_key() {
            return;
        }
        let Some(element) = area.get() else { return };
        event.prevent_default();
        // setRangeText keeps the browser's undo history, unlike setting the value.
        let start = element.selection_start().ok().flatten().unwrap_or(0);
        let end = element.selection_end().ok().flatten().unwrap_or(start);
        let _ = element.set_range_text_with_start_and_end_and_mode("    ", start, end, "end");
        store.file.update(|file| file.content = element.value());
        schedule_sync();
    };
    on_cleanup(move || {
        if let Some(handle) = pending.get_value() {
            handle.clear();
        }
    });
    let file_name = move || store.file.with(|f| format!("{} ({})", f.name, f.language));
    view! {
        <div class="editor">
            <div class="editor-title">{file_name}</div>
            <div class="editor-body">
                <pre class="gutter" aria-hidden="true">{line_numbers}</pre>
                <textarea
                    node_ref=area
                    class="code"
                    spellcheck="false"
                    aria-label="Code editor"
                    prop:value=move || store.file.with(|f| f.content.clone())
                    on:input=on_input
                    on:keydown=on_key
                ></textarea>
            </div>
        </div>
    }
}
