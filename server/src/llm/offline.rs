//! The built-in offline responder: a deterministic stand-in for a language model, so the app
//! runs on a fresh machine with nothing else and the whole diff workflow can be tried.
//!
//! It is labelled as what it is (`offline-demo`) everywhere it answers. It streams its reply a
//! word at a time, like a model, so streaming and Stop behave as they do with a real one. A code
//! request is answered with the whole new file in a fenced block named after the file: the same
//! form the prompt asks real models for, so the same parser turns it into a diff.

use super::{ChatRole, EventStream, LlmEvent, LlmRequest, OpenFile, Provider};
use futures_util::StreamExt;
use protocol::{fence::fence_for, FinishReason, Language};
use std::time::Duration;

/// The model name the offline responder reports in `chat_response` metadata.
pub const OFFLINE_MODEL: &str = "offline-demo";

/// The offline responder as a [`Provider`].
#[derive(Debug, Clone)]
pub struct OfflineProvider {
    /// Pause before each streamed piece, so a person sees the reply stream and can stop it.
    pub piece_delay: Duration,
}

impl Provider for OfflineProvider {
    fn model(&self) -> &str {
        OFFLINE_MODEL
    }

    fn stream(&self, request: LlmRequest) -> EventStream {
        let message = request
            .messages
            .iter()
            .rev()
            .find(|turn| turn.role == ChatRole::User)
            .map(|turn| turn.content.clone())
            .unwrap_or_default();
        let reply = respond(&message, request.file.as_ref());
        let delay = self.piece_delay;
        let pieces: Vec<String> = pieces(&reply);
        futures_util::stream::iter(pieces)
            .then(move |piece| async move {
                if !delay.is_zero() {
                    tokio::time::sleep(delay).await;
                }
                Ok(LlmEvent::Delta(piece))
            })
            .chain(futures_util::stream::once(async {
                Ok(LlmEvent::Finished {
                    finish_reason: FinishReason::Stop,
                    usage: None,
                })
            }))
            .boxed()
    }
}

/// Splits text into word-sized pieces (each keeps its trailing whitespace), as tokens arrive.
fn pieces(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    let mut in_space = false;
    for c in text.chars() {
        if !c.is_whitespace() && in_space {
            out.push(std::mem::take(&mut current));
        }
        in_space = c.is_whitespace();
        current.push(c);
    }
    if !current.is_empty() {
        out.push(current);
    }
    out
}

/// Answers `message` about the open `file`, deterministically, as Markdown. A code request
/// gets the whole new file in a block named after it, which code placement turns into a diff.
pub fn respond(message: &str, file: Option<&OpenFile>) -> String {
    let quoted = quote(message);
    if !asks_for_code(message) {
        return format!(
                "You wrote:\n\n{quoted}\n\nI am AXE's **offline demo** responder: no language model \
                 is connected, so I cannot really converse. Ask me to *write* or *add* code (for \
                 example \"write a fibonacci function\") while a file is open in the canvas, and I \
                 will propose a real diff against it that you can Apply or Reject.\n\nTo talk to a \
                 real model, restart the server with `AXE_LLM_BASE_URL` set to an OpenAI-compatible \
                 API (OpenAI, Ollama, llama.cpp's `llama-server`, vLLM, LM Studio), for example \
                 `AXE_LLM_BASE_URL=http://127.0.0.1:8089/v1`, plus `AXE_LLM_MODEL` and, if needed, \
                 `AXE_LLM_API_KEY`."
        );
    }
    let Some(file) = file else {
        return format!(
            "You wrote:\n\n{quoted}\n\nOpen a file in the canvas first: I (the **offline demo** \
             responder) propose code as a diff against the file you are working on."
        );
    };
    // Unknown languages get Rust, as the highlighter does.
    let language = Language::from_name(&file.language).unwrap_or(Language::Rust);
    let snippet = snippet_for(message, language);
    // A note at the top as well as code at the end: two separate hunks in any file longer than
    // a few lines, so per-hunk review can be tried offline too.
    let note = format!(
        "{} Changes suggested by AXE's offline demo.\n",
        language.line_comment()
    );
    let mut new_content = if file.content.starts_with(&note) {
        file.content.clone()
    } else {
        format!("{note}{}", file.content)
    };
    if !new_content.is_empty() && !new_content.ends_with('\n') {
        new_content.push('\n');
    }
    if !new_content.is_empty() {
        new_content.push('\n');
    }
    new_content.push_str(&snippet);
    // A fence the file cannot close, so a file holding a line of backticks is placed whole.
    let fence = fence_for(&new_content);
    format!(
        "You wrote:\n\n{quoted}\n\nHere is `{name}` with the change (from the **offline demo** \
         responder; connect a model for real answers):\n\n{fence}{tag} {name}\n{new_content}{fence}\n\n\
         Review the diff, then Apply or Reject it.",
        name = file.name,
        tag = language.name(),
    )
}

