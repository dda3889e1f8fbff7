//! A reply's code made into proposed changes: the session's own operation, since it reads the
//! session's files and remembers the diffs it makes.
//!
//! The model saw the file as it was when the person asked (the reply's base); the person may
//! have edited it while the reply streamed. So code is placed against the base, and the change
//! is then merged into the file as it is now — a diff never undoes edits made meanwhile. Where
//! the two touch the same lines, the diff is made against the base and applying it is refused
//! as stale (the person can still read and reject it).

use super::state::SessionState;
use crate::{
    codeblocks::{self, FileView},
    diff,
    merge::{merge3, Merged},
};
use protocol::DiffProposal;

/// A whole-file change that removes more than this share of a file of at least
/// [`WARN_MIN_LINES`] lines comes with a warning: a model that sent only part of the file.
const WARN_REMOVED_SHARE: f64 = 0.5;
/// Files shorter than this get no removal warning.
const WARN_MIN_LINES: usize = 10;

impl SessionState {
    /// Places the code of a complete `reply` as diffs against this session's files (unnamed
    /// blocks may change `active_file`); `base` is the active file's content the model was
    /// shown. Remembers the diffs and returns them in order.
    pub fn propose_from_reply(
        &mut self,
        reply: &str,
        active_file: Option<&str>,
        base: Option<(&str, &str)>,
    ) -> Vec<DiffProposal> {
        let base_of = |id: &str, current: &str| -> String {
            match base {
                Some((base_id, content)) if base_id == id => content.to_owned(),
                _ => current.to_owned(),
            }
        };
        let bases: Vec<(String, String)> = self
            .files
            .iter()
            .map(|(id, file)| (id.clone(), base_of(id, &file.content)))
            .collect();
        let views: Vec<FileView<'_>> = bases
            .iter()
            .filter_map(|(id, base)| {
                self.files.get(id).map(|file| FileView {
                    id,
                    name: &file.name,
                    language: &file.language,
                    content: base,
                })
            })
            .collect();
        let changes = codeblocks::changes(reply, &views, active_file);
        changes
            .into_iter()
            .filter_map(|(file_id, new_content)| {
                let base = bases.iter().find(|(id, _)| *id == file_id)?.1.clone();
                self.propose_on(file_id, &base, new_content)
            })
            .collect()
    }

    /// A diff of the file `file_id` to what `new_content` (made on `base`) means for it now.
    fn propose_on(
        &mut self,
        file_id: String,
        base: &str,
        new_content: String,
    ) -> Option<DiffProposal> {
        let current = self.files.get(&file_id)?.content.clone();
        if current == base {
            return self.propose(file_id, new_content);
        }
        match merge3(base, &new_content, &current) {
            Merged::Clean(merged) => self.propose(file_id, merged),
            Merged::Conflict(_) => {
                let mut proposal = self.make_proposal(file_id, base.to_owned(), new_content)?;
                proposal.warning = Some(
                    "The file changed while AXE answered, on the lines this change touches; it \
                     cannot be applied as it is. Reject it, or ask again."
                        .into(),
                );
                self.remember_diff(proposal.clone());
                Some(proposal)
            }
        }
    }

    /// Computes and remembers a diff of the file `file_id` to `new_content`; `None` if the file
    /// is unknown or nothing changes.
    pub fn propose(&mut self, file_id: String, new_content: String) -> Option<DiffProposal> {
        let original = self.files.get(&file_id)?.content.clone();
        let proposal = self.make_proposal(file_id, original, new_content)?;
        self.remember_diff(proposal.clone());
        Some(proposal)
    }

    /// A diff of `original` to `modified` for the file `file_id`, with a warning when it
    /// removes most of a file; `None` if nothing changes.
    fn make_proposal(
        &mut self,
        file_id: String,
        original: String,
        modified: String,
    ) -> Option<DiffProposal> {
        let file = self.files.get(&file_id)?;
        let hunks = diff::hunks(&original, &modified);
        if hunks.is_empty() {
            return None;
        }
        let (file_name, language) = (file.name.clone(), file.language.clone());
        let warning = removal_warning(&original, &hunks);
        Some(DiffProposal {
            diff_id: self.new_diff_id(),
            file_id,
            file_name,
            language,
            original,
            modified,
            hunks,
            warning,
        })
    }
}

