//! `diff_applied` and `diff_rejected`: the person's decision on a proposed diff.

use super::{files::save, Refusal};
use crate::{
    diff,
    merge::{merge3, Merged},
    session::{Effects, SessionState},
    storage::Change,
};
use protocol::{DiffOutcome, ErrorCode, ServerMessage};

fn unknown_diff(diff_id: &str) -> Refusal {
    Refusal::new(
        ErrorCode::UnknownDiff,
        format!("no pending diff {diff_id:?} in this session"),
    )
}

/// Applies the `hunks` of `diff_id` (all when `None`) to the server's copy of its file. When the
/// file changed since the diff was made, the chosen change is merged into it three-way; only if
/// the two collide is the diff refused as stale (it stays pending, so it can still be rejected).
pub fn apply(
    session: &mut SessionState,
    diff_id: &str,
    hunks: Option<Vec<u32>>,
) -> Result<Effects<()>, Refusal> {
    let proposal = session
        .pending_diffs
        .get(diff_id)
        .ok_or_else(|| unknown_diff(diff_id))?;
    let accepted: Vec<usize> = match &hunks {
        None => (0..proposal.hunks.len()).collect(),
        Some(chosen) => {
            let chosen: Vec<usize> = chosen.iter().map(|&i| i as usize).collect();
            if let Some(bad) = chosen.iter().find(|&&i| i >= proposal.hunks.len()) {
                // Refused without touching the diff, so the person can still decide.
                return Err(Refusal::new(
                    ErrorCode::InvalidPayload,
                    format!(
                        "diff {diff_id:?} has {} hunks; there is no hunk {bad}",
                        proposal.hunks.len()
                    ),
                ));
            }
            chosen
        }
    };
    let file = session.files.get(&proposal.file_id).ok_or_else(|| {
        Refusal::new(
            ErrorCode::UnknownFile,
            format!("the file {:?} of this diff is gone", proposal.file_id),
        )
    })?;
    let chosen = diff::apply_selected(&proposal.original, &proposal.modified, &accepted);
    // Applying the diff as made would undo edits made since: merge it into them instead.
    let merged = if file.content == proposal.original {
        None
    } else {
        match merge3(&proposal.original, &chosen, &file.content) {
            Merged::Clean(merged) => Some(merged),
            Merged::Conflict(_) => {
                return Err(Refusal::new(
                    ErrorCode::StaleDiff,
                    format!(
                        "{} changed after diff {diff_id:?} was made, on the same lines; ask \
                         again for a fresh diff",
                        file.name
                    ),
                ))
            }
        }
    };
    let proposal = session
        .take_diff(diff_id)
        .ok_or_else(|| unknown_diff(diff_id))?;
    let file = session
        .files
        .get_mut(&proposal.file_id)
        .ok_or_else(|| unknown_diff(diff_id))?;
    let mut changes = vec![Change::ResolveDiff {
        diff_id: proposal.diff_id.clone(),
        outcome: DiffOutcome::Applied,
        accepted_hunks: hunks,
    }];
    // The diff applied to what it was made from: what a client that applied it at once shows,
    // and so the version its next edits build on (the ack names it).
    file.content = chosen;
    file.version += 1;
    let acked = file.version;
    changes.push(save(&proposal.file_id, file, proposal.diff_id.clone()));
    if let Some(merged) = merged {
        file.content = merged;
        file.version += 1;
        changes.push(save(
            &proposal.file_id,
            file,
            format!("merge:{}", proposal.diff_id),
        ));
    }
    Ok(Effects {
        changes,
        events: vec![
            ServerMessage::FileUpdate {
                file_id: proposal.file_id,
                content: file.content.clone(),
                version: Some(file.version),
            },
            ServerMessage::DiffResolved {
                diff_id: proposal.diff_id,
                outcome: DiffOutcome::Applied,
            },
        ],
        then: (),
        version: Some(acked),
    })
}

/// Forgets `diff_id`, leaving its file alone.
pub fn reject(session: &mut SessionState, diff_id: &str) -> Result<Effects<()>, Refusal> {
    let proposal = session
        .take_diff(diff_id)
        .ok_or_else(|| unknown_diff(diff_id))?;
    Ok(Effects {
        changes: vec![Change::ResolveDiff {
            diff_id: proposal.diff_id.clone(),
            outcome: DiffOutcome::Rejected,
            accepted_hunks: None,
        }],
        events: vec![ServerMessage::DiffResolved {
            diff_id: proposal.diff_id,
            outcome: DiffOutcome::Rejected,
        }],
        then: (),
        version: None,
    })
}

#[cfg(test)]
mod tests {
    use super::super::tests::*;
    use protocol::{ClientMessage, DiffOutcome, ErrorCode, ServerMessage};

