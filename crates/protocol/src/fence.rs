//! Fenced code blocks of Markdown, read by CommonMark's rule, for both sides: the server places
//! a reply's blocks as diffs and the browser shows them, so the two must agree on where a block
//! ends.
//!
//! The rule (CommonMark 0.31, "Fenced code blocks"): a fence is a line of at least three
//! backticks or tildes, indented by at most three spaces; a backtick fence's info string holds
//! no backtick. The block ends at a line of the *same* character, *at least as long* as the
//! opening, indented at most three spaces and followed only by spaces or tabs. So a file that
//! itself contains a line of three backticks is safe inside a fence of four ([`fence_for`]
//! builds one). Content lines lose as many leading spaces as the opening fence had (at most).

/// An opening fence line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Opening<'a> {
    marker: u8,
    width: usize,
    indent: usize,
    info: &'a str,
}

/// Strips one line ending (`\n` or `\r\n`).
fn without_line_ending(line: &str) -> &str {
    line.strip_suffix('\n')
        .map(|l| l.strip_suffix('\r').unwrap_or(l))
        .unwrap_or(line)
}

/// The indentation (at most three spaces) and the rest of the line, or `None` if it is
/// indented four spaces or more (an indented code line, never a fence).
fn fence_indent(line: &str) -> Option<(usize, &str)> {
    let indent = line.bytes().take_while(|&b| b == b' ').count();
    (indent <= 3).then(|| (indent, &line[indent..]))
}

/// The length of the run of `marker` at the start of `text`.
fn run_of(text: &str, marker: u8) -> usize {
    text.bytes().take_while(|&b| b == marker).count()
}

impl<'a> Opening<'a> {
    /// Reads `line` (with or without its line ending) as an opening fence.
    pub fn parse(line: &'a str) -> Option<Self> {
        let (indent, rest) = fence_indent(without_line_ending(line))?;
        let marker = *rest.as_bytes().first()?;
        if marker != b'`' && marker != b'~' {
            return None;
        }
        let width = run_of(rest, marker);
        if width < 3 {
            return None;
        }
        let info = rest[width..].trim();
        if marker == b'`' && info.contains('`') {
            return None;
        }
        Some(Self {
            marker,
            width,
            indent,
            info,
        })
    }

    /// The whole info string, trimmed, e.g. `rust src/main.rs`.
    pub fn info(&self) -> &'a str {
        self.info
    }

    /// The first word of the info string: the language, e.g. `rust` (may be empty).
    pub fn language(&self) -> &'a str {
        self.info.split_whitespace().next().unwrap_or("")
    }

    /// The second word of the info string, which AXE reads as a file name, e.g. `src/main.rs`.
    pub fn file_name(&self) -> Option<&'a str> {
        self.info.split_whitespace().nth(1)
    }

    /// Whether `line` (with or without its line ending) closes this fence.
    pub fn is_closed_by(&self, line: &str) -> bool {
        let Some((_, rest)) = fence_indent(without_line_ending(line)) else {
            return false;
        };
        let run = run_of(rest, self.marker);
        run >= self.width && rest[run..].bytes().all(|b| b == b' ' || b == b'\t')
    }

    /// A line inside the block as its content: without the opening fence's indentation.
    pub fn content<'l>(&self, line: &'l str) -> &'l str {
        let spaces = line
            .bytes()
            .take(self.indent)
            .take_while(|&b| b == b' ')
            .count();
        &line[spaces..]
    }
}

/// A fenced block of a text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FencedBlock<'a> {
    /// The opening fence.
    pub opening: Opening<'a>,
    /// The content lines, each with its own line ending, as they were.
    pub body: String,
    /// Whether a closing fence ended it; a reply cut off mid-block leaves it open.
    pub closed: bool,
}

