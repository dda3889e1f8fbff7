//! `/`: what AXE is, the three ways to open it, the configuration this server runs with, and
//! whether the browser can reach it. The widget waits in the corner here too.

use super::EmbedScript;
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
        <EmbedScript/>
    }
}

/// The configuration in use, as the server renders the page.
#[component]
fn Configuration() -> impl IntoView {
    let info = use_context::<SiteInfo>().unwrap_or_default();
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
}

/// Asks `/readyz` every 10 s and says what it answered; a few lines of script rather than a
/// wasm module, since nothing else on this page needs one.
const READINESS_SCRIPT: &str = r#"(function () {
  var status = document.getElementById("server-status");
  function check() {
    fetch("/readyz").then(function (r) {
      status.textContent = r.status === 200 ? "Server ready"
        : r.status === 503 ? "Server is shutting down" : "Server unreachable";
    }, function () { status.textContent = "Server unreachable"; });
  }
  check();
  setInterval(check, 10000);
})();"#;

/// Whether the browser reaches the server: ready as rendered, then checked every 10 s.
#[component]
fn ServerStatus() -> impl IntoView {
    view! {
        <p id="server-status" class="server-status" role="status" aria-label="Server status">"Server ready"</p>
        <script inner_html=READINESS_SCRIPT></script>
    }
}