/// Quotes the person's message as a Markdown block quote, line by line.
fn quote(message: &str) -> String {
    message
        .lines()
        .map(|line| format!("> {line}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Whether the message asks for code to be written or changed.
fn asks_for_code(message: &str) -> bool {
    const VERBS: [&str; 10] = [
        "write",
        "add",
        "create",
        "implement",
        "change",
        "fix",
        "refactor",
        "generate",
        "code",
        "function",
    ];
    let lower = message.to_lowercase();
    VERBS.iter().any(|verb| lower.contains(verb))
}

/// A small, correct function in the file's language, chosen by what the message mentions.
fn snippet_for(message: &str, language: Language) -> String {
    let lower = message.to_lowercase();
    let fibonacci = lower.contains("fib");
    match (language, fibonacci) {
        (Language::Python, true) => "def fibonacci(n: int) -> int:\n    \"\"\"Returns the n-th Fibonacci number.\"\"\"\n    a, b = 0, 1\n    for _ in range(n):\n        a, b = b, a + b\n    return a\n".into(),
        (Language::Python, false) => "def add(a: int, b: int) -> int:\n    \"\"\"Returns the sum of a and b.\"\"\"\n    return a + b\n".into(),
        (Language::TypeScript, true) => "/** Returns the n-th Fibonacci number. */\nexport function fibonacci(n: number): number {\n  let [a, b] = [0, 1];\n  for (let i = 0; i < n; i++) [a, b] = [b, a + b];\n  return a;\n}\n".into(),
        (Language::TypeScript, false) => "/** Returns the sum of a and b. */\nexport function add(a: number, b: number): number {\n  return a + b;\n}\n".into(),
        (Language::JavaScript, true) => "/** Returns the n-th Fibonacci number. */\nexport function fibonacci(n) {\n  let [a, b] = [0, 1];\n  for (let i = 0; i < n; i++) [a, b] = [b, a + b];\n  return a;\n}\n".into(),
        (Language::JavaScript, false) => "/** Returns the sum of a and b. */\nexport function add(a, b) {\n  return a + b;\n}\n".into(),
        (Language::Rust, true) => "/// Returns the n-th Fibonacci number.\npub fn fibonacci(n: u32) -> u64 {\n    let (mut a, mut b) = (0u64, 1u64);\n    for _ in 0..n {\n        (a, b) = (b, a + b);\n    }\n    a\n}\n".into(),
        (Language::Rust, false) => "/// Returns the sum of `a` and `b`.\npub fn add(a: i64, b: i64) -> i64 {\n    a + b\n}\n".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(name: &str, language: &str, content: &str) -> OpenFile {
        OpenFile {
            name: name.into(),
            language: language.into(),
            content: content.into(),
        }
    }

    fn rust(content: &str) -> OpenFile {
        file("main.rs", "rust", content)
    }

    /// The closed code blocks of a reply: (info string, body).
    fn code(reply: &str) -> Vec<(String, String)> {
        protocol::fence::blocks(reply)
            .into_iter()
            .filter(|b| b.closed)
            .map(|b| (b.opening.info().to_owned(), b.body))
            .collect()
    }

    #[test]
    fn small_talk_gets_an_explanation_and_no_change() {
        let reply = respond("hello there", Some(&rust("fn main() {}\n")));
        assert!(code(&reply).is_empty());
        assert!(reply.contains("offline demo"));
        assert!(reply.contains("> hello there"));
        assert!(
            reply.contains("AXE_LLM_BASE_URL"),
            "it says how to connect a model"
        );
    }

    #[test]
    fn a_code_request_appends_a_function_to_the_file() {
        let reply = respond("Write a fibonacci function", Some(&rust("fn main() {}")));
        let blocks = code(&reply);
        assert_eq!(blocks.len(), 1);
        assert_eq!(blocks[0].0, "rust main.rs");
        assert!(blocks[0].1.starts_with(
            "// Changes suggested by AXE's offline demo.\nfn main() {}\n\n/// Returns the n-th Fibonacci"
        ));
    }

    #[test]
    fn the_language_decides_comment_and_code_whatever_its_spelling() {
        let python = respond("add a function", Some(&file("a.py", "PY", "x = 1\n")));
        let blocks = code(&python);
        assert_eq!(blocks[0].0, "python a.py");
        assert!(blocks[0].1.starts_with("# Changes suggested"));
        assert!(blocks[0].1.contains("def add("));
        let js = respond("write fib", Some(&file("a.js", "jsx", "")));
        assert!(code(&js)[0].1.contains("export function fibonacci(n) {"));
    }

    #[test]
    fn a_file_holding_a_fence_line_comes_back_whole() {
        let content = "/// ```\n/// example\n/// ```\nfn main() {}\n```\n";
        let reply = respond("add a function", Some(&rust(content)));
        let blocks = code(&reply);
        assert_eq!(blocks.len(), 1, "{reply}");
        assert!(blocks[0].1.contains("fn main() {}\n```\n"));
        assert!(blocks[0].1.contains("pub fn add"));
    }

    #[test]
    fn a_code_request_without_a_file_says_to_open_one() {
        let reply = respond("write code", None);
        assert!(code(&reply).is_empty());
        assert!(reply.contains("Open a file"));
    }

    #[test]
    fn pieces_rejoin_to_the_text() {
        let text = "a  b\nc ```rust\nfn x() {}\n```";
        let parts = pieces(text);
        assert!(parts.len() > 3);
        assert_eq!(parts.concat(), text);
    }

    #[tokio::test]
    async fn the_provider_streams_the_reply_then_finishes() {
        let provider = OfflineProvider {
            piece_delay: Duration::ZERO,
        };
        let request = LlmRequest {
            messages: vec![super::super::ChatMessage {
                role: ChatRole::User,
                content: "hello".into(),
            }],
            file: None,
        };
        let events: Vec<_> = provider.stream(request).collect().await;
        let text: String = events
            .iter()
            .filter_map(|e| match e {
                Ok(LlmEvent::Delta(d)) => Some(d.as_str()),
                _ => None,
            })
            .collect();
        assert_eq!(text, respond("hello", None));
        assert!(matches!(events.last(), Some(Ok(LlmEvent::Finished { .. }))));
    }

    #[test]
    fn answers_are_deterministic() {
        let f = rust("x\n");
        assert_eq!(respond("add code", Some(&f)), respond("add code", Some(&f)));
    }
}
