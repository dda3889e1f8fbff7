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
        <span role="status" class="badge" class:online=move || store.status.get().is_connected() aria-label=move || label(store.status.get())>
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
        ConnectionStatus::SignInExpired => view! {
            <p class="hint warning">"Sign-in expired."</p>
        }
        .into_any(),
        ConnectionStatus::Forbidden => view! {
            <p class="hint warning">"This conversation belongs to another account."</p>
        }
        .into_any(),
        _ => view! { <p class="hint warning">"⚠ Reconnecting to server..."</p> }.into_any(),
    }
}

/// Shown while the browser refuses to keep the unsent messages (storage full or denied): they
/// are not lost yet, but would be if the tab closed before they are sent.
#[component]
pub fn StorageNotice() -> impl IntoView {
    let store = AxeStore::expect();
    view! {
        <Show when=move || store.storage_refused.get()>
            <p class="hint warning" role="alert">
                "This browser could not save your unsent changes. Keep this tab open until they are sent."
            </p>
        </Show>
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

/// Shown when the connection stopped for a reason only the person can act on: another tab
/// took the session over, the sign-in expired (and no fresh token could be had), or the
/// session belongs to another account. Each offers the one thing to do about it.
#[component]
pub fn TakenOverNotice() -> impl IntoView {
    let store = AxeStore::expect();
    let notice = move || {
        let (text, action) = match store.status.get() {
            ConnectionStatus::TakenOver => (
                "This session was opened in another tab or window, so it was disconnected here.",
                "Use AXE in this tab",
            ),
            ConnectionStatus::SignInExpired => (
                "Sign-in expired. Sign in again in the page around AXE, then try again.",
                "Try again",
            ),
            ConnectionStatus::Forbidden => (
                "This conversation belongs to another account, so it cannot be opened here.",
                "Start a new conversation",
            ),
            _ => return None,
        };
        Some(view! {
            <div class="taken-over" role="alert">
                <p>{text}</p>
                <button type="button" on:click=move |_| store.reclaim.update(|n| *n += 1)>
                    {action}
                </button>
            </div>
        })
    };
    view! { {notice} }
}

/// While the server has asked the widget to wait (a rate limit): when sending resumes, counting
/// down each second. What waits stays in the outbox and goes out by itself.
#[component]
pub fn RateLimitNotice() -> impl IntoView {
    let store = AxeStore::expect();
    let now = RwSignal::new(crate::clock::now_ms());
    #[cfg(feature = "browser")]
    {
        let ticking = StoredValue::new(None::<leptos::prelude::IntervalHandle>);
        Effect::new(move || {
            let waiting = store.paused_until.get().is_some();
            if let Some(handle) = ticking.get_value() {
                handle.clear();
                ticking.set_value(None);
            }
            if waiting {
                now.set(crate::clock::now_ms());
                let handle = set_interval_with_handle(
                    move || {
                        now.set(crate::clock::now_ms());
                        if store
                            .paused_until
                            .get_untracked()
                            .is_some_and(|until| until <= now.get_untracked())
                        {
                            store.paused_until.set(None);
                        }
                    },
                    std::time::Duration::from_millis(250),
                )
                .ok();
                ticking.set_value(handle);
            }
        });
        on_cleanup(move || {
            if let Some(handle) = ticking.get_value() {
                handle.clear();
            }
        });
    }
    let seconds_left = move || {
        store
            .paused_until
            .get()
            .map(|until| ((until - now.get()) / 1000.0).ceil().max(0.0) as u64)
            .filter(|left| *left > 0)
    };
    move || {
        seconds_left().map(|left| {
            view! {
                <p class="hint warning rate-limited" role="status" aria-live="polite">
                    {format!("You can send again in {left} s")}
                </p>
            }
        })
    }
}

/// While a reply waits for one of the server's model slots: its place in line.
#[component]
pub fn QueuedNotice() -> impl IntoView {
    let store = AxeStore::expect();
    move || {
        store.queued.get().map(|(_, position)| {
            let ahead = position.saturating_sub(1);
            let text = if ahead == 0 {
                "Waiting for the model: your reply is next.".to_owned()
            } else {
                format!("Waiting for the model: {ahead} ahead of yours.")
            };
            view! { <p class="hint queued" role="status">{text}</p> }
        })
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
