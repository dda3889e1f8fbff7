//! Connection indicators: the Wifi icon of the panel, the badge of the canvas, the offline
//! warning under the input, and the notice shown when another tab took the session over.

use crate::store::{AxeStore, ConnectionStatus};
use leptos::prelude::*;

fn label(status: ConnectionStatus) -> &'static str {
    if status.is_connected() {
        "Connected"
    } else {
        "Offline"
    }
}

/// The Wifi / WifiOff icon with its state as an accessible status.
#[component]
pub fn StatusIcon() -> impl IntoView {
    let store = AxeStore::expect();
    let connected = move || store.status.get().is_connected();
    view! {
        <span role="status" class="status-icon" class:online=connected aria-label=move || label(store.status.get())>
            <svg viewBox="0 0 24 24" width="16" height="16" aria-hidden="true" fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round">
                <path d="M5 12.55a11 11 0 0 1 14.08 0"/>
                <path d="M1.42 9a16 16 0 0 1 21.16 0"/>
                <path d="M8.53 16.11a6 6 0 0 1 6.95 0"/>
                <circle cx="12" cy="20" r="1"/>
                <Show when=move || !connected()>
                    <line x1="2" y1="2" x2="22" y2="22"/>
                </Show>
            </svg>
        </span>
    }
}

/// The "Connected" / "Offline" badge.
#[component]
pub fn StatusBadge() -> impl IntoView {
    let store = AxeStore::expect();
    view! {
        <span role="status" class="badge" class:online=move || store.status.get().is_connected()>
            {move || label(store.status.get())}
        </span>
    }
}

/// The line under the input: the keyboard hint, or the reconnect warning while offline.
#[component]
pub fn InputHint() -> impl IntoView {
    let store = AxeStore::expect();
    move || match store.status.get() {
        ConnectionStatus::Connected => view! {
            <p class="hint">"Press Enter to send, Shift+Enter for new line"</p>
        }
        .into_any(),
        ConnectionStatus::TakenOver => view! {
            <p class="hint warning">"This session is open in another tab."</p>
        }
        .into_any(),
        _ => view! { <p class="hint warning">"⚠ Reconnecting to server..."</p> }.into_any(),
    }
}

/// The messages made but not yet stored by the server (offline edits, decisions, resends),
/// shown until each is acknowledged; they survive a reload and go out on the next connect.
#[component]
pub fn PendingNotice() -> impl IntoView {
    let store = AxeStore::expect();
    let count = move || store.outbox.with(|o| o.pending.len());
    view! {
        <Show when=move || { count() > 0 }>
            <details class="pending" data-testid="pending">
                <summary>
                    <span data-testid="pending-count">{count}</span>
                    {move || if count() == 1 { " change waiting to be saved" } else { " changes waiting to be saved" }}
                </summary>
                <ol>
                    {move || store.outbox.with(|o| {
                        o.pending.iter().map(|p| view! { <li>{p.label.clone()}</li> }).collect_view()
                    })}
                </ol>
            </details>
        </Show>
    }
}

/// Shown after a take-over: says so, and offers to take the session back.
#[component]
pub fn TakenOverNotice() -> impl IntoView {
    let store = AxeStore::expect();
    view! {
        <Show when=move || store.status.get() == ConnectionStatus::TakenOver>
            <div class="taken-over" role="alert">
                <p>"This session was opened in another tab or window, so it was disconnected here."</p>
                <button type="button" on:click=move |_| store.reclaim.update(|n| *n += 1)>
                    "Use AXE in this tab"
                </button>
            </div>
        </Show>
    }
}

/// The name of what answers, once known.
#[component]
pub fn ModelName() -> impl IntoView {
    let store = AxeStore::expect();
    view! {
        <span class="model" title="The model answering">
            {move || store.model.get().map(|m| {
                if m == "offline-demo" { "offline demo".to_owned() } else { m }
            })}
        </span>
    }
}
