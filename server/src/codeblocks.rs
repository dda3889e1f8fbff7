//! Turns a reply's code into changes to files: fenced code blocks named after a file replace
//! that file; SEARCH/REPLACE blocks edit it in place. A block that cannot be placed with
//! certainty is left as code in the reply and never applied.

use protocol::{fence, language::same_language};

/// A file as code placement sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileView<'a> {
    /// Its client-chosen id.
    pub id: &'a str,
    /// Display name, e.g. `main.rs`.
    pub name: &'a str,
    /// Language, e.g. `rust`.
    pub language: &'a str,
    /// Whole content.
    pub content: &'a str,
}

/// A closed fenced code block of a reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodeBlock {
    /// The first word of the info string, e.g. `rust` (may be empty).
    pub language: String,
    /// The second word of the info string, when it names a file, e.g. `src/main.rs`.
    pub path: Option<String>,
    /// The block's text, each line with its line ending.
    pub body: String,
}

/// The closed fenced blocks of `text`, in order, by CommonMark's fence rule
/// ([`protocol::fence`]). An unclosed fence (a cut-off reply) is ignored.
pub fn fenced_blocks(text: &str) -> Vec<CodeBlock> {
    fence::blocks(text)
        .into_iter()
        .filter(|block| block.closed)
        .map(|block| CodeBlock {
            language: block.opening.language().to_owned(),
            path: block.opening.file_name().map(str::to_owned),
            body: block.body,
        })
        .collect()
}

/// One SEARCH/REPLACE edit.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Edit {
    search: String,
    replace: String,
}

/// The SEARCH/REPLACE edits of a block body, or `None` if it has none. `Err` if malformed.
fn search_replace_edits(body: &str) -> Option<Result<Vec<Edit>, ()>> {
    if !body.contains("<<<<<<< SEARCH") {
        return None;
    }
    let mut edits = Vec::new();
    let mut lines = body.split_inclusive('\n');
    while let Some(line) = lines.next() {
        if line.trim_end() != "<<<<<<< SEARCH" {
            continue;
        }
        let (mut search, mut replace) = (String::new(), String::new());
        let mut in_replace = false;
        let mut finished = false;
        for inner in lines.by_ref() {
            match inner.trim_end() {
                "=======" if !in_replace => in_replace = true,
                ">>>>>>> REPLACE" if in_replace => {
                    finished = true;
                    break;
                }
                _ if in_replace => replace.push_str(inner),
                _ => search.push_str(inner),
            }
        }
        if !finished || search.is_empty() {
            return Some(Err(()));
        }
        edits.push(Edit { search, replace });
    }
    Some(Ok(edits))
}

/// Whether `body` looks like a whole version of `content` rather than a snippet: it keeps at
/// least half of the file's non-blank lines (an empty file takes anything).
fn looks_whole(body: &str, content: &str) -> bool {
    let original: Vec<&str> = content
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    if original.is_empty() {
        return true;
    }
    let kept: std::collections::HashSet<&str> = body.lines().map(str::trim).collect();
    let shared = original.iter().filter(|line| kept.contains(*line)).count();
    shared * 2 >= original.len()
}

/// Which file a block is about: the file its info string names, else (for SEARCH/REPLACE
/// blocks, or a whole-file block in the active file's language) the active file. A snippet
/// without a file name is not placed: replacing the file with it would delete the rest.
fn target<'a>(
    block: &CodeBlock,
    files: &[FileView<'a>],
    active: Option<&str>,
    is_edit: bool,
) -> Option<&'a str> {
    if let Some(path) = &block.path {
        let named = files.iter().find(|file| {
            file.name == path || file.id == path || path.ends_with(&format!("/{}", file.name))
        });
        return named.map(|file| file.id);
    }
    let active_id = active?;
    let file = files.iter().find(|file| file.id == active_id)?;
    if is_edit
        || (same_language(&block.language, file.language) && looks_whole(&block.body, file.content))
    {
        Some(file.id)
    } else {
        None
    }
}