/// A warning when `hunks` remove more than half of a file's lines: what a truncated code block
/// looks like (a model's fence closed early), which the person must see before applying.
fn removal_warning(original: &str, hunks: &[protocol::Hunk]) -> Option<String> {
    let total = original.lines().count();
    let removed = hunks
        .iter()
        .flat_map(|h| h.lines.iter())
        .filter(|l| l.kind == protocol::LineKind::Remove)
        .count();
    (total >= WARN_MIN_LINES && removed as f64 > total as f64 * WARN_REMOVED_SHARE).then(|| {
        format!(
            "This change removes {removed} of the file's {total} lines: the reply may hold only \
             part of the file."
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::session::state::FileState;

    fn session_with(content: &str) -> SessionState {
        let mut session = SessionState::default();
        session
            .files
            .insert("f1".into(), FileState::new("main.rs", "rust", content));
        session
    }

    #[test]
    fn a_reply_naming_a_file_becomes_a_remembered_diff() {
        let mut session = session_with("fn main() {}\n");
        let proposals =
            session.propose_from_reply("```rust main.rs\nfn main() { go(); }\n```\n", None, None);
        assert_eq!(proposals.len(), 1);
        assert_eq!(proposals[0].diff_id, "d-1");
        assert_eq!(proposals[0].original, "fn main() {}\n");
        assert!(proposals[0].warning.is_none());
        assert!(session.pending_diffs.contains_key("d-1"));
    }

    #[test]
    fn no_change_and_unknown_files_make_no_diff() {
        let mut session = session_with("x\n");
        assert!(session.propose("f1".into(), "x\n".into()).is_none());
        assert!(session.propose("nope".into(), "y\n".into()).is_none());
        assert!(session.pending_diffs.is_empty());
    }

    #[test]
    fn edits_made_while_the_reply_streamed_are_kept_not_removed() {
        let base = "fn a() {}\n\nfn b() {}\n";
        // The person added a line while the model answered about the base.
        let now = "// mine\nfn a() {}\n\nfn b() {}\n";
        let mut session = session_with(now);
        let reply = "```rust main.rs\nfn a() {}\n\nfn b() {}\n\nfn c() {}\n```\n";
        let proposals = session.propose_from_reply(reply, Some("f1"), Some(("f1", base)));
        assert_eq!(proposals.len(), 1);
        assert_eq!(proposals[0].original, now, "made against the file as it is");
        assert_eq!(
            proposals[0].modified,
            "// mine\nfn a() {}\n\nfn b() {}\n\nfn c() {}\n"
        );
        // No hunk removes the person's line.
        assert!(proposals[0]
            .hunks
            .iter()
            .flat_map(|h| &h.lines)
            .all(|l| l.kind != protocol::LineKind::Remove));
    }

    #[test]
    fn a_change_colliding_with_edits_made_meanwhile_is_shown_but_cannot_apply() {
        let base = "fn a() { 1 }\n";
        let mut session = session_with("fn a() { 2 }\n");
        let reply = "```rust main.rs\nfn a() { 3 }\n```\n";
        let proposals = session.propose_from_reply(reply, Some("f1"), Some(("f1", base)));
        assert_eq!(proposals[0].original, base);
        assert!(proposals[0]
            .warning
            .as_deref()
            .unwrap()
            .contains("changed while"));
    }

    #[test]
    fn a_change_removing_most_of_a_file_says_so() {
        let long: String = (0..20).map(|n| format!("fn f{n}() {{}}\n")).collect();
        let mut session = session_with(&long);
        let proposal = session.propose("f1".into(), "fn f0() {}\n".into()).unwrap();
        assert!(proposal
            .warning
            .unwrap()
            .contains("removes 19 of the file's 20 lines"));
    }
}