/// Every fenced block of `text`, in order. An unclosed block runs to the end of the text.
pub fn blocks(text: &str) -> Vec<FencedBlock<'_>> {
    let mut found = Vec::new();
    let mut lines = text.split_inclusive('\n');
    while let Some(line) = lines.next() {
        let Some(opening) = Opening::parse(line) else {
            continue;
        };
        let mut body = String::new();
        let mut closed = false;
        for inner in lines.by_ref() {
            if opening.is_closed_by(inner) {
                closed = true;
                break;
            }
            body.push_str(opening.content(inner));
        }
        found.push(FencedBlock {
            opening,
            body,
            closed,
        });
    }
    found
}

/// A backtick fence that no line of `content` can close: three backticks, or one more than the
/// longest run of backticks that begins a line of it. For putting files into prompts and replies.
pub fn fence_for(content: &str) -> String {
    let longest = content
        .lines()
        .filter_map(fence_indent)
        .map(|(_, rest)| run_of(rest, b'`'))
        .max()
        .unwrap_or(0);
    "`".repeat(longest.max(2) + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bodies(text: &str) -> Vec<(String, String, bool)> {
        blocks(text)
            .into_iter()
            .map(|b| (b.opening.info().to_owned(), b.body, b.closed))
            .collect()
    }

    #[test]
    fn a_block_keeps_its_info_and_body_with_line_endings() {
        assert_eq!(
            bodies("intro\n```rust main.rs\r\nfn a() {}\r\n```\r\nafter"),
            vec![("rust main.rs".into(), "fn a() {}\r\n".into(), true)]
        );
        let opening = Opening::parse("```rust src/main.rs").unwrap();
        assert_eq!(opening.language(), "rust");
        assert_eq!(opening.file_name(), Some("src/main.rs"));
    }

    #[test]
    fn a_shorter_or_different_fence_does_not_close_a_longer_one() {
        let text = "````md README.md\nUse:\n```\ncode\n```\n~~~~\n````\n";
        assert_eq!(
            bodies(text),
            vec![(
                "md README.md".into(),
                "Use:\n```\ncode\n```\n~~~~\n".into(),
                true
            )]
        );
    }

    #[test]
    fn a_closing_fence_may_be_longer_and_indented_but_carries_nothing_else() {
        assert!(bodies("```\na\n  `````  \n")[0].2);
        assert_eq!(
            bodies("```\na\n```rust\nb\n"),
            vec![("".into(), "a\n```rust\nb\n".into(), false)]
        );
        // Four spaces make an indented code line, not a fence.
        assert!(!bodies("```\na\n    ```\n")[0].2);
    }

    #[test]
    fn openings_follow_the_rules_for_markers_indent_and_info() {
        assert!(Opening::parse("~~~ python").is_some());
        assert!(Opening::parse("   ```").is_some());
        assert!(Opening::parse("    ```").is_none());
        assert!(Opening::parse("``").is_none());
        assert!(
            Opening::parse("``` a`b").is_none(),
            "no backtick in a backtick info"
        );
        assert!(Opening::parse("~~~ a`b").is_some());
        assert!(Opening::parse("text ```").is_none());
    }

    #[test]
    fn content_loses_the_openings_indentation_only() {
        assert_eq!(
            bodies("  ```\n    x\n y\nz\n  ```\n")[0].1,
            "  x\ny\nz\n".to_owned()
        );
    }

    #[test]
    fn an_unclosed_block_runs_to_the_end() {
        assert_eq!(
            bodies("```rust main.rs\nfn half("),
            vec![("rust main.rs".into(), "fn half(".into(), false)]
        );
    }

    #[test]
    fn fence_for_outgrows_every_backtick_run_that_starts_a_line() {
        assert_eq!(fence_for("fn main() {}\n"), "```");
        assert_eq!(fence_for("a\n```\nb\n"), "````");
        assert_eq!(fence_for("  `````rust\n"), "``````");
        // A run inside a line cannot close a fence.
        assert_eq!(fence_for("let s = \"`````\";\n"), "```");
        let content = "doc:\n```\nexample\n```\n";
        let fence = fence_for(content);
        let text = format!("{fence}md\n{content}{fence}\n");
        assert_eq!(bodies(&text)[0].1, content);
    }
}
