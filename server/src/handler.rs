//! What the server does with each client message: pure logic over one session's state, so it is
//! tested without sockets. The connection module feeds it and sends what it returns; a chat
//! message comes back as a [`Job`] for the generation task rather than as a reply.

use crate::{
    diff,
    llm::{
        generation::Job,
        prompt::{self, PromptBudget},
        Role, Turn,
    },
    session::{FileState, SessionState, MAX_FILES_PER_SESSION},
    storage::Change,
};
use protocol::{
    ActiveFile, ClientMessage, DiffOutcome, DiffProposal, ErrorCode, MessageId, ServerMessage,
    SessionId,
};

/// Limits and budgets the handler applies.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Largest chat text or file content, in bytes.
    pub max_text_bytes: usize,
    /// How much of the file and conversation goes into a prompt.
    pub prompt: PromptBudget,
}

/// What handling one message produced. Either it was refused (`refusals`, nothing else) or it
/// changed the session (`changes` and `events` to store, maybe a `job`).
#[derive(Debug, Default)]
pub struct Handled {
    /// Errors to send back at once; the session is unchanged.
    pub refusals: Vec<ServerMessage>,
    /// What to store.
    pub changes: Vec<Change>,
    /// History messages to store, number and send, in order.
    pub events: Vec<ServerMessage>,
    /// A reply to generate, for a `chat`.
    pub job: Option<Job>,
}

impl Handled {
    fn refused(error: ServerMessage) -> Self {
        Self {
            refusals: vec![error],
            ..Self::default()
        }
    }
}

/// Processes one message for `session_id`, whose state is `session`; `id` is the message's
/// frame id, named in refusals and stored with what it changed.
///
/// `ping` and `stop` change no stored state and are answered by the connection (`stop` needs
/// the generation registry); here they produce nothing, so the function is total.
pub fn handle(
    session_id: &SessionId,
    session: &mut SessionState,
    id: Option<&MessageId>,
    message: ClientMessage,
    limits: Limits,
) -> Handled {
    let id = id.map(MessageId::as_str);
    let refuse = |code, text: String| Handled::refused(ServerMessage::refusal(code, text, id));
    match message {
        ClientMessage::Ping { .. } | ClientMessage::Stop { .. } => Handled::default(),
        ClientMessage::Chat { message, context } => {
            let active_file = context.and_then(|c| c.active_file);
            chat(
                session_id,
                session,
                id.unwrap_or_default(),
                message,
                active_file,
                limits,
            )
            .unwrap_or_else(|(code, text)| refuse(code, text))
        }
        ClientMessage::DiffApplied { diff_id, hunks } => {
            apply(session, &diff_id, hunks).unwrap_or_else(|(code, text)| refuse(code, text))
        }
        ClientMessage::DiffRejected { diff_id } => {
            reject(session, &diff_id).unwrap_or_else(|(code, text)| refuse(code, text))
        }
        ClientMessage::FileUpdated {
            file_id,
            content,
            name,
            language,
        } => {
            let edit = FileEdit {
                file_id,
                content,
                name,
                language,
                cause: id.unwrap_or_default().to_owned(),
            };
            match store_file(session, edit, limits) {
                Ok(change) => Handled {
                    changes: change.into_iter().collect(),
                    ..Handled::default()
                },
                Err((code, text)) => refuse(code, text),
            }
        }
    }
}

/// Why a message was refused: the error code and its explanation.
type Refusal = (ErrorCode, String);

fn too_large(what: &str, limits: Limits) -> Refusal {
    (
        ErrorCode::MessageTooLarge,
        format!("{what} is larger than {} bytes", limits.max_text_bytes),
    )
}

