//! Three-way merges of text, with `diffy`: two edits of one starting point combined, or a
//! draft with conflict markers where they touch the same lines.

use diffy::{ConflictStyle, MergeOptions};

/// The marker lines of a conflict in a draft, as people read them.
pub const MINE_MARKER: &str = "<<<<<<< your edit";
/// The line between the two sides.
pub const SPLIT_MARKER: &str = "=======";
/// The marker line after the other side.
pub const THEIRS_MARKER: &str = ">>>>>>> the other edit";

/// Texts over this many lines (on any side) are not merged: a merge's cost grows with their
/// size times their differences, and it runs while the session waits. They count as
/// conflicting, which keeps both sides.
pub const MAX_MERGE_LINES: usize = crate::diff::MAX_DIFF_LINES;

/// What merging two edits of one base came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Merged {
    /// Both edits combined.
    Clean(String),
    /// They touch the same lines: a draft with both sides between markers.
    Conflict(String),
}

/// Merges `mine` and `theirs`, two edits of `base`.
pub fn merge3(base: &str, mine: &str, theirs: &str) -> Merged {
    if mine == theirs || theirs == base {
        return Merged::Clean(mine.to_owned());
    }
    if mine == base {
        return Merged::Clean(theirs.to_owned());
    }
    let too_long = [base, mine, theirs]
        .iter()
        .any(|text| text.lines().count() > MAX_MERGE_LINES);
    if too_long {
        return Merged::Conflict(side_by_side(mine, theirs));
    }
    let mut options = MergeOptions::new();
    options.set_conflict_style(ConflictStyle::Merge);
    match options.merge(base, mine, theirs) {
        Ok(merged) => Merged::Clean(merged),
        Err(draft) => Merged::Conflict(relabel(&draft)),
    }
}

/// Both whole texts as one conflict, for when no finer merge is possible.
pub fn side_by_side(mine: &str, theirs: &str) -> String {
    let newline = |text: &str| {
        if text.is_empty() || text.ends_with('\n') {
            ""
        } else {
            "\n"
        }
    };
    format!(
        "{MINE_MARKER}\n{mine}{}{SPLIT_MARKER}\n{theirs}{}{THEIRS_MARKER}\n",
        newline(mine),
        newline(theirs)
    )
}

/// `diffy`'s markers (`<<<<<<< ours`, `>>>>>>> theirs`) renamed for people.
fn relabel(draft: &str) -> String {
    draft
        .split_inclusive('\n')
        .map(|line| {
            let bare = line.trim_end_matches(['\n', '\r']);
            let ending = &line[bare.len()..];
            if bare.starts_with("<<<<<<<") {
                format!("{MINE_MARKER}{ending}")
            } else if bare.starts_with(">>>>>>>") {
                format!("{THEIRS_MARKER}{ending}")
            } else {
                line.to_owned()
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASE: &str = "fn a() {}\n\nfn b() {}\n\nfn c() {}\n";

    #[test]
    fn edits_apart_merge_cleanly() {
        let mine = BASE.replace("fn a() {}", "fn a() { 1 }");
        let theirs = BASE.replace("fn c() {}", "fn c() { 3 }");
        assert_eq!(
            merge3(BASE, &mine, &theirs),
            Merged::Clean("fn a() { 1 }\n\nfn b() {}\n\nfn c() { 3 }\n".into())
        );
    }

    #[test]
    fn edits_of_the_same_line_conflict_and_keep_both_sides() {
        let mine = BASE.replace("fn b() {}", "fn b() { mine }");
        let theirs = BASE.replace("fn b() {}", "fn b() { theirs }");
        let Merged::Conflict(draft) = merge3(BASE, &mine, &theirs) else {
            panic!("expected a conflict");
        };
        assert!(draft.contains("fn b() { mine }") && draft.contains("fn b() { theirs }"));
        assert!(
            draft.contains(MINE_MARKER) && draft.contains(THEIRS_MARKER),
            "{draft}"
        );
        assert!(
            draft.starts_with("fn a() {}\n"),
            "unaffected lines stay: {draft}"
        );
    }

    #[test]
    fn unchanged_sides_take_the_other() {
        assert_eq!(merge3(BASE, BASE, "x\n"), Merged::Clean("x\n".into()));
        assert_eq!(merge3(BASE, "y\n", BASE), Merged::Clean("y\n".into()));
        assert_eq!(merge3(BASE, "z\n", "z\n"), Merged::Clean("z\n".into()));
    }

    #[test]
    fn huge_texts_are_kept_side_by_side() {
        let big: String = (0..MAX_MERGE_LINES + 1).map(|n| format!("{n}\n")).collect();
        let mine = format!("{big}mine\n");
        let theirs = format!("theirs\n{big}");
        let Merged::Conflict(draft) = merge3(&big, &mine, &theirs) else {
            panic!("expected a conflict");
        };
        assert!(draft.starts_with(MINE_MARKER));
    }
}
