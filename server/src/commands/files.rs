//! `file_updated` (and a chat's open file): the editor's content becomes the server's copy. An
//! edit made on an older version than the server's is merged into it three-way; when the two
//! touch the same lines, both sides are kept as a conflict for the person to resolve.

use super::{Limits, Refusal};
use crate::{
    merge::{merge3, side_by_side, Merged},
    session::{Effects, FileState, SessionState},
    storage::Change,
};
use protocol::{Conflict, ErrorCode, ServerMessage};

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
    /// The version the edit was made on, and that version's content if the server still
    /// keeps it; `None`: the edit replaces whatever the server has.
    pub base: Option<(i64, Option<String>)>,
}

/// Stores an edit: the change to store, and a `file_update` when the stored content is not
/// what the client sent (a merge) or a `file_conflict` when it could not be merged. No change
/// at all when the content is what the server has.
pub fn store(
    session: &mut SessionState,
    edit: FileEdit,
    limits: Limits,
) -> Result<Effects<()>, Refusal> {
    if edit.content.len() > limits.max_text_bytes {
        return Err(Refusal::too_large("the file content", limits));
    }
    let Some(file) = session.files.get(&edit.file_id) else {
        return create(session, edit, limits);
    };
    let current_version = file.version;
    let incoming = match &edit.base {
        Some((base_version, _)) if *base_version > current_version => {
            return Err(Refusal::new(
                ErrorCode::InvalidPayload,
                format!(
                "base_version {base_version} of {} is newer than the server's {current_version}",
                edit.file_id
            ),
            ))
        }
        Some((base_version, base)) if *base_version < current_version => {
            match base
                .as_deref()
                .map(|base| merge3(base, &edit.content, &file.content))
            {
                Some(Merged::Clean(merged)) => Incoming::Merged(merged),
                Some(Merged::Conflict(draft)) => Incoming::Conflict(*base_version, draft),
                // The base is no longer kept: nothing finer than both whole sides is possible.
                None => {
                    Incoming::Conflict(*base_version, side_by_side(&edit.content, &file.content))
                }
            }
        }
        _ => Incoming::AsSent,
    };
    match incoming {
        Incoming::Conflict(base_version, draft) => Ok(conflict(session, edit, base_version, draft)),
        Incoming::AsSent => Ok(replace(session, edit, None)),
        Incoming::Merged(merged) => Ok(replace(session, edit, Some(merged))),
    }
}

/// How an edit's content becomes the file's.
enum Incoming {
    /// Made on the current version (or without one): stored as sent.
    AsSent,
    /// Made on an older version and merged with what came since.
    Merged(String),
    /// Made on an older version (this one) and colliding with what came since: this draft.
    Conflict(i64, String),
}

/// Replaces an existing file's content with the edit's — or, for an edit merged into newer
/// changes, first with the edit as sent and then with `merged`: the sender's ack names the
/// version of what it sent (its next edits are made on that), the `file_update` the merge.
fn replace(session: &mut SessionState, edit: FileEdit, merged: Option<String>) -> Effects<()> {
    let Some(file) = session.files.get_mut(&edit.file_id) else {
        return Effects::nothing(());
    };
    let renamed = edit.name.as_ref().is_some_and(|n| *n != file.name)
        || edit.language.as_ref().is_some_and(|l| *l != file.language);
    let merged = merged.filter(|m| *m != edit.content);
    let mut effects = Effects::nothing(());
    if merged.is_none() && file.content == edit.content && !renamed {
        effects.version = Some(file.version);
        return effects;
    }
    if let Some(name) = edit.name {
        file.name = name;
    }
    if let Some(language) = edit.language {
        file.language = language;
    }
    file.content = edit.content;
    file.version += 1;
    effects.version = Some(file.version);
    effects
        .changes
        .push(save(&edit.file_id, file, edit.cause.clone()));
    if let Some(merged) = merged {
        file.content = merged;
        file.version += 1;
        effects
            .changes
            .push(save(&edit.file_id, file, format!("merge:{}", edit.cause)));
        effects.events.push(ServerMessage::FileUpdate {
            file_id: edit.file_id,
            content: file.content.clone(),
            version: Some(file.version),
        });
    }
    effects
}

/// A file new to the session: version 1.
fn create(
    session: &mut SessionState,
    edit: FileEdit,
    limits: Limits,
) -> Result<Effects<()>, Refusal> {
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
    let file = session
        .files
        .entry(edit.file_id.clone())
        .or_insert(FileState::new(name, language, edit.content));
    let mut effects = Effects::nothing(());
    effects.version = Some(file.version);
    effects.changes.push(save(&edit.file_id, file, edit.cause));
    Ok(effects)
}

