//! The built-in offline responder: a deterministic stand-in for a language model, so the app
//! runs on a fresh machine with nothing else and the whole diff workflow can be tried.
//!
//! It is labelled as what it is (`offline-demo`) everywhere it answers. It streams its reply a
//! word at a time, like a model, so streaming and Stop behave as they do with a real one. A code
//! request is answered with the whole new file in a fenced block named after the file: the same
//! form the prompt asks real models for, so the same parser turns it into a diff.

use super::{EventStream, LlmEvent, LlmRequest, Provider, Role};
use crate::session::FileState;
use futures_util::StreamExt;
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
            .find(|turn| turn.role == Role::User)
            .map(|turn| turn.content.clone())
            .unwrap_or_default();
        let reply = respond(&message, request.file.as_ref()).text;
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
                    finish_reason: "stop".into(),
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

/// A reply: its Markdown text and, when it proposes code, the active file's new content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    /// The reply as Markdown.
    pub text: String,
    /// The whole new content of the active file, when the reply changes it.
    pub new_content: Option<String>,
}

/// Answers `message` about the open `file`, deterministically.
pub fn respond(message: &str, file: Option<&FileState>) -> Reply {
    let quoted = quote(message);
    if !asks_for_code(message) {
        return Reply {
            text: format!(
                "You wrote:\n\n{quoted}\n\nI am AXE's **offline demo** responder: no language model \
                 is connected, so I cannot really converse. Ask me to *write* or *add* code (for \
                 example \"write a fibonacci function\") while a file is open in the canvas, and I \
                 will propose a real diff against it that you can Apply or Reject.\n\nTo talk to a \
                 real model, restart the server with `AXE_LLM_BASE_URL` set to an OpenAI-compatible \
                 API (OpenAI, Ollama, llama.cpp's `llama-server`, vLLM, LM Studio), for example \
                 `AXE_LLM_BASE_URL=http://127.0.0.1:8089/v1`, plus `AXE_LLM_MODEL` and, if needed, \
                 `AXE_LLM_API_KEY`."
            ),
            new_content: None,
        };
    }
    let Some(file) = file else {
        return Reply {
            text: format!(
                "You wrote:\n\n{quoted}\n\nOpen a file in the canvas first: I (the **offline demo** \
                 responder) propose code as a diff against the file you are working on."
            ),
            new_content: None,
        };
    };
    let snippet = snippet_for(message, &file.language);
    // A note at the top as well as code at the end: two separate hunks in any file longer than
    // a few lines, so per-hunk review can be tried offline too.
    let note = format!(
        "{} Changes suggested by AXE's offline demo.\n",
        comment_prefix(&file.language)
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
    let fence = fence_language(&file.language);
    Reply {
        text: format!(
            "You wrote:\n\n{quoted}\n\nHere is `{name}` with the change (from the **offline demo** \
             responder; connect a model for real answers):\n\n```{fence} {name}\n{new_content}```\n\n\
             Review the diff, then Apply or Reject it.",
            name = file.name,
        ),
        new_content: Some(new_content),
    }
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

/// How a line comment starts in a language.
fn comment_prefix(language: &str) -> &'static str {
    match fence_language(language) {
        "python" => "#",
        _ => "//",
    }
}

/// The fence info string for a language.
pub fn fence_language(language: &str) -> &str {
    match language {
        "typescript" | "ts" => "ts",
        "javascript" | "js" => "js",
        "python" | "py" => "python",
        _ => "rust",
    }
}

/// A small, correct function in the file's language, chosen by what the message mentions.
fn snippet_for(message: &str, language: &str) -> String {
    let lower = message.to_lowercase();
    let fibonacci = lower.contains("fib");
    match (fence_language(language), fibonacci) {
        ("python", true) => "def fibonacci(n: int) -> int:\n    \"\"\"Returns the n-th Fibonacci number.\"\"\"\n    a, b = 0, 1\n    for _ in range(n):\n        a, b = b, a + b\n    return a\n".into(),
        ("python", false) => "def add(a: int, b: int) -> int:\n    \"\"\"Returns the sum of a and b.\"\"\"\n    return a + b\n".into(),
        ("ts" | "js", true) => "/** Returns the n-th Fibonacci number. */\nexport function fibonacci(n: number): number {\n  let [a, b] = [0, 1];\n  for (let i = 0; i < n; i++) [a, b] = [b, a + b];\n  return a;\n}\n".into(),
        ("ts" | "js", false) => "/** Returns the sum of a and b. */\nexport function add(a: number, b: number): number {\n  return a + b;\n}\n".into(),
        (_, true) => "/// Returns the n-th Fibonacci number.\npub fn fibonacci(n: u32) -> u64 {\n    let (mut a, mut b) = (0u64, 1u64);\n    for _ in 0..n {\n        (a, b) = (b, a + b);\n    }\n    a\n}\n".into(),
        (_, false) => "/// Returns the sum of `a` and `b`.\npub fn add(a: i64, b: i64) -> i64 {\n    a + b\n}\n".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(content: &str) -> FileState {
        FileState::new("main.rs", "rust", content)
    }

    #[test]
    fn small_talk_gets_an_explanation_and_no_change() {
        let reply = respond("hello there", Some(&file("fn main() {}\n")));
        assert!(reply.new_content.is_none());
        assert!(reply.text.contains("offline demo"));
        assert!(reply.text.contains("> hello there"));
        assert!(
            reply.text.contains("AXE_LLM_BASE_URL"),
            "it says how to connect a model"
        );
    }

    #[test]
    fn a_code_request_appends_a_function_to_the_file() {
        let reply = respond("Write a fibonacci function", Some(&file("fn main() {}")));
        let content = reply.new_content.unwrap();
        assert!(content.starts_with(
            "// Changes suggested by AXE's offline demo.\nfn main() {}\n\n/// Returns the n-th Fibonacci"
        ));
        assert!(reply
            .text
            .contains(&format!("```rust main.rs\n{content}```")));
    }

    #[test]
    fn a_code_request_without_a_file_says_to_open_one() {
        let reply = respond("write code", None);
        assert!(reply.new_content.is_none());
        assert!(reply.text.contains("Open a file"));
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
            messages: vec![super::super::Turn {
                role: Role::User,
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
        assert_eq!(text, respond("hello", None).text);
        assert!(matches!(events.last(), Some(Ok(LlmEvent::Finished { .. }))));
    }

    #[test]
    fn answers_are_deterministic() {
        let f = file("x\n");
        assert_eq!(respond("add code", Some(&f)), respond("add code", Some(&f)));
    }
}
