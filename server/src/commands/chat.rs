//! `chat`: the person's message joins the history and starts a reply, with the open file (sent
//! along, or already known) as the prompt's context.

use super::{files, Context, Refusal};
use crate::{
    llm::{prompt, ChatMessage, OpenFile},
    reply::Job,
    session::{Effects, SessionState, Turn},
    storage::Change,
};
use protocol::{ActiveFile, ErrorCode, ServerMessage};

/// Stores the message (and the open file, if its content came along) and returns the reply to
/// start; refused while another reply streams.
pub fn chat(
    session: &mut SessionState,
    message: String,
    active_file: Option<ActiveFile>,
    context: Context<'_>,
) -> Result<Effects<Option<Job>>, Refusal> {
    let limits = context.limits;
    if context.reply_running {
        return Err(Refusal::new(
            ErrorCode::Busy,
            "a reply is still being generated; stop it or wait for it",
        ));
    }
    if message.len() > limits.max_text_bytes {
        return Err(Refusal::too_large("the chat message", limits));
    }
    let id = context.id.as_str();
    let mut changes = Vec::new();
    let mut events = Vec::new();
    let file_id = match active_file {
        None => None,
        Some(active) => {
            let file_id = active.id.clone();
            if let Some(content) = active.content {
                let edit = files::FileEdit {
                    file_id: active.id,
                    content,
                    name: Some(active.name),
                    language: Some(active.language),
                    cause: id.to_owned(),
                    base: active
                        .base_version
                        .map(|v| (v, context.base_content.map(str::to_owned))),
                };
                let stored = files::store(session, edit, limits)?;
                changes.extend(stored.changes);
                events.extend(stored.events);
            } else if !session.files.contains_key(&file_id) {
                return Err(Refusal::new(
                    ErrorCode::UnknownFile,
                    format!("no file {file_id:?} in this session; send its content first"),
                ));
            }
            Some(file_id)
        }
    };
    let file = file_id
        .as_ref()
        .and_then(|id| session.files.get(id))
        .map(OpenFile::from);
    // What the model is shown: its code is placed against this, merged into whatever the file
    // becomes while the reply streams.
    let base = file_id
        .clone()
        .zip(file.as_ref().map(|f| f.content.clone()));
    let history = session.history.iter().map(ChatMessage::from).collect();
    let request = prompt::build(history, &message, file, limits.prompt);
    session.push_turn(Turn::user(message.clone()));
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
    events.push(ServerMessage::UserMessage {
        id: id.to_owned(),
        message,
    });
    let version = file_id
        .as_ref()
        .and_then(|id| session.files.get(id))
        .map(|f| f.version);
    Ok(Effects {
        changes,
        events,
        then: Some(Job {
            session: context.session.clone(),
            message_id,
            request,
            active_file: file_id,
            base,
        }),
        version,
    })
}

#[cfg(test)]
mod tests {
    use super::super::tests::*;
    use protocol::{ActiveFile, ChatContext, ClientMessage, ErrorCode, ServerMessage};

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
                    base_version: None,
                }),
            }),
        }
    }

    #[test]
    fn a_chat_becomes_a_job_with_the_file_in_its_prompt_and_joins_the_history() {
        let mut session = crate::session::SessionState::default();
        let effects = execute_as_c1(&mut session, chat_about(Some("fn main() {}\n")), false)
            .expect("accepted");
        assert_eq!(
            effects.events,
            vec![ServerMessage::UserMessage {
                id: "c-1".into(),
                message: "write a function".into()
            }]
        );
        // The file, the person's message and the reply to come are all stored.
        assert_eq!(effects.changes.len(), 3);
        let job = effects.then.expect("a job");
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
    fn a_chat_while_a_reply_streams_is_busy_and_changes_nothing() {
        let mut session = crate::session::SessionState::default();
        let refusal = execute_as_c1(&mut session, chat_about(Some("x")), true).unwrap_err();
        assert_eq!(refusal.code, ErrorCode::Busy);
        assert!(session.files.is_empty() && session.history.is_empty());
    }

    #[test]
    fn unknown_files_and_oversized_content_are_errors() {
        let mut session = crate::session::SessionState::default();
        assert_eq!(
            error_code(&run(&mut session, chat_about(None))),
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
