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

/// A fenced code block with its language and a Copy button; `plain` skips the highlighting
/// (for a block still streaming, which would be highlighted again with every piece).
#[component]
fn CodeBlock(language: String, code: String, #[prop(optional)] plain: bool) -> impl IntoView {
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
            // Focusable: a long line scrolls sideways, and the keyboard must reach it too.
            <pre tabindex="0"><code>{if plain { code.clone().into_any() } else { code_view(&code, &language).into_any() }}</code></pre>
        </div>
    }
}

/// One block as inert DOM; `plain` code is not highlighted.
fn block_view(block: Block, plain: bool) -> AnyView {
    match block {
        Block::Paragraph(t) => view! { <p>{inline_view(&t)}</p> }.into_any(),
        Block::Quote(t) => view! { <blockquote>{t}</blockquote> }.into_any(),
        Block::List(items) => view! {
            <ul>{items.into_iter().map(|i| view! { <li>{inline_view(&i)}</li> }).collect_view()}</ul>
        }
        .into_any(),
        Block::Code { language, code } => view! { <CodeBlock language code plain/> }.into_any(),
    }
}

/// Renders Markdown `text` as inert DOM.
#[component]
pub fn Markdown(text: String) -> impl IntoView {
    parse(&text)
        .into_iter()
        .map(|block| block_view(block, false))
        .collect_view()
}

/// Parses a text that grows (a streaming reply) without parsing it all again for every piece:
/// the blocks before the last blank line outside a code fence can no longer change, so they are
/// parsed once and kept; only the tail after it is parsed again.
#[derive(Debug, Default, Clone)]
pub struct Incremental {
    /// The part of the text whose blocks are kept.
    settled: String,
    /// Its blocks.
    blocks: Vec<Block>,
}

impl Incremental {
    /// The blocks of `text`: how many are settled (kept from now on, available from
    /// [`Self::settled_block`]) and the blocks of the tail.
    pub fn update(&mut self, text: &str) -> (usize, Vec<Block>) {
        if !text.starts_with(self.settled.as_str()) {
            // Not a continuation (the final text replaced the streamed one): start over.
            *self = Self::default();
        }
        let start = self.settled.len();
        if let Some(boundary) = last_boundary(&text[start..]) {
            let settled = &text[start..start + boundary];
            self.blocks.extend(parse(settled));
            self.settled.push_str(settled);
        }
        (self.blocks.len(), parse(&text[self.settled.len()..]))
    }

    /// The settled block `index`.
    pub fn settled_block(&self, index: usize) -> Option<Block> {
        self.blocks.get(index).cloned()
    }
}

/// The end of the last blank line of `text` that is outside any code fence: no block spans it,
/// so what comes before parses the same whatever follows.
fn last_boundary(text: &str) -> Option<usize> {
    let mut open: Option<Opening<'_>> = None;
    let mut boundary = None;
    let mut at = 0;
    for line in text.split_inclusive('\n') {
        at += line.len();
        if !line.ends_with('\n') {
            break;
        }
        match &open {
            Some(opening) if opening.is_closed_by(line) => open = None,
            Some(_) => {}
            None => {
                if let Some(opening) = Opening::parse(line) {
                    open = Some(opening);
                } else if line.trim().is_empty() {
                    boundary = Some(at);
                }
            }
        }
    }
    boundary
}

/// Markdown of a reply that may still be streaming: settled blocks are rendered once, only the
/// tail again with each piece, and a code block still arriving is not highlighted until it is
/// settled — so a long reply streams without re-rendering (or re-highlighting) all of itself.
#[component]
pub fn LiveMarkdown(text: ArcRwSignal<String>, streaming: Signal<bool>) -> impl IntoView {
    let cache = StoredValue::new(Incremental::default());
    let parsed = Memo::new(move |_| {
        let text = text.get();
        cache
            .try_update_value(|cache| cache.update(&text))
            .unwrap_or_default()
    });
    let settled = move || 0..parsed.with(|(count, _)| *count);
    view! {
        <For each=settled key=|index| *index let:index>
            {cache.with_value(|c| c.settled_block(index)).map(|block| block_view(block, false))}
        </For>
        {move || {
            let plain = streaming.get();
            parsed.with(|(_, tail)| tail.clone()).into_iter().map(|b| block_view(b, plain)).collect_view()
        }}
    }
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
    fn growing_text_parses_to_the_same_blocks_piece_by_piece() {
        let text = "Intro\n\n```rust\nfn a() {}\n\nfn b() {}\n```\n\n- one\n- two\n\n> quote\n\ntail words";
        let mut incremental = Incremental::default();
        let mut settled_seen = 0;
        for end in (0..=text.len()).filter(|&i| text.is_char_boundary(i)) {
            let (settled, tail) = incremental.update(&text[..end]);
            assert!(settled >= settled_seen, "settled blocks only grow");
            settled_seen = settled;
            let mut all: Vec<Block> = (0..settled)
                .map(|i| incremental.settled_block(i).unwrap())
                .collect();
            all.extend(tail);
            assert_eq!(all, parse(&text[..end]), "at {end}");
        }
        assert!(settled_seen >= 3, "most of it settled: {settled_seen}");
        // A text that is not a continuation starts over.
        let (settled, tail) = incremental.update("other");
        assert_eq!((settled, tail), (0, parse("other")));
    }

    #[test]
    fn a_blank_line_inside_a_fence_is_no_boundary() {
        assert_eq!(last_boundary("```\na\n\nb\n"), None);
        assert_eq!(last_boundary("p\n\n```\na\n\n"), Some(3));
        assert_eq!(last_boundary("```\na\n```\n\nq"), Some(11));
    }

    #[test]
    fn html_is_kept_as_text() {
        assert_eq!(
            parse("<script>alert(1)</script>"),
            vec![Block::Paragraph("<script>alert(1)</script>".into())]
        );
    }
}
