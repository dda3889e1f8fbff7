//! `resolve_conflict`: the person decided what a file with a conflict should hold.

use super::{files::save, Refusal};
use crate::{
    session::{Effects, SessionState},
    storage::Change,
};
use protocol::{ErrorCode, ServerMessage};

/// Stores `content` as the file's next version and closes the conflict.
pub fn resolve(
    session: &mut SessionState,
    conflict_id: &str,
    content: String,
    max_text_bytes: usize,
    cause: &str,
) -> Result<Effects<()>, Refusal> {
    if content.len() > max_text_bytes {
        return Err(Refusal::new(
            ErrorCode::MessageTooLarge,
            format!("the file content is larger than {max_text_bytes} bytes"),
        ));
    }
    let conflict = session.conflicts.get(conflict_id).ok_or_else(|| {
        Refusal::new(
            ErrorCode::InvalidPayload,
            format!("no open conflict {conflict_id:?} in this session"),
        )
    })?;
    let file_id = conflict.file_id.clone();
    let file = session.files.get_mut(&file_id).ok_or_else(|| {
        Refusal::new(
            ErrorCode::UnknownFile,
            format!("the file {file_id:?} of this conflict is gone"),
        )
    })?;
    file.content = content;
    file.version += 1;
    let version = file.version;
    let saved = save(&file_id, file, cause.to_owned());
    let updated = ServerMessage::FileUpdate {
        file_id: file_id.clone(),
        content: file.content.clone(),
        version: Some(version),
    };
    session.conflicts.remove(conflict_id);
    Ok(Effects {
        changes: vec![
            saved,
            Change::ResolveConflict {
                conflict_id: conflict_id.to_owned(),
            },
        ],
        events: vec![
            updated,
            ServerMessage::ConflictResolved {
                conflict_id: conflict_id.to_owned(),
                file_id,
            },
        ],
        then: (),
        version: Some(version),
    })
}

#[cfg(test)]
mod tests {
    use super::super::{files, tests::*};
    use super::*;

    #[test]
    fn resolving_stores_the_content_and_closes_the_conflict() {
        let base = "x = 1\n";
        let mut session = with_file(base);
        let edit = |content: &str| files::FileEdit {
            file_id: "f1".into(),
            content: content.into(),
            name: None,
            language: None,
            cause: "c".into(),
            base: Some((1, Some(base.into()))),
        };
        files::store(&mut session, edit("x = 2\n"), LIMITS).unwrap();
        files::store(&mut session, edit("x = 3\n"), LIMITS).unwrap();
        let conflict_id = session.conflicts.keys().next().unwrap().clone();
        let effects = resolve(&mut session, &conflict_id, "x = 5\n".into(), 1024, "r").unwrap();
        assert_eq!(session.files["f1"].content, "x = 5\n");
        assert_eq!(effects.version, Some(3));
        assert!(session.conflicts.is_empty());
        assert!(matches!(
            effects.events.last(),
            Some(ServerMessage::ConflictResolved { .. })
        ));
        let again = resolve(&mut session, &conflict_id, "y\n".into(), 1024, "r").unwrap_err();
        assert_eq!(again.code, ErrorCode::InvalidPayload);
    }
}
