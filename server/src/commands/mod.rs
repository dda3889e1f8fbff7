//! What each state-changing client message does to a session: validate, refuse, or decide the
//! changes to store and the history to send. Pure logic over one session's state, run inside
//! the session's transaction, so it is tested without sockets or a database.
//!
//! # Layout
//! - this file: [`execute`] (dispatch by message), [`Limits`], [`Context`], [`Refusal`].
//! - [`chat`]: a chat message becomes history and a reply [`Job`].
//! - [`diffs`]: applying (wholly or hunk by hunk) and rejecting proposed diffs.
//! - [`files`]: storing the editor's content, merged into newer versions.
//! - [`conflicts`]: resolving an edit that could not be merged.
//!
//! `ping`, `stop` and `load_history` change nothing stored: the connection answers them.

pub mod chat;
pub mod conflicts;
pub mod diffs;
pub mod files;

use crate::{
    llm::prompt::PromptBudget,
    reply::Job,
    session::{Effects, SessionState},
};
use protocol::{ClientMessage, ErrorCode, MessageId, ServerMessage, SessionId};
use std::time::Duration;

/// Limits and budgets the commands apply.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Largest chat text or file content, in bytes.
    pub max_text_bytes: usize,
    /// Most files one session may hold.
    pub max_files: usize,
    /// How much of the file and conversation goes into a prompt.
    pub prompt: PromptBudget,
}

/// What a command knows besides the session's state.
#[derive(Debug, Clone, Copy)]
pub struct Context<'a> {
    /// The session.
    pub session: &'a SessionId,
    /// The message's frame id, stored with what it changes.
    pub id: &'a MessageId,
    /// The limits in force.
    pub limits: Limits,
    /// Whether the session has a reply streaming (a new chat must wait for it).
    pub reply_running: bool,
    /// For an edit made on `base_version`: that version's content, if the server keeps it
    /// (read before the transaction: stored versions never change).
    pub base_content: Option<&'a str>,
}

/// Why a message was refused: the session is unchanged and the sender is told.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// The stable reason.
    pub code: ErrorCode,
    /// What the sender can do about it.
    pub message: String,
    /// For a rate limit: when the message may be sent again.
    pub retry_after: Option<Duration>,
}

impl Refusal {
    /// A refusal with `code` and an explanation.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            retry_after: None,
        }
    }

    /// Over a rate limit: not processed, and not recorded as seen, so the same message sent
    /// again after `wait` is processed.
    pub fn rate_limited(message: impl Into<String>, wait: Duration) -> Self {
        Self {
            retry_after: Some(wait),
            ..Self::new(ErrorCode::RateLimited, message)
        }
    }

    /// The `error` naming the refused message `id`, so its sender knows which one it was (and,
    /// unless the code is retryable, stops resending it).
    pub fn to_message(&self, id: Option<&MessageId>) -> ServerMessage {
        let id = id.map(MessageId::as_str);
        match self.retry_after {
            Some(wait) => ServerMessage::rate_limited(
                self.message.clone(),
                id,
                u64::try_from(wait.as_millis()).unwrap_or(u64::MAX),
            ),
            None => ServerMessage::refusal(self.code, self.message.clone(), id),
        }
    }

    /// Content over the size limit.
    fn too_large(what: &str, limits: Limits) -> Self {
        Self::new(
            ErrorCode::MessageTooLarge,
            format!("{what} is larger than {} bytes", limits.max_text_bytes),
        )
    }
}

/// Runs one state-changing message against `session`: its effects, with the reply to start
/// for a chat, or why it was refused.
pub fn execute(
    session: &mut SessionState,
    message: ClientMessage,
    context: Context<'_>,
) -> Result<Effects<Option<Job>>, Refusal> {
    match message {
        // Answered by the connection: nothing to store.
        ClientMessage::Ping { .. }
        | ClientMessage::Stop { .. }
        | ClientMessage::LoadHistory { .. } => Ok(Effects::nothing(None)),
        ClientMessage::Chat {
            message,
            context: about,
        } => {
            let active_file = about.and_then(|c| c.active_file);
            chat::chat(session, message, active_file, context)
        }
        ClientMessage::DiffApplied { diff_id, hunks } => {
            Ok(diffs::apply(session, &diff_id, hunks)?.with(None))
        }
        ClientMessage::DiffRejected { diff_id } => Ok(diffs::reject(session, &diff_id)?.with(None)),
        ClientMessage::FileUpdated {
            file_id,
            content,
            name,
            language,
            base_version,
        } => {
            let edit = files::FileEdit {
                file_id,
                content,
                name,
                language,
                cause: context.id.as_str().to_owned(),
                base: base_version.map(|v| (v, context.base_content.map(str::to_owned))),
            };
            Ok(files::store(session, edit, context.limits)?.with(None))
        }
        ClientMessage::ResolveConflict {
            conflict_id,
            content,
        } => Ok(conflicts::resolve(
            session,
            &conflict_id,
            content,
            context.limits.max_text_bytes,
            context.id.as_str(),
        )?
        .with(None)),
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub const LIMITS: Limits = Limits {
        max_text_bytes: 1024,
        max_files: 4,
        prompt: PromptBudget {
            file_chars: 1000,
            history_turns: 10,
        },
    };

    /// Runs `message` as the frame `c-1` of session `s`, with a reply running or not.
    pub fn execute_as_c1(
        session: &mut SessionState,
        message: ClientMessage,
        reply_running: bool,
    ) -> Result<Effects<Option<Job>>, Refusal> {
        let context = Context {
            session: &SessionId::parse("s").unwrap(),
            id: &MessageId::parse("c-1").unwrap(),
            limits: LIMITS,
            reply_running,
            base_content: None,
        };
        execute(session, message, context)
    }

    /// Runs `message` as the frame `c-1` of session `s`; what the client would receive:
    /// the refusal, or the history events.
    pub fn run(session: &mut SessionState, message: ClientMessage) -> Vec<ServerMessage> {
        let id = MessageId::parse("c-1").unwrap();
        match execute_as_c1(session, message, false) {
            Ok(effects) => effects.events,
            Err(refusal) => vec![refusal.to_message(Some(&id))],
        }
    }

    pub fn error_code(replies: &[ServerMessage]) -> ErrorCode {
        match replies {
            [ServerMessage::Error { code, .. }] => *code,
            other => panic!("expected one error, got {other:?}"),
        }
    }

    /// A session holding the file `f1` (`lib.rs`, Rust) with `content`.
    pub fn with_file(content: &str) -> SessionState {
        let mut session = SessionState::default();
        run(
            &mut session,
            ClientMessage::FileUpdated {
                file_id: "f1".into(),
                content: content.into(),
                name: Some("lib.rs".into()),
                language: Some("rust".into()),
                base_version: None,
            },
        );
        session
    }
}