fn chat(
    session_id: &SessionId,
    session: &mut SessionState,
    id: &str,
    message: String,
    active_file: Option<ActiveFile>,
    limits: Limits,
) -> Result<Handled, Refusal> {
    if message.len() > limits.max_text_bytes {
        return Err(too_large("the chat message", limits));
    }
    let mut changes = Vec::new();
    let file_id = match active_file {
        None => None,
        Some(active) => {
            let file_id = active.id.clone();
            if let Some(content) = active.content {
                let edit = FileEdit {
                    file_id: active.id,
                    content,
                    name: Some(active.name),
                    language: Some(active.language),
                    cause: id.to_owned(),
                };
                changes.extend(store_file(session, edit, limits)?);
            } else if !session.files.contains_key(&file_id) {
                return Err((
                    ErrorCode::UnknownFile,
                    format!("no file {file_id:?} in this session; send its content first"),
                ));
            }
            Some(file_id)
        }
    };
    let file = file_id.as_ref().and_then(|id| session.files.get(id));
    let request = prompt::build(&session.history, &message, file, limits.prompt);
    session.push_turn(Turn {
        role: Role::User,
        content: message.clone(),
    });
    let message_id = session.new_message_id();
    let position = session.next_message;
    changes.push(Change::UserMessage {
        message_id: id.to_owned(),
        content: message.clone(),
        position,
    });
    changes.push(Change::StartReply {
        message_id: message_id.clone(),
        position,
    });
    Ok(Handled {
        refusals: Vec::new(),
        changes,
        events: vec![ServerMessage::UserMessage {
            id: id.to_owned(),
            message,
        }],
        job: Some(Job {
            session: session_id.clone(),
            message_id,
            request,
            active_file: file_id,
        }),
    })
}

