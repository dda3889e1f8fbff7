//! What the server does with each client message: pure logic over one session's state, so it is
//! tested without sockets. The connection module feeds it and sends what it returns.

use crate::{
    diff,
    responder::{self, OFFLINE_MODEL},
    session::{FileState, SessionState, MAX_FILES_PER_SESSION},
};
use protocol::{
    ActiveFile, ChatMetadata, ClientMessage, DiffOutcome, DiffProposal, ErrorCode, ServerMessage,
};

/// Size limits the handler enforces on message contents.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Largest chat text or file content, in bytes.
    pub max_text_bytes: usize,
}

/// Processes one message for a session and returns the replies, in order.
pub fn handle(
    session: &mut SessionState,
    message: ClientMessage,
    limits: Limits,
) -> Vec<ServerMessage> {
    match message {
        ClientMessage::Ping { ts } => vec![ServerMessage::Pong { ts }],
        ClientMessage::Chat { message, context } => {
            let active_file = context.and_then(|c| c.active_file);
            chat(session, &message, active_file, limits)
        }
        ClientMessage::DiffApplied { diff_id } => apply(session, &diff_id),
        ClientMessage::DiffRejected { diff_id } => reject(session, &diff_id),
        ClientMessage::FileUpdated {
            file_id,
            content,
            name,
            language,
        } => match store_file(session, file_id, content, name, language, limits) {
            Ok(()) => Vec::new(),
            Err(error) => vec![error],
        },
    }
}

fn too_large(what: &str, limits: Limits) -> ServerMessage {
    ServerMessage::error(
        ErrorCode::MessageTooLarge,
        format!("{what} is larger than {} bytes", limits.max_text_bytes),
    )
}

fn chat(
    session: &mut SessionState,
    message: &str,
    active_file: Option<ActiveFile>,
    limits: Limits,
) -> Vec<ServerMessage> {
    if message.len() > limits.max_text_bytes {
        return vec![too_large("the chat message", limits)];
    }
    let file_id = match active_file {
        None => None,
        Some(active) => {
            let id = active.id.clone();
            if let Some(content) = active.content {
                if let Err(error) = store_file(
                    session,
                    active.id,
                    content,
                    Some(active.name),
                    Some(active.language),
                    limits,
                ) {
                    return vec![error];
                }
            } else if !session.files.contains_key(&id) {
                return vec![ServerMessage::error(
                    ErrorCode::UnknownFile,
                    format!("no file {id:?} in this session; send its content first"),
                )];
            }
            Some(id)
        }
    };

    let file = file_id.as_ref().and_then(|id| session.files.get(id));
    let reply = responder::respond(message, file);
    let mut replies = Vec::new();
    let proposal = match (file_id, reply.new_content) {
        (Some(file_id), Some(new_content)) => propose(session, file_id, new_content),
        _ => None,
    };
    replies.push(ServerMessage::ChatResponse {
        message: reply.text,
        metadata: ChatMetadata {
            model: OFFLINE_MODEL.into(),
            finish_reason: "stop".into(),
            diff_count: u32::from(proposal.is_some()),
        },
    });
    if let Some(proposal) = proposal {
        replies.push(ServerMessage::Diff(Box::new(proposal)));
    }
    replies
}

/// Computes and remembers a diff of the file `file_id` to `new_content`; `None` if no change.
fn propose(
    session: &mut SessionState,
    file_id: String,
    new_content: String,
) -> Option<DiffProposal> {
    let file = session.files.get(&file_id)?.clone();
    let hunks = diff::hunks(&file.content, &new_content);
    if hunks.is_empty() {
        return None;
    }
    let proposal = DiffProposal {
        diff_id: session.new_diff_id(),
        file_id,
        file_name: file.name,
        language: file.language,
        original: file.content,
        modified: new_content,
        hunks,
    };
    session.remember_diff(proposal.clone());
    Some(proposal)
}

fn unknown_diff(diff_id: &str) -> ServerMessage {
    ServerMessage::error(
        ErrorCode::UnknownDiff,
        format!("no pending diff {diff_id:?} in this session"),
    )
}

fn apply(session: &mut SessionState, diff_id: &str) -> Vec<ServerMessage> {
    let Some(proposal) = session.take_diff(diff_id) else {
        return vec![unknown_diff(diff_id)];
    };
    let Some(file) = session.files.get_mut(&proposal.file_id) else {
        return vec![ServerMessage::error(
            ErrorCode::UnknownFile,
            format!("the file {:?} of this diff is gone", proposal.file_id),
        )];
    };
    // Applying a diff made from an older version would silently undo the person's later edits.
    if file.content != proposal.original {
        return vec![ServerMessage::error(
            ErrorCode::StaleDiff,
            format!(
                "{} changed after diff {diff_id:?} was made; ask again for a fresh diff",
                file.name
            ),
        )];
    }
    file.content = proposal.modified;
    vec![
        ServerMessage::FileUpdate {
            file_id: proposal.file_id,
            content: file.content.clone(),
        },
        ServerMessage::DiffResolved {
            diff_id: proposal.diff_id,
            outcome: DiffOutcome::Applied,
        },
    ]
}

fn reject(session: &mut SessionState, diff_id: &str) -> Vec<ServerMessage> {
    match session.take_diff(diff_id) {
        Some(proposal) => vec![ServerMessage::DiffResolved {
            diff_id: proposal.diff_id,
            outcome: DiffOutcome::Rejected,
        }],
        None => vec![unknown_diff(diff_id)],
    }
}