/// The new content of each file the reply changes, in order of first change. Files whose
/// content would not change are left out.
pub fn changes(reply: &str, files: &[FileView<'_>], active: Option<&str>) -> Vec<(String, String)> {
    let content_of = |id: &str| files.iter().find(|f| f.id == id).map(|f| f.content);
    let mut changed: Vec<(String, String)> = Vec::new();
    for block in fenced_blocks(reply) {
        let edits = search_replace_edits(&block.body);
        let Some(file_id) = target(&block, files, active, edits.is_some()) else {
            continue;
        };
        let current = changed
            .iter()
            .find(|(id, _)| id == file_id)
            .map(|(_, content)| content.clone())
            .or_else(|| content_of(file_id).map(str::to_owned));
        let Some(current) = current else { continue };
        let next = match edits {
            None => Some(block.body.clone()),
            Some(Err(())) => None,
            Some(Ok(edits)) => apply_edits(&current, &edits),
        };
        let Some(next) = next else { continue };
        match changed.iter_mut().find(|(id, _)| id == file_id) {
            Some(entry) => entry.1 = next,
            None => changed.push((file_id.to_owned(), next)),
        }
    }
    changed.retain(|(id, content)| content_of(id).is_some_and(|old| old != content));
    changed
}

/// Applies edits in order; each SEARCH text must occur exactly once, or nothing is applied.
fn apply_edits(content: &str, edits: &[Edit]) -> Option<String> {
    let mut text = content.to_owned();
    for edit in edits {
        let mut found = text.match_indices(&edit.search);
        let (at, _) = found.next()?;
        if found.next().is_some() {
            return None;
        }
        text.replace_range(at..at + edit.search.len(), &edit.replace);
    }
    Some(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn files(content: &str) -> Vec<FileView<'_>> {
        vec![FileView {
            id: "f1",
            name: "main.rs",
            language: "rust",
            content,
        }]
    }

    #[test]
    fn a_block_named_after_a_file_replaces_it() {
        let reply = "Sure:\n```rust main.rs\nfn main() { run(); }\n```\n";
        assert_eq!(
            changes(reply, &files("fn main() {}\n"), None),
            vec![("f1".into(), "fn main() { run(); }\n".into())]
        );
    }

    #[test]
    fn an_unnamed_block_in_the_active_files_language_replaces_the_active_file() {
        let reply = "```rust\nfn a() {}\nfn b() {}\n```";
        let found = changes(reply, &files("fn a() {}\n"), Some("f1"));
        assert_eq!(found, vec![("f1".into(), "fn a() {}\nfn b() {}\n".into())]);
        // Another language, no active file, or a mere snippet: shown as code, not applied.
        assert!(changes("```python\nx = 1\n```", &files("a\n"), Some("f1")).is_empty());
        assert!(changes(reply, &files("fn a() {}\n"), None).is_empty());
        let snippet = "```rust\nfn c() {}\n```";
        assert!(changes(snippet, &files("fn a() {}\nfn b() {}\n"), Some("f1")).is_empty());
    }

    #[test]
    fn search_replace_edits_apply_only_when_each_search_matches_once() {
        let original = "fn a() {\n    1\n}\nfn b() {\n    2\n}\n";
        let reply = "```rust main.rs\n<<<<<<< SEARCH\n    2\n=======\n    20\n>>>>>>> REPLACE\n```";
        assert_eq!(
            changes(reply, &files(original), None),
            vec![("f1".into(), original.replace("    2\n", "    20\n"))]
        );
        let ambiguous = "```rust\n<<<<<<< SEARCH\n}\n=======\n};\n>>>>>>> REPLACE\n```";
        assert!(changes(ambiguous, &files(original), Some("f1")).is_empty());
        let missing = "```rust\n<<<<<<< SEARCH\nnot there\n=======\nx\n>>>>>>> REPLACE\n```";
        assert!(changes(missing, &files(original), Some("f1")).is_empty());
        let malformed = "```rust\n<<<<<<< SEARCH\nfn a\n```";
        assert!(changes(malformed, &files(original), Some("f1")).is_empty());
    }

    #[test]
    fn edge_cases_empty_file_crlf_no_newline_and_unicode() {
        assert_eq!(
            changes("```rust main.rs\nfn x() {}\n```", &files(""), None),
            vec![("f1".into(), "fn x() {}\n".into())]
        );
        let crlf = "a\r\nb\r\n";
        let reply =
            "```rust main.rs\r\n<<<<<<< SEARCH\r\nb\r\n=======\r\nc\r\n>>>>>>> REPLACE\r\n```\r\n";
        assert_eq!(
            changes(reply, &files(crlf), None),
            vec![("f1".into(), "a\r\nc\r\n".into())]
        );
        let unicode = "```rust main.rs\n<<<<<<< SEARCH\nlet s = \"grüße\";\n=======\nlet s = \"こんにちは\";\n>>>>>>> REPLACE\n```";
        assert_eq!(
            changes(unicode, &files("let s = \"grüße\";\n"), None),
            vec![("f1".into(), "let s = \"こんにちは\";\n".into())]
        );
        // A cut-off reply's unclosed block is never applied.
        assert!(changes("```rust main.rs\nfn half(", &files("x\n"), None).is_empty());
        // A block that matches nothing changes nothing.
        assert!(changes(
            "```rust other.rs\nfn o() {}\n```",
            &files("x\n"),
            Some("f1")
        )
        .is_empty());
        // The same content is no change.
        assert!(changes("```rust main.rs\nx\n```", &files("x\n"), None).is_empty());
    }
}
