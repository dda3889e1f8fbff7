//! A small syntax highlighter for code in replies and diffs: comments, strings, numbers and
//! keywords of Rust, TypeScript/JavaScript and Python. Output is tokens, rendered as text spans.

use protocol::Language;

/// A run of code and the CSS class it is shown with (`None` for plain text).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    /// `tok-kw`, `tok-str`, `tok-num`, `tok-com`, or `None`.
    pub class: Option<&'static str>,
    /// The code itself.
    pub text: String,
}

const RUST: &[&str] = &[
    "as", "async", "await", "break", "const", "continue", "crate", "else", "enum", "false", "fn",
    "for", "if", "impl", "in", "let", "loop", "match", "mod", "move", "mut", "pub", "ref",
    "return", "self", "Self", "static", "struct", "super", "trait", "true", "type", "unsafe",
    "use", "where", "while",
];
const TYPESCRIPT: &[&str] = &[
    "async",
    "await",
    "break",
    "case",
    "catch",
    "class",
    "const",
    "continue",
    "default",
    "else",
    "export",
    "extends",
    "false",
    "finally",
    "for",
    "from",
    "function",
    "if",
    "import",
    "in",
    "interface",
    "let",
    "new",
    "null",
    "of",
    "return",
    "switch",
    "this",
    "throw",
    "true",
    "try",
    "type",
    "typeof",
    "undefined",
    "var",
    "while",
];
const PYTHON: &[&str] = &[
    "and", "as", "async", "await", "break", "class", "continue", "def", "elif", "else", "except",
    "False", "finally", "for", "from", "if", "import", "in", "is", "lambda", "None", "not", "or",
    "pass", "raise", "return", "True", "try", "while", "with", "yield",
];

/// Splits `code` into highlighted tokens for `language` (unknown languages get Rust's rules).
pub fn highlight(code: &str, language: &str) -> Vec<Token> {
    let language = Language::from_name(language).unwrap_or(Language::Rust);
    let keywords: &[&str] = match language {
        Language::Python => PYTHON,
        Language::TypeScript | Language::JavaScript => TYPESCRIPT,
        Language::Rust => RUST,
    };
    let line_comment = language.line_comment();
    let mut tokens: Vec<Token> = Vec::new();
    let mut push = |class: Option<&'static str>, text: &str| match tokens.last_mut() {
        Some(last) if last.class == class && class.is_none() => last.text.push_str(text),
        _ => tokens.push(Token {
            class,
            text: text.to_owned(),
        }),
    };
    let mut rest = code;
    while let Some(first) = rest.chars().next() {
        let taken = if rest.starts_with(line_comment) {
            push(Some("tok-com"), until_line_end(rest));
            until_line_end(rest).len()
        } else if first == '"' || first == '\'' || first == '`' {
            let len = string_len(rest, first);
            push(Some("tok-str"), &rest[..len]);
            len
        } else if first.is_ascii_digit() {
            let len = rest
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '.'))
                .unwrap_or(rest.len());
            push(Some("tok-num"), &rest[..len]);
            len
        } else if first.is_alphabetic() || first == '_' {
            let len = rest
                .find(|c: char| !(c.is_alphanumeric() || c == '_'))
                .unwrap_or(rest.len());
            let word = &rest[..len];
            push(keywords.contains(&word).then_some("tok-kw"), word);
            len
        } else {
            push(None, &rest[..first.len_utf8()]);
            first.len_utf8()
        };
        rest = &rest[taken..];
    }
    tokens
}

fn until_line_end(text: &str) -> &str {
    &text[..text.find('\n').unwrap_or(text.len())]
}

/// Length in bytes of the string literal at the start of `text`, quotes included. A Rust
/// lifetime (`'a`) is a one-character "string"; an unclosed string runs to the line's end.
fn string_len(text: &str, quote: char) -> usize {
    let mut escaped = false;
    for (at, c) in text.char_indices().skip(1) {
        if c == '\n' && quote != '`' {
            return at;
        }
        if escaped {
            escaped = false;
        } else if c == '\\' {
            escaped = true;
        } else if c == quote {
            return at + c.len_utf8();
        }
    }
    text.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn classes(code: &str, language: &str) -> Vec<(Option<&'static str>, String)> {
        highlight(code, language)
            .into_iter()
            .map(|t| (t.class, t.text))
            .collect()
    }

    #[test]
    fn rust_keywords_strings_numbers_and_comments() {
        let tokens = classes("let s = \"a\\\"b\"; // note\n42", "rust");
        assert!(tokens.contains(&(Some("tok-kw"), "let".into())));
        assert!(tokens.contains(&(Some("tok-str"), "\"a\\\"b\"".into())));
        assert!(tokens.contains(&(Some("tok-com"), "// note".into())));
        assert!(tokens.contains(&(Some("tok-num"), "42".into())));
    }

    #[test]
    fn python_uses_hash_comments_and_its_own_keywords() {
        let tokens = classes("def f(): # hi\n    return None", "python");
        assert!(tokens.contains(&(Some("tok-kw"), "def".into())));
        assert!(tokens.contains(&(Some("tok-com"), "# hi".into())));
        assert!(tokens.contains(&(Some("tok-kw"), "None".into())));
    }

    #[test]
    fn every_spelling_of_a_language_gets_its_rules() {
        for spelling in ["PY", "python3"] {
            assert!(classes("# x", spelling).contains(&(Some("tok-com"), "# x".into())));
        }
        assert!(classes("function f() {}", "TSX").contains(&(Some("tok-kw"), "function".into())));
    }

    #[test]
    fn the_text_is_preserved_exactly() {
        let code = "const x = `tpl ${y}`; // ünïcode\n'unterminated\nlet z = 1.5e3;";
        let joined: String = highlight(code, "ts").into_iter().map(|t| t.text).collect();
        assert_eq!(joined, code);
    }
}