/// Computes and remembers a diff of the file `file_id` to `new_content`; `None` if the file is
/// unknown or nothing changes.
pub fn propose(
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

fn unknown_diff(diff_id: &str) -> Refusal {
    (
        ErrorCode::UnknownDiff,
        format!("no pending diff {diff_id:?} in this session"),
    )
}

fn apply(
    session: &mut SessionState,
    diff_id: &str,
    hunks: Option<Vec<u32>>,
) -> Result<Handled, Refusal> {
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
                return Err((
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
        (
            ErrorCode::UnknownFile,
            format!("the file {:?} of this diff is gone", proposal.file_id),
        )
    })?;
    // Applying a diff made from an older version would silently undo the person's later edits.
    // The diff stays pending, so the person can still reject it.
    if file.content != proposal.original {
        return Err((
            ErrorCode::StaleDiff,
            format!(
                "{} changed after diff {diff_id:?} was made; ask again for a fresh diff",
                file.name
            ),
        ));
    }
    let proposal = session
        .take_diff(diff_id)
        .ok_or_else(|| unknown_diff(diff_id))?;
    let file = session
        .files
        .get_mut(&proposal.file_id)
        .ok_or_else(|| unknown_diff(diff_id))?;
    file.content = diff::apply_selected(&proposal.original, &proposal.modified, &accepted);
    file.version += 1;
    Ok(Handled {
        refusals: Vec::new(),
        changes: vec![
            Change::ResolveDiff {
                diff_id: proposal.diff_id.clone(),
                status: "applied",
                accepted_hunks: hunks,
            },
            Change::SaveFile {
                file_id: proposal.file_id.clone(),
                name: file.name.clone(),
                language: file.language.clone(),
                content: file.content.clone(),
                version: file.version,
                cause: proposal.diff_id.clone(),
            },
        ],
        events: vec![
            ServerMessage::FileUpdate {
                file_id: proposal.file_id,
                content: file.content.clone(),
            },
            ServerMessage::DiffResolved {
                diff_id: proposal.diff_id,
                outcome: DiffOutcome::Applied,
            },
        ],
        job: None,
    })
}

fn reject(session: &mut SessionState, diff_id: &str) -> Result<Handled, Refusal> {
    let proposal = session
        .take_diff(diff_id)
        .ok_or_else(|| unknown_diff(diff_id))?;
    Ok(Handled {
        refusals: Vec::new(),
        changes: vec![Change::ResolveDiff {
            diff_id: proposal.diff_id.clone(),
            status: "rejected",
            accepted_hunks: None,
        }],
        events: vec![ServerMessage::DiffResolved {
            diff_id: proposal.diff_id,
            outcome: DiffOutcome::Rejected,
        }],
        job: None,
    })
}

/// A file's new content as a client sent it.
struct FileEdit {
    file_id: String,
    content: String,
    name: Option<String>,
    language: Option<String>,
    /// The client message that carried it.
    cause: String,
}

/// Stores an edit; `None` when it changes nothing (so no new version is made).
fn store_file(
    session: &mut SessionState,
    edit: FileEdit,
    limits: Limits,
) -> Result<Option<Change>, Refusal> {
    if edit.content.len() > limits.max_text_bytes {
        return Err(too_large("the file content", limits));
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
                return Err((
                    ErrorCode::UnknownFile,
                    format!(
                        "no file {:?} in this session; include name and language to create it",
                        edit.file_id
                    ),
                ));
            };
            if session.files.len() >= MAX_FILES_PER_SESSION {
                return Err((
                    ErrorCode::MessageTooLarge,
                    format!("a session holds at most {MAX_FILES_PER_SESSION} files"),
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
    use super::*;
    use protocol::ChatContext;

    const LIMITS: Limits = Limits {
        max_text_bytes: 1024,
        prompt: PromptBudget {
            file_chars: 1000,
            history_turns: 10,
        },
    };

    fn id() -> SessionId {
        SessionId::parse("s").unwrap()
    }

    fn frame_id() -> MessageId {
        MessageId::parse("c-1").unwrap()
    }

    /// What the client would receive: refusals, or the history events.
    fn run(session: &mut SessionState, message: ClientMessage) -> Vec<ServerMessage> {
        let handled = handle(&id(), session, Some(&frame_id()), message, LIMITS);
        [handled.refusals, handled.events].concat()
    }

    fn chat_about(content: Option<&str>) -> ClientMessage {
        ClientMessage::Chat {
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
        }
    }

    fn with_file(content: &str) -> SessionState {
        let mut session = SessionState::default();
        run(
            &mut session,
            ClientMessage::FileUpdated {
                file_id: "f1".into(),
                content: content.into(),
                name: Some("lib.rs".into()),
                language: Some("rust".into()),
            },
        );
        session
    }

    fn error_code(replies: &[ServerMessage]) -> ErrorCode {
        match replies {
            [ServerMessage::Error { code, .. }] => *code,
            other => panic!("expected one error, got {other:?}"),
        }
    }

    #[test]
    fn a_chat_becomes_a_job_with_the_file_in_its_prompt_and_joins_the_history() {
        let mut session = SessionState::default();
        let handled = handle(
            &id(),
            &mut session,
            Some(&frame_id()),
            chat_about(Some("fn main() {}\n")),
            LIMITS,
        );
        assert!(handled.refusals.is_empty());
        assert_eq!(
            handled.events,
            vec![ServerMessage::UserMessage {
                id: "c-1".into(),
                message: "write a function".into()
            }]
        );
        // The file, the person's message and the reply to come are all stored.
        assert_eq!(handled.changes.len(), 3);
        let job = handled.job.expect("a job");
        assert_eq!(job.message_id, "m-1");
        assert_eq!(job.active_file.as_deref(), Some("f1"));
        assert!(job.request.messages[0].content.contains("fn main() {}"));
        assert_eq!(
            job.request.messages.last().unwrap().content,
            "write a function"
        );
        assert_eq!(session.history.len(), 1);
        assert_eq!(session.files["f1"].content, "fn main() {}\n");
    }

    #[test]
    fn applying_a_diff_updates_the_file_and_confirms() {
        let mut session = with_file("fn main() {}\n");
        let proposal = propose(
            &mut session,
            "f1".into(),
            "fn main() {}\nfn x() {}\n".into(),
        )
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
                content: proposal.modified.clone()
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
        let proposal = propose(&mut session, "f1".into(), modified).unwrap();
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
        let proposal = propose(&mut session, "f1".into(), "y\n".into()).unwrap();
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
    fn a_diff_made_before_an_edit_is_refused_as_stale() {
        let mut session = with_file("x\n");
        let proposal = propose(&mut session, "f1".into(), "z\n".into()).unwrap();
        let proposal_id = proposal.diff_id.clone();
        let edit = ClientMessage::FileUpdated {
            file_id: "f1".into(),
            content: "y\n".into(),
            name: None,
            language: None,
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

    #[test]
    fn unknown_files_and_oversized_content_are_errors() {
        let mut session = SessionState::default();
        assert_eq!(
            error_code(&run(&mut session, chat_about(None))),
            ErrorCode::UnknownFile
        );
        let new_without_name = ClientMessage::FileUpdated {
            file_id: "f2".into(),
            content: "a".into(),
            name: None,
            language: None,
        };
        assert_eq!(
            error_code(&run(&mut session, new_without_name)),
            ErrorCode::UnknownFile
        );
        let huge = "x".repeat(LIMITS.max_text_bytes + 1);
        assert_eq!(
            error_code(&run(&mut session, chat_about(Some(&huge)))),
            ErrorCode::MessageTooLarge
        );
        assert!(session.files.is_empty());
        assert!(session.history.is_empty());
    }
}
