//! A small, safe Markdown renderer for assistant replies.
//!
//! Model output is untrusted, so this never produces HTML strings: it parses into blocks and
//! builds DOM text nodes through `view!`, so `<script>` or `<img onerror=...>` in a reply shows as
//! text. It covers what replies use: paragraphs, block quotes, lists, fenced code blocks (with
//! highlighting and a Copy button), inline code and bold.

use crate::highlight::{highlight, Token};
use leptos::prelude::*;
use protocol::fence::Opening;

/// A parsed block of Markdown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Block {
    /// A paragraph's text (soft line breaks kept as spaces).
    Paragraph(String),
    /// A block quote's text.
    Quote(String),
    /// A bulleted list's items.
    List(Vec<String>),
    /// A fenced code block: the fence's info string and the code.
    Code {
        /// The first word of the info string, e.g. `rust`.
        language: String,
        /// The code without the fences.
        code: String,
    },
}

/// Splits Markdown text into blocks.
pub fn parse(text: &str) -> Vec<Block> {
    let mut blocks = Vec::new();
    let mut lines = text.lines().peekable();
    let mut paragraph: Vec<&str> = Vec::new();
    let flush = |paragraph: &mut Vec<&str>, blocks: &mut Vec<Block>| {
        if !paragraph.is_empty() {
            blocks.push(Block::Paragraph(paragraph.join(" ")));
            paragraph.clear();
        }
    };
    while let Some(line) = lines.next() {
        let trimmed = line.trim_start();
        // The same fence rule as the server's code placement, so what is shown as one block
        // is what becomes one diff.
        if let Some(opening) = Opening::parse(line) {
            flush(&mut paragraph, &mut blocks);
            let language = opening.language().to_owned();
            let mut code = String::new();
            for code_line in lines.by_ref() {
                if opening.is_closed_by(code_line) {
                    break;
                }
                code.push_str(opening.content(code_line));
                code.push('\n');
            }
            blocks.push(Block::Code { language, code });
        } else if let Some(quoted) = trimmed.strip_prefix('>') {
            flush(&mut paragraph, &mut blocks);
            let mut quote = vec![quoted.strip_prefix(' ').unwrap_or(quoted).to_owned()];
            while let Some(next) = lines.peek().and_then(|l| l.trim_start().strip_prefix('>')) {
                quote.push(next.strip_prefix(' ').unwrap_or(next).to_owned());
                lines.next();
            }
            blocks.push(Block::Quote(quote.join("\n")));
        } else if let Some(item) = list_item(trimmed) {
            flush(&mut paragraph, &mut blocks);
            let mut items = vec![item.to_owned()];
            while let Some(next) = lines.peek().and_then(|l| list_item(l.trim_start())) {
                items.push(next.to_owned());
                lines.next();
            }
            blocks.push(Block::List(items));
        } else if trimmed.is_empty() {
            flush(&mut paragraph, &mut blocks);
        } else {
            paragraph.push(trimmed);
        }
    }
    flush(&mut paragraph, &mut blocks);
    blocks
}

fn list_item(line: &str) -> Option<&str> {
    line.strip_prefix("- ").or_else(|| line.strip_prefix("* "))
}

/// A piece of inline text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Inline {
    /// Plain text.
    Text(String),
    /// `code`.
    Code(String),
    /// **bold**.
    Bold(String),
    /// *emphasis*.
    Emphasis(String),
}

/// Splits a line of text into plain, code, bold and emphasised runs.
pub fn inlines(text: &str) -> Vec<Inline> {
    let mut out = Vec::new();
    let mut rest = text;
    while !rest.is_empty() {
        let next = ["`", "**", "*"]
            .iter()
            .filter_map(|marker| rest.find(marker).map(|at| (at, *marker)))
            .min_by_key(|(at, marker)| (*at, std::cmp::Reverse(marker.len())));
        let Some((at, marker)) = next else {
            out.push(Inline::Text(rest.to_owned()));
            break;
        };
        let after = &rest[at + marker.len()..];
        let Some(end) = after.find(marker).filter(|end| *end > 0) else {
            out.push(Inline::Text(rest[..at + marker.len()].to_owned()));
            rest = after;
            continue;
        };
        if at > 0 {
            out.push(Inline::Text(rest[..at].to_owned()));
        }
        let inner = after[..end].to_owned();
        out.push(match marker {
            "`" => Inline::Code(inner),
            "**" => Inline::Bold(inner),
            _ => Inline::Emphasis(inner),
        });
        rest = &after[end + marker.len()..];
    }
    merge_text(out)
}

