//! Language models, and nothing else: the provider interface and its two implementations (an
//! OpenAI-compatible streaming client and the built-in offline responder), the SSE parser the
//! client reads its stream with, and the prompt.
//!
//! The vocabulary here is the Chat Completions API's ([`ChatRole`], [`ChatMessage`]); the
//! session's own conversation types live with the session, which turns them into these.

pub mod offline;
pub mod openai;
pub mod prompt;
pub mod sse;

use futures_util::Stream;
use protocol::{FinishReason, Usage};
use std::pin::Pin;

/// Who says a message to the model.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChatRole {
    /// Instructions to the model.
    System,
    /// The person.
    User,
    /// The assistant.
    Assistant,
}

impl ChatRole {
    /// The role's name in the Chat Completions API.
    pub fn as_str(self) -> &'static str {
        match self {
            ChatRole::System => "system",
            ChatRole::User => "user",
            ChatRole::Assistant => "assistant",
        }
    }
}

/// One message of a request to the model.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChatMessage {
    /// Who says it.
    pub role: ChatRole,
    /// What is said.
    pub content: String,
}

/// The file open in the editor, as a provider sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenFile {
    /// Display name, e.g. `main.rs`.
    pub name: String,
    /// Language, e.g. `rust`.
    pub language: String,
    /// Whole content.
    pub content: String,
}

/// What a provider is asked to continue.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LlmRequest {
    /// The system prompt, then the recent conversation, ending with the person's message.
    pub messages: Vec<ChatMessage>,
    /// The open file, for providers that work on it directly (the offline responder).
    pub file: Option<OpenFile>,
}

/// One event of a streamed reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LlmEvent {
    /// More text.
    Delta(String),
    /// The reply is complete.
    Finished {
        /// Why: `stop` (complete) or `length` (the token limit).
        finish_reason: FinishReason,
        /// Token counts, if reported.
        usage: Option<Usage>,
    },
}

/// Why a provider failed. Each becomes an `error model_error` to the client and a log line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LlmError {
    /// The API key was refused (401/403).
    #[error("the model server refused the API key ({status}): {body}")]
    Unauthorized {
        /// HTTP status.
        status: u16,
        /// What the server said.
        body: String,
    },
    /// The model name is not known to the server (404).
    #[error("the model server does not know the model: {0}")]
    UnknownModel(String),
    /// Too many requests (429).
    #[error("the model server is rate limiting us: {0}")]
    RateLimited(String),
    /// Any other HTTP error status.
    #[error("the model server answered {status}: {body}")]
    Http {
        /// HTTP status.
        status: u16,
        /// What the server said.
        body: String,
    },
    /// No connection could be made.
    #[error("cannot reach the model server: {0}")]
    Connect(String),
    /// The server took too long to answer or to send the next piece.
    #[error("the model server timed out: {0}")]
    Timeout(String),
    /// The stream was malformed or ended before the reply was complete.
    #[error("the model server sent a broken stream: {0}")]
    BadStream(String),
}

impl LlmError {
    /// What the person is told: the kind of failure, without the model server's address or
    /// its own words (both go to the log), which may carry internal details.
    pub fn public_message(&self) -> String {
        match self {
            Self::Unauthorized { status, .. } => {
                format!("the model server refused AXE's API key ({status})")
            }
            Self::UnknownModel(_) => "the model server does not know the configured model".into(),
            Self::RateLimited(_) => {
                "the model server is rate limiting AXE; try again shortly".into()
            }
            Self::Http { status, .. } => {
                format!("the model server answered with an error ({status})")
            }
            Self::Connect(_) => "AXE cannot reach the model server".into(),
            Self::Timeout(_) => "the model server took too long to answer".into(),
            Self::BadStream(_) => "the model server's reply broke off or could not be read".into(),
        }
    }
}

/// A streamed reply. Dropping it cancels the request, so the model stops generating too.
pub type EventStream = Pin<Box<dyn Stream<Item = Result<LlmEvent, LlmError>> + Send>>;

/// A source of replies.
pub trait Provider: Send + Sync + 'static {
    /// The model's name, shown to the person.
    fn model(&self) -> &str;
    /// Starts generating a reply to `request`.
    fn stream(&self, request: LlmRequest) -> EventStream;
}
