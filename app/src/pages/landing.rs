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
            <ul>
                <li><a href="/widget-test">"Widget test page"</a>" — the widget as a host page would embed it."</li>
                <li><a href="/canvas">"Canvas"</a>" — chat and code editor, full screen."</li>
            </ul>
            <h2>"Connecting a language model"</h2>
            <p>"Without a model, AXE answers with its built-in offline demo responder: deterministic replies, streamed like a model's, and real diffs when you ask it to write code while a file is open."</p>
            <p>"To use a real model, start the server with "<code>"AXE_LLM_BASE_URL"</code>" set to any OpenAI-compatible API (OpenAI, Ollama, llama.cpp's llama-server, vLLM, LM Studio), for example "<code>"AXE_LLM_BASE_URL=http://127.0.0.1:8089/v1 AXE_LLM_MODEL=gemma scripts/run.sh"</code>". "<code>"AXE_LLM_API_KEY"</code>" carries a key if the server needs one. The header shows which model answers."</p>
            <button type="button" on:click=move |_| presses.update(|n| *n += 1)>
                "Pressed " {move || presses.get()} " times"
            </button>
        </main>
    }
}