fn merge_text(parts: Vec<Inline>) -> Vec<Inline> {
    let mut merged: Vec<Inline> = Vec::new();
    for part in parts {
        match (merged.last_mut(), part) {
            (Some(Inline::Text(previous)), Inline::Text(text)) => previous.push_str(&text),
            (_, part) => merged.push(part),
        }
    }
    merged
}

fn inline_view(text: &str) -> impl IntoView {
    inlines(text)
        .into_iter()
        .map(|part| match part {
            Inline::Text(t) => t.into_any(),
            Inline::Code(t) => view! { <code>{t}</code> }.into_any(),
            Inline::Bold(t) => view! { <strong>{t}</strong> }.into_any(),
            Inline::Emphasis(t) => view! { <em>{t}</em> }.into_any(),
        })
        .collect_view()
}

/// Highlighted code as spans.
pub fn code_view(code: &str, language: &str) -> impl IntoView {
    highlight(code, language)
        .into_iter()
        .map(|Token { class, text }| match class {
            Some(class) => view! { <span class=class>{text}</span> }.into_any(),
            None => text.into_any(),
        })
        .collect_view()
}

/// A fenced code block with its language and a Copy button.
#[component]
fn CodeBlock(language: String, code: String) -> impl IntoView {
    let copied = RwSignal::new(false);
    let to_copy = code.clone();
    let copy = move |_| {
        crate::clipboard::copy(&to_copy);
        copied.set(true);
    };
    let label = if language.is_empty() {
        "code".to_owned()
    } else {
        language.clone()
    };
    view! {
        <div class="code-block">
            <div class="code-head">
                <span>{label}</span>
                <button type="button" class="copy" aria-label="Copy code" on:click=copy>
                    {move || if copied.get() { "Copied" } else { "Copy" }}
                </button>
            </div>
            <pre><code>{code_view(&code, &language)}</code></pre>
        </div>
    }
}

/// Renders Markdown `text` as inert DOM.
#[component]
pub fn Markdown(text: String) -> impl IntoView {
    parse(&text)
        .into_iter()
        .map(|block| match block {
            Block::Paragraph(t) => view! { <p>{inline_view(&t)}</p> }.into_any(),
            Block::Quote(t) => view! { <blockquote>{t}</blockquote> }.into_any(),
            Block::List(items) => view! {
                <ul>{items.into_iter().map(|i| view! { <li>{inline_view(&i)}</li> }).collect_view()}</ul>
            }
            .into_any(),
            Block::Code { language, code } => view! { <CodeBlock language code/> }.into_any(),
        })
        .collect_view()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_are_recognised() {
        let text = "Intro line\ncontinues\n\n> quoted\n> more\n\n- one\n- two\n\n```rust main.rs\nfn x() {}\n```\ntail";
        assert_eq!(
            parse(text),
            vec![
                Block::Paragraph("Intro line continues".into()),
                Block::Quote("quoted\nmore".into()),
                Block::List(vec!["one".into(), "two".into()]),
                Block::Code {
                    language: "rust".into(),
                    code: "fn x() {}\n".into()
                },
                Block::Paragraph("tail".into()),
            ]
        );
    }

    #[test]
    fn an_unclosed_fence_keeps_the_rest_as_code() {
        assert_eq!(
            parse("```\nlet a = 1;"),
            vec![Block::Code {
                language: String::new(),
                code: "let a = 1;\n".into()
            }]
        );
    }

    #[test]
    fn a_longer_fence_keeps_shorter_fences_inside_as_code() {
        let text = "````md\n```\ninner\n```\n````\nafter";
        assert_eq!(
            parse(text),
            vec![
                Block::Code {
                    language: "md".into(),
                    code: "```\ninner\n```\n".into()
                },
                Block::Paragraph("after".into()),
            ]
        );
        // A fence line with more after it does not close; tildes close only tildes.
        assert_eq!(
            parse("~~~\n```rust\n~~~\n"),
            vec![Block::Code {
                language: String::new(),
                code: "```rust\n".into()
            }]
        );
    }

    #[test]
    fn inline_markers_are_split_and_unmatched_ones_stay_text() {
        assert_eq!(
            inlines("use `x` and **y** or *z* but 2 * 3"),
            vec![
                Inline::Text("use ".into()),
                Inline::Code("x".into()),
                Inline::Text(" and ".into()),
                Inline::Bold("y".into()),
                Inline::Text(" or ".into()),
                Inline::Emphasis("z".into()),
                Inline::Text(" but 2 * 3".into()),
            ]
        );
    }

    #[test]
    fn html_is_kept_as_text() {
        assert_eq!(
            parse("<script>alert(1)</script>"),
            vec![Block::Paragraph("<script>alert(1)</script>".into())]
        );
    }
}
