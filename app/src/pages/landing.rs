//! `/`: what AXE is, the three ways to open it, the configuration this server runs with, and
//! whether the browser can reach it.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// What the server tells its own pages about itself (provided as context while rendering).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SiteInfo {
    /// What answers: a model's name, or `offline-demo`.
    pub model: String,
    /// Where sessions are kept, e.g. `SQLite (axe-data/axe.db)` or `PostgreSQL`.
    pub storage: String,
}

/// The landing page.
#[component]
pub fn LandingPage() -> impl IntoView {
    view! {
        <main class="landing">
            <h1>"AXE — your coding assistant"</h1>
            <p>"AXE is an assistant widget a page embeds: chat with it, review the code it proposes as diffs, apply or reject them."</p>
            <h2>"Open AXE"</h2>
            <ul>
                <li><a href="/widget-test">"Widget test page"</a>" — the minimized button in the corner of a host page; open it for the 320x480 chat panel."</li>
                <li><a href="/widget-test?view=panel">"Chat panel"</a>" — the same page with the panel already open."</li>
                <li><a href="/canvas">"Canvas"</a>" — chat and code editor, full screen."</li>
            </ul>
            <h2>"This server"</h2>
            <ServerStatus/>
            <Configuration/>
            <h2>"Connecting a language model"</h2>
            <p>"Without a model, AXE answers with its built-in offline demo responder: deterministic replies, streamed like a model's, and real diffs when you ask it to write code while a file is open."</p>
            <p>"To use a real model, start the server with "<code>"AXE_LLM_BASE_URL"</code>" set to any OpenAI-compatible API (OpenAI, Ollama, llama.cpp's llama-server, vLLM, LM Studio), for example "<code>"AXE_LLM_BASE_URL=http://127.0.0.1:8089/v1 AXE_LLM_MODEL=gemma scripts/run.sh"</code>". "<code>"AXE_LLM_API_KEY"</code>" carries a key if the server needs one. The header shows which model answers."</p>
        </main>
    }
}

/// The configuration in use, rendered on the server and carried to the browser with the page.
#[component]
fn Configuration() -> impl IntoView {
    // Present while rendering on the server; the browser reads the value the server put in the
    // page instead of asking again.
    let provided = use_context::<SiteInfo>();
    let info = Resource::new(
        || (),
        move |_| {
            let provided = provided.clone();
            async move { provided.unwrap_or_default() }
        },
    );
    view! {
        <Suspense fallback=|| ()>
            {move || info.get().map(|info| {
                let model = if info.model == "offline-demo" {
                    "the offline demo responder (no model connected)".to_owned()
                } else {
                    format!("the model {}", info.model)
                };
                view! {
                    <dl class="configuration" aria-label="Configuration">
                        <dt>"Answers with"</dt><dd>{model}</dd>
                        <dt>"Sessions stored in"</dt><dd>{info.storage}</dd>
                    </dl>
                }
            })}
        </Suspense>
    }
}

/// Whether the browser reaches the server: checked once the page is live, then every 10 s.
#[component]
fn ServerStatus() -> impl IntoView {
    let status = RwSignal::new("Checking the server…");
    #[cfg(feature = "hydrate")]
    readiness::watch(status);
    view! { <p class="server-status" role="status" aria-label="Server status">{move || status.get()}</p> }
}

#[cfg(feature = "hydrate")]
mod readiness {
    use leptos::prelude::*;
    use wasm_bindgen::JsCast;
    use wasm_bindgen_futures::JsFuture;

    /// How often the status is checked again.
    const RECHECK_MS: u32 = 10_000;

    /// What `/readyz` says, in words.
    async fn check() -> &'static str {
        let Some(window) = web_sys::window() else {
            return "Server unreachable";
        };
        let response = JsFuture::from(window.fetch_with_str("/readyz")).await;
        match response.map(|r| r.unchecked_into::<web_sys::Response>().status()) {
            Ok(200) => "Server ready",
            Ok(503) => "Server is shutting down",
            Ok(_) | Err(_) => "Server unreachable",
        }
    }

    /// Keeps `status` current until the page goes away.
    pub fn watch(status: RwSignal<&'static str>) {
        let alive = StoredValue::new(true);
        on_cleanup(move || alive.set_value(false));
        leptos::task::spawn_local(async move {
            while alive.try_get_value().unwrap_or(false) {
                let now = check().await;
                if status.try_set(now).is_some() {
                    return;
                }
                gloo_timers::future::TimeoutFuture::new(RECHECK_MS).await;
            }
        });
    }
}
