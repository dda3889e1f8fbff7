//! A reply's code made into proposed changes: the session's own operation, since it reads the
//! session's files and remembers the diffs it makes.

use super::state::SessionState;
use crate::{
    codeblocks::{self, FileView},
    diff,
};
use protocol::DiffProposal;

impl SessionState {
    /// Places the code of a complete `reply` as diffs against this session's files (unnamed
    /// blocks may change `active_file`), remembers them and returns them in order.
    pub fn propose_from_reply(
        &mut self,
        reply: &str,
        active_file: Option<&str>,
    ) -> Vec<DiffProposal> {
        let views: Vec<FileView<'_>> = self
            .files
            .iter()
            .map(|(id, file)| FileView {
                id,
                name: &file.name,
                language: &file.language,
                content: &file.content,
            })
            .collect();
        let changes = codeblocks::changes(reply, &views, active_file);
        changes
            .into_iter()
            .filter_map(|(file_id, content)| self.propose(file_id, content))
            .collect()
    }

    /// Computes and remembers a diff of the file `file_id` to `new_content`; `None` if the file
    /// is unknown or nothing changes.
    pub fn propose(&mut self, file_id: String, new_content: String) -> Option<DiffProposal> {
        let file = self.files.get(&file_id)?.clone();
        let hunks = diff::hunks(&file.content, &new_content);
        if hunks.is_empty() {
            return None;
        }
        let proposal = DiffProposal {
            diff_id: self.new_diff_id(),
            file_id,
            file_name: file.name,
            language: file.language,
            original: file.content,
            modified: new_content,
            hunks,
        };
        self.remember_diff(proposal.clone());
        Some(proposal)
    }
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
            session.propose_from_reply("```rust main.rs\nfn main() { go(); }\n```\n", None);
        assert_eq!(proposals.len(), 1);
        assert_eq!(proposals[0].diff_id, "d-1");
        assert_eq!(proposals[0].original, "fn main() {}\n");
        assert!(session.pending_diffs.contains_key("d-1"));
    }

    #[test]
    fn no_change_and_unknown_files_make_no_diff() {
        let mut session = session_with("x\n");
        assert!(session.propose("f1".into(), "x\n".into()).is_none());
        assert!(session.propose("nope".into(), "y\n".into()).is_none());
        assert!(session.pending_diffs.is_empty());
    }
}
