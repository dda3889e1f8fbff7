//! `/`: what AXE is, where to try it, and how to connect a language model.

use leptos::prelude::*;

/// The landing page.
#[component]
pub fn LandingPage() -> impl IntoView {
    // Counts presses; it only moves once the wasm has hydrated the page, which the end-to-end
    // test uses to prove hydration works.
    let presses = RwSignal::new(0u32);
    view! {
        <main class="landing">
            <h1>"AXE — your coding assistant"</h1>
            <p>"AXE is an assistant widget a page embeds: chat with it, review the code it proposes as diffs, apply or reject them."</p>
            <button type="button" on:click=move |_| presses.update(|n| *n += 1)>
                "Pressed " {move || presses.get()} " times"
            </button>
        </main>
    }
}
