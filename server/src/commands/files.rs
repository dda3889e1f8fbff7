//! `file_updated` (and a chat's open file): the editor's content becomes the server's copy.

use super::{Limits, Refusal};
use crate::{
    session::{FileState, SessionState},
    storage::Change,
};
use protocol::ErrorCode;

/// A file's new content as a client sent it.
#[derive(Debug)]
pub struct FileEdit {
    /// The client-chosen file id.
    pub file_id: String,
    /// Its whole new content.
    pub content: String,
    /// Display name; required for a file new to the session.
    pub name: Option<String>,
    /// Language; required for a file new to the session.
    pub language: Option<String>,
    /// The client message that carried it.
    pub cause: String,
}

/// Stores an edit; `None` when it changes nothing (so no new version is made).
pub fn store(
    session: &mut SessionState,
    edit: FileEdit,
    limits: Limits,
) -> Result<Option<Change>, Refusal> {
    if edit.content.len() > limits.max_text_bytes {
        return Err(Refusal::too_large("the file content", limits));
    }
    let file = match session.files.get_mut(&edit.file_id) {
        Some(file) => {
            let renamed = edit.name.as_ref().is_some_and(|n| *n != file.name)
                || edit.language.as_ref().is_some_and(|l| *l != file.language);
            if file.content == edit.content && !renamed {
                return Ok(None);
            }
            file.content = edit.content;
            file.name = edit.name.unwrap_or(std::mem::take(&mut file.name));
            file.language = edit.language.unwrap_or(std::mem::take(&mut file.language));
            file.version += 1;
            file
        }
        None => {
            let (Some(name), Some(language)) = (edit.name, edit.language) else {
                return Err(Refusal::new(
                    ErrorCode::UnknownFile,
                    format!(
                        "no file {:?} in this session; include name and language to create it",
                        edit.file_id
                    ),
                ));
            };
            if session.files.len() >= limits.max_files {
                return Err(Refusal::new(
                    ErrorCode::MessageTooLarge,
                    format!("a session holds at most {} files", limits.max_files),
                ));
            }
            session
                .files
                .entry(edit.file_id.clone())
                .or_insert(FileState::new(name, language, edit.content))
        }
    };
    Ok(Some(Change::SaveFile {
        file_id: edit.file_id,
        name: file.name.clone(),
        language: file.language.clone(),
        content: file.content.clone(),
        version: file.version,
        cause: edit.cause,
    }))
}

#[cfg(test)]
mod tests {
    use super::super::tests::*;
    use protocol::{ClientMessage, ErrorCode};

    #[test]
    fn a_new_file_needs_a_name_and_an_unchanged_one_makes_no_version() {
        let mut session = crate::session::SessionState::default();
        let nameless = ClientMessage::FileUpdated {
            file_id: "f2".into(),
            content: "a".into(),
            name: None,
            language: None,
        };
        assert_eq!(
            error_code(&run(&mut session, nameless)),
            ErrorCode::UnknownFile
        );
        let mut session = with_file("a\n");
        let same = ClientMessage::FileUpdated {
            file_id: "f1".into(),
            content: "a\n".into(),
            name: None,
            language: None,
        };
        assert!(run(&mut session, same).is_empty());
        assert_eq!(session.files["f1"].version, 1);
    }

    #[test]
    fn a_session_holds_a_bounded_number_of_files() {
        let mut session = crate::session::SessionState::default();
        let file = |n: usize| ClientMessage::FileUpdated {
            file_id: format!("f{n}"),
            content: "x".into(),
            name: Some(format!("f{n}.rs")),
            language: Some("rust".into()),
        };
        for n in 0..LIMITS.max_files {
            assert!(run(&mut session, file(n)).is_empty());
        }
        assert_eq!(
            error_code(&run(&mut session, file(LIMITS.max_files))),
            ErrorCode::MessageTooLarge
        );
        assert_eq!(session.files.len(), LIMITS.max_files);
    }
}