    #[test]
    fn applying_a_diff_updates_the_file_and_confirms() {
        let mut session = with_file("fn main() {}\n");
        let proposal = session
            .propose("f1".into(), "fn main() {}\nfn x() {}\n".into())
            .expect("a change");
        let replies = run(
            &mut session,
            ClientMessage::DiffApplied {
                diff_id: proposal.diff_id.clone(),
                hunks: None,
            },
        );
        assert_eq!(
            replies[0],
            ServerMessage::FileUpdate {
                file_id: "f1".into(),
                content: proposal.modified.clone(),
                version: Some(2)
            }
        );
        assert_eq!(session.files["f1"].content, proposal.modified);
        let again = run(
            &mut session,
            ClientMessage::DiffRejected {
                diff_id: proposal.diff_id,
            },
        );
        assert_eq!(error_code(&again), ErrorCode::UnknownDiff);
    }

    #[test]
    fn applying_chosen_hunks_takes_exactly_those() {
        let original: String = (1..=20).map(|n| format!("line {n}\n")).collect();
        let modified = original
            .replace("line 2\n", "line two\n")
            .replace("line 19\n", "line nineteen\n");
        let mut session = with_file(&original);
        let proposal = session.propose("f1".into(), modified).unwrap();
        assert_eq!(proposal.hunks.len(), 2);
        let bad = run(
            &mut session,
            ClientMessage::DiffApplied {
                diff_id: proposal.diff_id.clone(),
                hunks: Some(vec![2]),
            },
        );
        assert_eq!(error_code(&bad), ErrorCode::InvalidPayload);
        run(
            &mut session,
            ClientMessage::DiffApplied {
                diff_id: proposal.diff_id,
                hunks: Some(vec![1]),
            },
        );
        assert_eq!(
            session.files["f1"].content,
            original.replace("line 19\n", "line nineteen\n")
        );
    }

    #[test]
    fn rejecting_a_diff_leaves_the_file_alone() {
        let mut session = with_file("x\n");
        let proposal = session.propose("f1".into(), "y\n".into()).unwrap();
        let replies = run(
            &mut session,
            ClientMessage::DiffRejected {
                diff_id: proposal.diff_id.clone(),
            },
        );
        assert_eq!(
            replies,
            vec![ServerMessage::DiffResolved {
                diff_id: proposal.diff_id,
                outcome: DiffOutcome::Rejected
            }]
        );
        assert_eq!(session.files["f1"].content, "x\n");
    }

    #[test]
    fn a_diff_made_before_an_edit_elsewhere_in_the_file_is_merged_into_it() {
        let base = "one\n\ntwo\n\nthree\n";
        let mut session = with_file(base);
        let proposal = session
            .propose("f1".into(), base.replace("three", "THREE"))
            .unwrap();
        let edit = ClientMessage::FileUpdated {
            file_id: "f1".into(),
            content: base.replace("one", "ONE"),
            name: None,
            language: None,
            base_version: None,
        };
        run(&mut session, edit);
        let replies = run(
            &mut session,
            ClientMessage::DiffApplied {
                diff_id: proposal.diff_id,
                hunks: None,
            },
        );
        assert!(
            matches!(replies[0], ServerMessage::FileUpdate { .. }),
            "{replies:?}"
        );
        assert_eq!(session.files["f1"].content, "ONE\n\ntwo\n\nTHREE\n");
    }

    #[test]
    fn a_diff_made_before_an_edit_of_the_same_lines_is_refused_as_stale() {
        let mut session = with_file("x\n");
        let proposal = session.propose("f1".into(), "z\n".into()).unwrap();
        let proposal_id = proposal.diff_id.clone();
        let edit = ClientMessage::FileUpdated {
            file_id: "f1".into(),
            content: "y\n".into(),
            name: None,
            language: None,
            base_version: None,
        };
        assert!(run(&mut session, edit).is_empty());
        let replies = run(
            &mut session,
            ClientMessage::DiffApplied {
                diff_id: proposal.diff_id,
                hunks: None,
            },
        );
        match replies.as_slice() {
            [ServerMessage::Error { code, id, .. }] => {
                assert_eq!(*code, ErrorCode::StaleDiff);
                assert_eq!(id.as_deref(), Some("c-1"), "the refusal names the message");
            }
            other => panic!("expected a stale_diff refusal, got {other:?}"),
        }
        assert_eq!(session.files["f1"].content, "y\n");
        assert_eq!(session.files["f1"].version, 2);
        assert!(
            session.pending_diffs.contains_key(&proposal_id),
            "a stale diff can still be rejected"
        );
    }
}
