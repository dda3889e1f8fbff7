//! The built-in offline responder: a deterministic stand-in for a language model, so the app
//! runs on a fresh machine with nothing else and the whole diff workflow can be tried.
//!
//! It is labelled as what it is (`offline-demo`) everywhere it answers.

use crate::session::FileState;

/// The model name the offline responder reports in `chat_response` metadata.
pub const OFFLINE_MODEL: &str = "offline-demo";

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
                 will propose a real diff against it that you can Apply or Reject."
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
    let mut new_content = file.content.clone();
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
            "You wrote:\n\n{quoted}\n\nHere is a change to `{name}` (from the **offline demo** \
             responder; connect a model for real answers):\n\n```{fence} {name}\n{snippet}```\n\n\
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

/// The fence info string for a language.
fn fence_language(language: &str) -> &str {
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
        FileState {
            name: "main.rs".into(),
            language: "rust".into(),
            content: content.into(),
        }
    }

    #[test]
    fn small_talk_gets_an_explanation_and_no_change() {
        let reply = respond("hello there", Some(&file("fn main() {}\n")));
        assert!(reply.new_content.is_none());
        assert!(reply.text.contains("offline demo"));
        assert!(reply.text.contains("> hello there"));
    }

    #[test]
    fn a_code_request_appends_a_function_to_the_file() {
        let reply = respond("Write a fibonacci function", Some(&file("fn main() {}")));
        let content = reply.new_content.unwrap();
        assert!(content.starts_with("fn main() {}\n\n/// Returns the n-th Fibonacci"));
        assert!(reply.text.contains("```rust main.rs"));
    }

    #[test]
    fn a_code_request_without_a_file_says_to_open_one() {
        let reply = respond("write code", None);
        assert!(reply.new_content.is_none());
        assert!(reply.text.contains("Open a file"));
    }

    #[test]
    fn answers_are_deterministic() {
        let f = file("x\n");
        assert_eq!(respond("add code", Some(&f)), respond("add code", Some(&f)));
    }
}
