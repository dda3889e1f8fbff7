//! The languages AXE knows by name: one normalisation shared by the server's code placement, the
//! offline responder, the browser's highlighter and (checked by a test) the CodeMirror module.
//!
//! A file's `language` on the wire is free text chosen by the client (`rust`, `rs`, `TSX`…);
//! [`Language::from_name`] maps every spelling AXE understands to one language, and
//! [`Language::name`] is the one spelling AXE itself sends and stores in fences.

/// A language AXE highlights, edits and places code for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Language {
    /// Rust.
    Rust,
    /// TypeScript (also TSX).
    TypeScript,
    /// JavaScript (also JSX and ES modules).
    JavaScript,
    /// Python.
    Python,
}

impl Language {
    /// Every language, in a fixed order.
    pub const ALL: [Language; 4] = [
        Language::Rust,
        Language::TypeScript,
        Language::JavaScript,
        Language::Python,
    ];

    /// The canonical name: what AXE writes in fences and hands the editor.
    pub fn name(self) -> &'static str {
        match self {
            Self::Rust => "rust",
            Self::TypeScript => "typescript",
            Self::JavaScript => "javascript",
            Self::Python => "python",
        }
    }

    /// Every spelling that means this language (lower case), canonical name first.
    pub fn aliases(self) -> &'static [&'static str] {
        match self {
            Self::Rust => &["rust", "rs"],
            Self::TypeScript => &["typescript", "ts", "tsx", "mts", "cts"],
            Self::JavaScript => &["javascript", "js", "jsx", "mjs", "cjs"],
            Self::Python => &["python", "py", "python3"],
        }
    }

    /// The language a name means, ignoring case; `None` for names AXE does not know.
    pub fn from_name(name: &str) -> Option<Self> {
        let lower = name.trim().to_ascii_lowercase();
        Self::ALL
            .into_iter()
            .find(|language| language.aliases().contains(&lower.as_str()))
    }

    /// How a line comment starts.
    pub fn line_comment(self) -> &'static str {
        match self {
            Self::Python => "#",
            Self::Rust | Self::TypeScript | Self::JavaScript => "//",
        }
    }
}

/// Whether two language names mean the same known language (`rs` and `Rust` do; two unknown
/// names never do, since AXE cannot tell what they are).
pub fn same_language(a: &str, b: &str) -> bool {
    matches!((Language::from_name(a), Language::from_name(b)), (Some(x), Some(y)) if x == y)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_alias_maps_back_to_its_language_and_names_are_canonical() {
        for language in Language::ALL {
            assert_eq!(language.aliases()[0], language.name());
            for alias in language.aliases() {
                assert_eq!(Language::from_name(alias), Some(language), "{alias}");
                assert_eq!(
                    Language::from_name(&alias.to_ascii_uppercase()),
                    Some(language)
                );
            }
        }
        assert_eq!(Language::from_name("cobol"), None);
        assert_eq!(Language::from_name(""), None);
    }

    #[test]
    fn no_alias_belongs_to_two_languages() {
        let mut seen = std::collections::HashSet::new();
        for language in Language::ALL {
            for alias in language.aliases() {
                assert!(seen.insert(*alias), "{alias} is listed twice");
            }
        }
    }

    #[test]
    fn same_language_needs_a_known_language_on_both_sides() {
        assert!(same_language("rs", "Rust"));
        assert!(same_language("tsx", "typescript"));
        assert!(!same_language("ts", "js"));
        assert!(!same_language("cobol", "cobol"));
        assert!(!same_language("", "rust"));
    }
}
