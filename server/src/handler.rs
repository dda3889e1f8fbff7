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
};
use protocol::{
    ActiveFile, ClientMessage, DiffOutcome, DiffProposal, ErrorCode, ServerMessage, SessionId,
};

/// Limits and budgets the handler applies.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Largest chat text or file content, in bytes.
    pub max_text_bytes: usize,
    /// How much of the file and conversation goes into a prompt.
    pub prompt: PromptBudget,
}

/// What handling one message produced.
#[derive(Debug, Default)]
pub struct Handled {
    /// Messages to send back at once, in order.
    pub replies: Vec<ServerMessage>,
    /// A reply to generate, for a `chat`.
    pub job: Option<Job>,
}

impl From<Vec<ServerMessage>> for Handled {
    fn from(replies: Vec<ServerMessage>) -> Self {
        Self { replies, job: None }
    }
}

/// Processes one message for `session_id`, whose state is `session`.
///
/// The connection answers `ping` itself (idle sessions then need no session state) and `stop`
/// (it needs the generation registry); here `ping` still gets its `pong` and `stop` nothing, so
/// the function is total.
pub fn handle(
    session_id: &SessionId,
    session: &mut SessionState,
    message: ClientMessage,
    limits: Limits,
) -> Handled {
    match message {
        ClientMessage::Ping { ts } => vec![ServerMessage::Pong { ts }].into(),
        ClientMessage::Stop { .. } => Handled::default(),
        ClientMessage::Chat { message, context } => {
            let active_file = context.and_then(|c| c.active_file);
            chat(session_id, session, message, active_file, limits)
        }
        ClientMessage::DiffApplied { diff_id, hunks } => {
            apply(session, &diff_id, hunks.as_deref()).into()
        }
        ClientMessage::DiffRejected { diff_id } => reject(session, &diff_id).into(),
        ClientMessage::FileUpdated {
            file_id,
            content,
            name,
            language,
        } => match store_file(session, file_id, content, name, language, limits) {
            Ok(()) => Handled::default(),
            Err(error) => vec![error].into(),
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
    session_id: &SessionId,
    session: &mut SessionState,
    message: String,
    active_file: Option<ActiveFile>,
    limits: Limits,
) -> Handled {
    if message.len() > limits.max_text_bytes {
        return vec![too_large("the chat message", limits)].into();
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
                    return vec![error].into();
                }
            } else if !session.files.contains_key(&id) {
                return vec![ServerMessage::error(
                    ErrorCode::UnknownFile,
                    format!("no file {id:?} in this session; send its content first"),
                )]
                .into();
            }
            Some(id)
        }
    };
    let file = file_id.as_ref().and_then(|id| session.files.get(id));
    let request = prompt::build(&session.history, &message, file, limits.prompt);
    session.push_turn(Turn {
        role: Role::User,
        content: message,
    });
    Handled {
        replies: Vec::new(),
        job: Some(Job {
            session: session_id.clone(),
            message_id: session.new_message_id(),
            request,
            active_file: file_id,
        }),
    }
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

fn unknown_diff(diff_id: &str) -> ServerMessage {
    ServerMessage::error(
        ErrorCode::UnknownDiff,
        format!("no pending diff {diff_id:?} in this session"),
    )
}

fn apply(session: &mut SessionState, diff_id: &str, hunks: Option<&[u32]>) -> Vec<ServerMessage> {
    let Some(proposal) = session.pending_diffs.get(diff_id) else {
        return vec![unknown_diff(diff_id)];
    };
    let accepted: Vec<usize> = match hunks {
        None => (0..proposal.hunks.len()).collect(),
        Some(chosen) => {
            let chosen: Vec<usize> = chosen.iter().map(|&i| i as usize).collect();
            if let Some(bad) = chosen.iter().find(|&&i| i >= proposal.hunks.len()) {
                // Refused without touching the diff, so the person can still decide.
                return vec![ServerMessage::error(
                    ErrorCode::InvalidPayload,
                    format!(
                        "diff {diff_id:?} has {} hunks; there is no hunk {bad}",
                        proposal.hunks.len()
                    ),
                )];
            }
            chosen
        }
    };
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
    file.content = diff::apply_selected(&proposal.original, &proposal.modified, &accepted);
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
        prompt: PromptBudget {
            file_chars: 1000,
            history_turns: 10,
        },
    };

    fn id() -> SessionId {
        SessionId::parse("s").unwrap()
    }

    fn run(session: &mut SessionState, message: ClientMessage) -> Vec<ServerMessage> {
        handle(&id(), session, message, LIMITS).replies
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
            chat_about(Some("fn main() {}\n")),
            LIMITS,
        );
        assert!(handled.replies.is_empty());
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
        assert_eq!(error_code(&replies), ErrorCode::StaleDiff);
        assert_eq!(session.files["f1"].content, "y\n");
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
