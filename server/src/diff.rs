//! Real diffs between two versions of a file, computed with `similar`, in the protocol's shape.

use protocol::{DiffLine, Hunk, LineKind};
use similar::{ChangeTag, TextDiff};

/// Lines of unchanged context kept around each change, as `diff -u` does.
const CONTEXT_LINES: usize = 3;

/// Texts with more lines than this (either side) are diffed as one hunk replacing the whole
/// file. A line diff costs the texts' size times their differences and runs while the session
/// waits; a time limit would make two computations of the same diff disagree, and the hunk
/// numbers of an apply must match those of the proposal, so the bound is on size.
pub const MAX_DIFF_LINES: usize = 10_000;

/// Whether the texts are too long for a line diff.
fn too_long(original: &str, modified: &str) -> bool {
    original.lines().count() > MAX_DIFF_LINES || modified.lines().count() > MAX_DIFF_LINES
}

/// One hunk that removes every line of `original` and adds every line of `modified`.
fn whole_file_hunk(original: &str, modified: &str) -> Hunk {
    let line = |kind, text: &str| DiffLine {
        kind,
        text: strip_line_ending(text).to_owned(),
    };
    let old: Vec<&str> = original.split_inclusive('\n').collect();
    let new: Vec<&str> = modified.split_inclusive('\n').collect();
    Hunk {
        old_start: unified_start(0, old.len()),
        old_lines: to_u32(old.len()),
        new_start: unified_start(0, new.len()),
        new_lines: to_u32(new.len()),
        lines: old
            .iter()
            .map(|l| line(LineKind::Remove, l))
            .chain(new.iter().map(|l| line(LineKind::Add, l)))
            .collect(),
    }
}

/// The hunks that turn `original` into `modified`; empty when they are equal.
pub fn hunks(original: &str, modified: &str) -> Vec<Hunk> {
    if original == modified {
        return Vec::new();
    }
    if too_long(original, modified) {
        return vec![whole_file_hunk(original, modified)];
    }
    let diff = TextDiff::from_lines(original, modified);
    diff.grouped_ops(CONTEXT_LINES)
        .iter()
        .filter_map(|group| {
            let first = group.first()?;
            let last = group.last()?;
            let old = first.old_range().start..last.old_range().end;
            let new = first.new_range().start..last.new_range().end;
            let lines = group
                .iter()
                .flat_map(|op| diff.iter_changes(op))
                .map(|change| DiffLine {
                    kind: match change.tag() {
                        ChangeTag::Equal => LineKind::Context,
                        ChangeTag::Insert => LineKind::Add,
                        ChangeTag::Delete => LineKind::Remove,
                    },
                    text: strip_line_ending(change.value()).to_owned(),
                })
                .collect();
            Some(Hunk {
                old_start: unified_start(old.start, old.len()),
                old_lines: to_u32(old.len()),
                new_start: unified_start(new.start, new.len()),
                new_lines: to_u32(new.len()),
                lines,
            })
        })
        .collect()
}

/// The text that results from taking only the `accepted` hunks (indexes into [`hunks`] of the
/// same two texts) of the change from `original` to `modified`; the others keep the original.
///
/// Works on `similar`'s own line slices, so line endings (CRLF, a missing final newline) come
/// through exactly as they were.
pub fn apply_selected(original: &str, modified: &str, accepted: &[usize]) -> String {
    if too_long(original, modified) {
        // One whole-file hunk: taken or not.
        return if accepted.contains(&0) {
            modified
        } else {
            original
        }
        .to_owned();
    }
    let diff = TextDiff::from_lines(original, modified);
    let old = diff.old_slices();
    let new = diff.new_slices();
    let groups = diff.grouped_ops(CONTEXT_LINES);
    let hunk_of = |op: &similar::DiffOp| {
        groups.iter().position(|group| {
            group.iter().any(|g| {
                g.tag() != similar::DiffTag::Equal
                    && g.old_range() == op.old_range()
                    && g.new_range() == op.new_range()
            })
        })
    };
    let mut out = String::with_capacity(original.len().max(modified.len()));
    for op in diff.ops() {
        let take_new = op.tag() != similar::DiffTag::Equal
            && hunk_of(op).is_some_and(|hunk| accepted.contains(&hunk));
        let lines = if take_new {
            &new[op.new_range()]
        } else {
            &old[op.old_range()]
        };
        lines.iter().for_each(|line| out.push_str(line));
    }
    out
}