/// Keeps both sides: the file stays as the server has it, the edit and a draft wait for the
/// person.
fn conflict(
    session: &mut SessionState,
    edit: FileEdit,
    base_version: i64,
    draft: String,
) -> Effects<()> {
    let conflict_id = session.new_conflict_id();
    let Some(file) = session.files.get(&edit.file_id) else {
        return Effects::nothing(());
    };
    let conflict = Conflict {
        conflict_id: conflict_id.clone(),
        file_id: edit.file_id,
        file_name: file.name.clone(),
        base_version,
        mine: edit.content,
        theirs: file.content.clone(),
        draft,
    };
    session.conflicts.insert(conflict_id, conflict.clone());
    Effects {
        changes: vec![Change::OpenConflict(Box::new(conflict.clone()))],
        events: vec![ServerMessage::FileConflict(Box::new(conflict))],
        then: (),
        // No version: the sender's content is not the file's, so its next edits must not be
        // taken as made on the server's copy (they are merged again instead).
        version: None,
    }
}

/// The stored row of `file` as it is now, caused by `cause`.
pub fn save(file_id: &str, file: &FileState, cause: String) -> Change {
    Change::SaveFile {
        file_id: file_id.to_owned(),
        name: file.name.clone(),
        language: file.language.clone(),
        content: file.content.clone(),
        version: file.version,
        cause,
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::*;
    use super::*;
    use protocol::ClientMessage;

    fn edit(content: &str, base: Option<(i64, Option<&str>)>) -> FileEdit {
        FileEdit {
            file_id: "f1".into(),
            content: content.into(),
            name: None,
            language: None,
            cause: "c".into(),
            base: base.map(|(v, c)| (v, c.map(str::to_owned))),
        }
    }

    #[test]
    fn a_new_file_needs_a_name_and_an_unchanged_one_makes_no_version() {
        let mut session = crate::session::SessionState::default();
        let nameless = ClientMessage::FileUpdated {
            file_id: "f2".into(),
            content: "a".into(),
            name: None,
            language: None,
            base_version: None,
        };
        assert_eq!(
            error_code(&run(&mut session, nameless)),
            ErrorCode::UnknownFile
        );
        let mut session = with_file("a\n");
        let effects = store(&mut session, edit("a\n", Some((1, None))), LIMITS).unwrap();
        assert!(effects.changes.is_empty());
        assert_eq!(effects.version, Some(1));
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
            base_version: None,
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

    #[test]
    fn an_edit_on_an_older_version_is_merged_and_sent_back() {
        let base = "one\n\ntwo\n\nthree\n";
        let mut session = with_file(base);
        // Version 2 came from elsewhere (another tab).
        store(
            &mut session,
            edit(&base.replace("three", "THREE"), Some((1, Some(base)))),
            LIMITS,
        )
        .unwrap();
        assert_eq!(session.files["f1"].version, 2);
        // An edit made on version 1 meets it.
        let mine = base.replace("one", "ONE");
        let effects = store(&mut session, edit(&mine, Some((1, Some(base)))), LIMITS).unwrap();
        let merged = "ONE\n\ntwo\n\nTHREE\n";
        assert_eq!(session.files["f1"].content, merged);
        // Version 3 is the edit as sent (what the sender's next edits build on), 4 the merge.
        assert_eq!(effects.version, Some(3));
        assert_eq!(effects.changes.len(), 2);
        assert_eq!(
            effects.events,
            vec![ServerMessage::FileUpdate {
                file_id: "f1".into(),
                content: merged.into(),
                version: Some(4)
            }]
        );
    }

    #[test]
    fn an_edit_that_collides_keeps_both_sides_as_a_conflict() {
        let base = "fn main() {\n    one();\n}\n";
        let mut session = with_file(base);
        let theirs = base.replace("one", "theirs");
        store(&mut session, edit(&theirs, Some((1, Some(base)))), LIMITS).unwrap();
        let mine = base.replace("one", "mine");
        let effects = store(&mut session, edit(&mine, Some((1, Some(base)))), LIMITS).unwrap();
        assert_eq!(
            session.files["f1"].content, theirs,
            "the file keeps the other side"
        );
        let [ServerMessage::FileConflict(conflict)] = effects.events.as_slice() else {
            panic!("expected a conflict: {:?}", effects.events);
        };
        assert_eq!(conflict.mine, mine);
        assert_eq!(conflict.theirs, theirs);
        assert!(conflict.draft.contains("mine()") && conflict.draft.contains("theirs()"));
        assert!(session.conflicts.contains_key(&conflict.conflict_id));
        // A base the server no longer keeps: both whole sides.
        let effects = store(&mut session, edit("other\n", Some((1, None))), LIMITS).unwrap();
        assert!(matches!(
            effects.events.as_slice(),
            [ServerMessage::FileConflict(_)]
        ));
        // A base from the future is refused.
        let refused = store(&mut session, edit("x\n", Some((9, None))), LIMITS).unwrap_err();
        assert_eq!(refused.code, ErrorCode::InvalidPayload);
    }
}
