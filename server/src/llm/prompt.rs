//! The prompt: instructions that ask for changes in a form the server can place, the open file
//! (cut to a budget), and the recent conversation.

use super::{ChatMessage, ChatRole, LlmRequest, OpenFile};
use protocol::fence::fence_for;

/// How much of the file and the conversation goes into the prompt.
#[derive(Debug, Clone, Copy)]
pub struct PromptBudget {
    /// Characters of the open file's content.
    pub file_chars: usize,
    /// Earlier turns of the conversation (not counting the new message).
    pub history_turns: usize,
}

const INSTRUCTIONS: &str = "You are AXE, a coding assistant inside a code editor. Answer briefly \
and precisely. When you change the open file, put the complete new file in one fenced code block \
whose info string is the language and then the file name, for example:\n\n```rust main.rs\n\
fn main() {}\n```\n\nFor a small change to a long file you may instead give SEARCH/REPLACE edits \
in a block named after the file:\n\n```rust main.rs\n<<<<<<< SEARCH\nexact lines to find\n=======\n\
lines to put instead\n>>>>>>> REPLACE\n```\n\nThe SEARCH lines must match the file exactly, once.";

/// Cuts `text` to at most `max` characters, on a character boundary, saying so.
fn cut(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        None => text.to_owned(),
        Some((at, _)) => format!("{}\n[… cut: the file continues]", &text[..at]),
    }
}

/// Builds the request for the model: system prompt (with the file), the last turns of
/// `history` (oldest first), the new message.
pub fn build(
    history: Vec<ChatMessage>,
    message: &str,
    file: Option<OpenFile>,
    budget: PromptBudget,
) -> LlmRequest {
    let mut system = INSTRUCTIONS.to_owned();
    if let Some(file) = &file {
        let content = cut(&file.content, budget.file_chars);
        // A fence the file cannot close, so a line of backticks in it does not end the block.
        let fence = fence_for(&content);
        system.push_str(&format!(
            "\n\nThe open file is `{name}` ({language}):\n\n{fence}{language} {name}\n{content}\n{fence}",
            name = file.name,
            language = file.language,
        ));
    }
    let mut messages = vec![ChatMessage {
        role: ChatRole::System,
        content: system,
    }];
    let skip = history.len().saturating_sub(budget.history_turns);
    messages.extend(history.into_iter().skip(skip));
    messages.push(ChatMessage {
        role: ChatRole::User,
        content: message.to_owned(),
    });
    LlmRequest { messages, file }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn turn(role: ChatRole, content: &str) -> ChatMessage {
        ChatMessage {
            role,
            content: content.into(),
        }
    }

    fn file(content: &str) -> OpenFile {
        OpenFile {
            name: "lib.rs".into(),
            language: "rust".into(),
            content: content.into(),
        }
    }

    #[test]
    fn the_prompt_carries_the_file_cut_to_budget_and_recent_turns() {
        let file = file(&"é".repeat(50));
        let history = vec![
            turn(ChatRole::User, "one"),
            turn(ChatRole::Assistant, "two"),
            turn(ChatRole::User, "three"),
        ];
        let budget = PromptBudget {
            file_chars: 10,
            history_turns: 2,
        };
        let request = build(history, "four", Some(file.clone()), budget);
        let system = &request.messages[0];
        assert_eq!(system.role, ChatRole::System);
        assert!(system.content.contains("`lib.rs` (rust)"));
        assert!(system
            .content
            .contains(&format!("{}\n[… cut", "é".repeat(10))));
        assert!(!system.content.contains(&"é".repeat(11)));
        let rest: Vec<&str> = request.messages[1..]
            .iter()
            .map(|t| t.content.as_str())
            .collect();
        assert_eq!(rest, ["two", "three", "four"]);
        assert_eq!(request.file.as_ref(), Some(&file));
    }

    #[test]
    fn a_file_holding_a_fence_line_is_put_in_a_longer_fence() {
        let content = "Example:\n```\nx\n```\nmore\n";
        let budget = PromptBudget {
            file_chars: 1000,
            history_turns: 0,
        };
        let request = build(Vec::new(), "hi", Some(file(content)), budget);
        let system = &request.messages[0].content;
        let blocks = protocol::fence::blocks(system);
        let placed = blocks
            .iter()
            .find(|b| b.opening.file_name() == Some("lib.rs") && b.body.contains("more"))
            .expect("the file's block");
        assert_eq!(placed.body, format!("{content}\n"));
        assert!(placed.closed);
    }
}