/// Unified diffs number lines from 1, and name the line *before* an empty range.
fn unified_start(start: usize, len: usize) -> u32 {
    to_u32(if len == 0 { start } else { start + 1 })
}

fn to_u32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

fn strip_line_ending(line: &str) -> &str {
    line.strip_suffix("\r\n")
        .or_else(|| line.strip_suffix('\n'))
        .unwrap_or(line)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(hunk: &Hunk) -> String {
        hunk.lines
            .iter()
            .map(|l| match l.kind {
                LineKind::Context => ' ',
                LineKind::Add => '+',
                LineKind::Remove => '-',
            })
            .collect()
    }

    #[test]
    fn equal_texts_have_no_hunks() {
        assert!(hunks("a\nb\n", "a\nb\n").is_empty());
        assert!(hunks("", "").is_empty());
    }

    #[test]
    fn an_appended_line_is_one_hunk_with_context() {
        let found = hunks("a\nb\n", "a\nb\nc\n");
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].header(), "@@ -1,2 +1,3 @@");
        assert_eq!(kinds(&found[0]), "  +");
        assert_eq!(found[0].lines[2].text, "c");
    }

    #[test]
    fn distant_changes_make_separate_hunks() {
        let original: String = (1..=20).map(|n| format!("line {n}\n")).collect();
        let modified = original
            .replace("line 2\n", "line two\n")
            .replace("line 19\n", "line nineteen\n");
        let found = hunks(&original, &modified);
        assert_eq!(found.len(), 2);
        assert_eq!(found[0].header(), "@@ -1,5 +1,5 @@");
        assert_eq!(found[1].header(), "@@ -16,5 +16,5 @@");
    }

    #[test]
    fn applying_some_hunks_takes_exactly_those() {
        let original: String = (1..=20).map(|n| format!("line {n}\n")).collect();
        let modified = original
            .replace("line 2\n", "line two\n")
            .replace("line 19\n", "line nineteen\n");
        assert_eq!(apply_selected(&original, &modified, &[0, 1]), modified);
        assert_eq!(apply_selected(&original, &modified, &[]), original);
        assert_eq!(
            apply_selected(&original, &modified, &[0]),
            original.replace("line 2\n", "line two\n")
        );
        assert_eq!(
            apply_selected(&original, &modified, &[1]),
            original.replace("line 19\n", "line nineteen\n")
        );
    }

    #[test]
    fn selected_hunks_keep_crlf_missing_newlines_and_empty_files() {
        let crlf_old: String = ('a'..='o').map(|c| format!("{c}\r\n")).collect();
        let crlf_new = crlf_old.replace("b\r\n", "B\r\n").replace("n\r\n", "N\r\n");
        assert_eq!(hunks(&crlf_old, &crlf_new).len(), 2);
        assert_eq!(
            apply_selected(&crlf_old, &crlf_new, &[1]),
            crlf_old.replace("n\r\n", "N\r\n")
        );
        assert_eq!(apply_selected("x", "x\ny", &[0]), "x\ny");
        assert_eq!(apply_selected("", "new\n", &[0]), "new\n");
        assert_eq!(apply_selected("é\n", "ü\n", &[0]), "ü\n");
    }

    #[test]
    fn texts_too_long_to_diff_by_line_make_one_whole_file_hunk() {
        let original: String = (0..MAX_DIFF_LINES + 1).map(|n| format!("a{n}\n")).collect();
        let modified: String = (0..MAX_DIFF_LINES + 1).map(|n| format!("b{n}\n")).collect();
        let found = hunks(&original, &modified);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].old_lines as usize, MAX_DIFF_LINES + 1);
        assert_eq!(found[0].lines.len(), 2 * (MAX_DIFF_LINES + 1));
        assert_eq!(apply_selected(&original, &modified, &[0]), modified);
        assert_eq!(apply_selected(&original, &modified, &[]), original);
    }

    #[test]
    fn empty_file_crlf_and_non_ascii_are_handled() {
        let from_empty = hunks("", "fn main() {}\n");
        assert_eq!(from_empty[0].header(), "@@ -0,0 +1,1 @@");
        let crlf = hunks("a\r\nb\r\n", "a\r\nc\r\n");
        assert_eq!(crlf[0].lines[1].text, "b");
        assert_eq!(crlf[0].lines[2].text, "c");
        let unicode = hunks("grüße\n", "grüße\nこんにちは");
        assert_eq!(unicode[0].lines[1].text, "こんにちは");
    }
}
