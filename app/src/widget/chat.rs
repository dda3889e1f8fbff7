//! The conversation log and the message input, shared by the panel and the canvas.

use super::status::{InputHint, PendingNotice, QueuedNotice, RateLimitNotice, StorageNotice};
use crate::{
    markdown::LiveMarkdown,
    store::{Author, AxeStore, EntryStatus},
};
use leptos::{ev::KeyboardEvent, html, prelude::*};
use protocol::FinishReason;

/// The conversation; new entries are announced to screen readers and scrolled into view.
#[component]
pub fn ChatLog() -> impl IntoView {
    let store = AxeStore::expect();
    let log: NodeRef<html::Ol> = NodeRef::new();
    Effect::new(move || {
        store.messages.track();
        if let Some(element) = log.get() {
            // After the frame that renders the new entry, so its height counts.
            request_animation_frame(move || element.set_scroll_top(element.scroll_height()));
        }
    });
    let earlier = move || {
        store.has_earlier.get().then(|| {
            view! {
                <button type="button" class="load-earlier" on:click=move |_| store.load_earlier()>
                    "Load earlier messages"
                </button>
            }
        })
    };
    view! {
        {earlier}
        <ol class="chat-log" node_ref=log aria-live="polite" aria-label="Conversation" tabindex="0">
            <For each=move || store.messages.get() key=|entry| entry.id let:entry>
                {
                    let (class, who) = match entry.author {
                        Author::User => ("msg user", "You"),
                        Author::Assistant => ("msg assistant", "AXE"),
                        Author::Notice => ("msg notice", "Notice"),
                    };
                    let text = entry.text.clone();
                    let status = entry.status.clone();
                    let body = match entry.author {
                        Author::Assistant => {
                            let status = status.clone();
                            let streaming = Signal::derive(move || status.get() == EntryStatus::Streaming);
                            view! { <LiveMarkdown text streaming/> }.into_any()
                        }
                        _ => view! { <p class="plain">{move || text.get()}</p> }.into_any(),
                    };
                    let label = move || match status.get() {
                        EntryStatus::Streaming => Some(("entry-status streaming", "Generating…")),
                        EntryStatus::Ended(FinishReason::Stop | FinishReason::Length) => None,
                        EntryStatus::Ended(FinishReason::Stopped) => Some(("entry-status stopped", "Stopped")),
                        EntryStatus::Ended(FinishReason::Error) => Some(("entry-status failed", "Failed")),
                        EntryStatus::Ended(FinishReason::Interrupted) => Some(("entry-status failed", "Interrupted")),
                    };
                    view! {
                        <li class=class>
                            <span class="sr-only">{who} ": "</span>
                            {body}
                            {move || label().map(|(class, text)| view! { <span class=class>{text}</span> })}
                        </li>
                    }
                }
            </For>
        </ol>
    }
}

/// The input: Enter sends, Shift+Enter makes a new line; Send is disabled while offline.
#[component]
pub fn ChatInput() -> impl IntoView {
    let store = AxeStore::expect();
    // In the store: it survives switching between panel and canvas, and text typed into the
    // loader's placeholder before the widget's code arrived starts it.
    let draft = store.draft;
    let input: NodeRef<html::Textarea> = NodeRef::new();
    let can_send = move || {
        store.status.get().is_connected()
            && !store.awaiting_reply.get()
            && !draft.get().trim().is_empty()
    };
    let send = move || {
        if !store.status.get_untracked().is_connected() || store.awaiting_reply.get_untracked() {
            return;
        }
        let text = draft.get_untracked().trim().to_owned();
        if text.is_empty() {
            return;
        }
        store.send_chat(text);
        draft.set(String::new());
    };
    let on_key = move |event: KeyboardEvent| {
        if event.key() == "Enter" && !event.shift_key() && !event.is_composing() {
            event.prevent_default();
            send();
        }
    };
    // Focus the input when the panel or canvas opens.
    Effect::new(move || {
        if let Some(element) = input.get() {
            let _ = element.focus();
        }
    });
    view! {
        <form class="chat-input" on:submit=move |event| { event.prevent_default(); send(); }>
            <textarea
                node_ref=input
                rows="2"
                aria-label="Message AXE"
                placeholder="Ask AXE…"
                prop:value=move || draft.get()
                on:input=move |event| draft.set(event_target_value(&event))
                on:keydown=on_key
            ></textarea>
            {move || if store.awaiting_reply.get() {
                view! {
                    <button type="button" class="stop" on:click=move |_| store.send_stop()
                        disabled=move || !store.status.get().is_connected()>
                        "Stop"
                    </button>
                }.into_any()
            } else {
                view! { <button type="submit" disabled=move || !can_send()>"Send"</button> }.into_any()
            }}
        </form>
        <InputHint/>
        <QueuedNotice/>
        <RateLimitNotice/>
        <StorageNotice/>
        <PendingNotice/>
    }
}