fn store_file(
    session: &mut SessionState,
    file_id: String,
    content: String,
    name: Option<String>,
    language: Option<String>,
    limits: Limits,
) -> Result<(), ServerMessage> {
    if content.len() > limits.max_text_bytes {
        return Err(too_large("the file content", limits));
    }
    if let Some(file) = session.files.get_mut(&file_id) {
        file.content = content;
        if let Some(name) = name {
            file.name = name;
        }
        if let Some(language) = language {
            file.language = language;
        }
        return Ok(());
    }
    let (Some(name), Some(language)) = (name, language) else {
        return Err(ServerMessage::error(
            ErrorCode::UnknownFile,
            format!("no file {file_id:?} in this session; include name and language to create it"),
        ));
    };
    if session.files.len() >= MAX_FILES_PER_SESSION {
        return Err(ServerMessage::error(
            ErrorCode::MessageTooLarge,
            format!("a session holds at most {MAX_FILES_PER_SESSION} files"),
        ));
    }
    session.files.insert(
        file_id,
        FileState {
            name,
            language,
            content,
        },
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use protocol::ChatContext;

    const LIMITS: Limits = Limits {
        max_text_bytes: 1024,
    };

    fn ask_for_code(session: &mut SessionState, content: Option<&str>) -> Vec<ServerMessage> {
        let message = ClientMessage::Chat {
            message: "write a function".into(),
            context: Some(ChatContext {
                mode: Some("canvas".into()),
                active_file: Some(ActiveFile {
                    id: "f1".into(),
                    name: "lib.rs".into(),
                    language: "rust".into(),
                    content: content.map(str::to_owned),
                }),
            }),
        };
        handle(session, message, LIMITS)
    }

    fn diff_of(replies: &[ServerMessage]) -> DiffProposal {
        replies
            .iter()
            .find_map(|m| match m {
                ServerMessage::Diff(d) => Some((**d).clone()),
                _ => None,
            })
            .expect("a diff")
    }

    fn error_code(replies: &[ServerMessage]) -> ErrorCode {
        match replies {
            [ServerMessage::Error { code, .. }] => *code,
            other => panic!("expected one error, got {other:?}"),
        }
    }

    #[test]
    fn a_code_request_proposes_a_real_diff_of_the_active_file() {
        let mut session = SessionState::default();
        let replies = ask_for_code(&mut session, Some("fn main() {}\n"));
        assert!(matches!(replies[0], ServerMessage::ChatResponse { .. }));
        let proposal = diff_of(&replies);
        assert_eq!(proposal.original, "fn main() {}\n");
        assert!(proposal.modified.contains("pub fn add"));
        assert_eq!(
            proposal.hunks,
            diff::hunks(&proposal.original, &proposal.modified)
        );
    }

    #[test]
    fn applying_a_diff_updates_the_file_and_confirms() {
        let mut session = SessionState::default();
        let proposal = diff_of(&ask_for_code(&mut session, Some("fn main() {}\n")));
        let replies = handle(
            &mut session,
            ClientMessage::DiffApplied {
                diff_id: proposal.diff_id.clone(),
            },
            LIMITS,
        );
        assert_eq!(
            replies[0],
            ServerMessage::FileUpdate {
                file_id: "f1".into(),
                content: proposal.modified.clone()
            }
        );
        assert_eq!(session.files["f1"].content, proposal.modified);
        // A second decision on the same diff is refused.
        let again = handle(
            &mut session,
            ClientMessage::DiffRejected {
                diff_id: proposal.diff_id,
            },
            LIMITS,
        );
        assert_eq!(error_code(&again), ErrorCode::UnknownDiff);
    }

    #[test]
    fn rejecting_a_diff_leaves_the_file_alone() {
        let mut session = SessionState::default();
        let proposal = diff_of(&ask_for_code(&mut session, Some("x\n")));
        let replies = handle(
            &mut session,
            ClientMessage::DiffRejected {
                diff_id: proposal.diff_id.clone(),
            },
            LIMITS,
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
    fn a_diff_made_before_an_edit_is_refused_as_stale() {
        let mut session = SessionState::default();
        let proposal = diff_of(&ask_for_code(&mut session, Some("x\n")));
        let edit = ClientMessage::FileUpdated {
            file_id: "f1".into(),
            content: "y\n".into(),
            name: None,
            language: None,
        };
        assert!(handle(&mut session, edit, LIMITS).is_empty());
        let replies = handle(
            &mut session,
            ClientMessage::DiffApplied {
                diff_id: proposal.diff_id,
            },
            LIMITS,
        );
        assert_eq!(error_code(&replies), ErrorCode::StaleDiff);
        assert_eq!(session.files["f1"].content, "y\n");
    }

    #[test]
    fn unknown_files_and_oversized_content_are_errors() {
        let mut session = SessionState::default();
        assert_eq!(
            error_code(&ask_for_code(&mut session, None)),
            ErrorCode::UnknownFile
        );
        let new_without_name = ClientMessage::FileUpdated {
            file_id: "f2".into(),
            content: "a".into(),
            name: None,
            language: None,
        };
        assert_eq!(
            error_code(&handle(&mut session, new_without_name, LIMITS)),
            ErrorCode::UnknownFile
        );
        let huge = "x".repeat(LIMITS.max_text_bytes + 1);
        assert_eq!(
            error_code(&ask_for_code(&mut session, Some(&huge))),
            ErrorCode::MessageTooLarge
        );
        assert!(session.files.is_empty());
    }
}
