//! The shape of a proposed change, in unified-diff form. Computing diffs is the server's job.

use serde::{Deserialize, Serialize};

/// What a line of a hunk does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LineKind {
    /// Present in both versions.
    Context,
    /// Only in the new version.
    Add,
    /// Only in the old version.
    Remove,
}

/// One line of a hunk. `text` excludes the line ending.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DiffLine {
    /// Whether the line is kept, added or removed.
    pub kind: LineKind,
    /// The line's text without its line ending.
    pub text: String,
}

/// A contiguous group of changes with surrounding context, as in `@@ -old_start,old_lines
/// +new_start,new_lines @@`. Line numbers are 1-based; a start of 0 means an empty side.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hunk {
    /// First line of the hunk in the original file (1-based).
    pub old_start: u32,
    /// Number of original lines the hunk covers (context + removed).
    pub old_lines: u32,
    /// First line of the hunk in the modified file (1-based).
    pub new_start: u32,
    /// Number of modified lines the hunk covers (context + added).
    pub new_lines: u32,
    /// The hunk's lines in order.
    pub lines: Vec<DiffLine>,
}

impl Hunk {
    /// The `@@ -a,b +c,d @@` header line of this hunk.
    pub fn header(&self) -> String {
        format!(
            "@@ -{},{} +{},{} @@",
            self.old_start, self.old_lines, self.new_start, self.new_lines
        )
    }
}
