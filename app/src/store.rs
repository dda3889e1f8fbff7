//! The widget's reactive state, provided through context: connection status, conversation,
//! pending diffs, the open file, and the queue of messages waiting to be sent.
//!
//! Components read and write these signals; only the connection module touches the socket.

use futures_channel::mpsc::{unbounded, UnboundedReceiver, UnboundedSender};
use leptos::prelude::*;
use protocol::{ActiveFile, ChatContext, ClientMessage, DiffProposal};

/// Where the connection to the server stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConnectionStatus {
    /// Opening the socket (also the state rendered on the server).
    Connecting,
    /// Open and answering pings.
    Connected,
    /// Closed; a reconnect is scheduled.
    Offline,
    /// Another tab took this session over; no reconnect until the person asks.
    TakenOver,
}

impl ConnectionStatus {
    /// Whether messages can be sent now.
    pub fn is_connected(self) -> bool {
        self == Self::Connected
    }
}

/// Who wrote a chat entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Author {
    /// The person using the widget.
    User,
    /// The assistant (model or offline responder).
    Assistant,
    /// The widget itself: errors and notices.
    Notice,
}

/// Where an assistant reply stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntryStatus {
    /// Complete (or not a reply at all).
    Complete,
    /// Text is still arriving.
    Streaming,
    /// The person pressed Stop; the text is partial.
    Stopped,
    /// The model failed; the text is partial.
    Failed,
}

/// One entry of the conversation. Text and status are signals so a streaming reply updates in
/// place. They are reference-counted rather than owned by a component: an entry is created in
/// whichever view sent or received it and must outlive that view (the panel and the canvas show
/// the same conversation).
#[derive(Debug, Clone)]
pub struct ChatEntry {
    /// Position in the conversation, unique per widget.
    pub id: u64,
    /// Who wrote it.
    pub author: Author,
    /// The server's reply id, for assistant replies.
    pub message_id: Option<String>,
    /// Its text (Markdown for the assistant).
    pub text: ArcRwSignal<String>,
    /// Whether it is complete.
    pub status: ArcRwSignal<EntryStatus>,
}

/// The file open in the canvas editor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EditorFile {
    /// Client-chosen id, shared with the server.
    pub id: String,
    /// Display name.
    pub name: String,
    /// Language, e.g. `rust`.
    pub language: String,
    /// Current content.
    pub content: String,
}

/// What the editor shows before the person types anything.
const DEFAULT_FILE: &str = "//! A small program to try AXE on.

use std::collections::HashMap;

fn main() {
    println!(\"Hello from AXE!\");
    let counts = count_words(\"the quick brown fox jumps over the lazy dog the end\");
    let mut words: Vec<_> = counts.into_iter().collect();
    words.sort();
    for (word, count) in words {
        println!(\"{word}: {count}\");
    }
}

fn count_words(text: &str) -> HashMap<&str, usize> {
    let mut counts = HashMap::new();
    for word in text.split_whitespace() {
        *counts.entry(word).or_insert(0) += 1;
    }
    counts
}
";

impl Default for EditorFile {
    fn default() -> Self {
        Self {
            id: "main".into(),
            name: "main.rs".into(),
            language: "rust".into(),
            content: DEFAULT_FILE.into(),
        }
    }
}

/// Which of its three forms the widget shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WidgetView {
    /// A floating button.
    Minimized,
    /// The 320x480 chat panel.
    Expanded,
    /// Full screen: chat and code editor.
    Canvas,
}

/// The shared state of one widget. `Copy`: every field is an arena handle.
#[derive(Debug, Clone, Copy)]
pub struct AxeStore {
    /// Connection status, written by the connection module.
    pub status: RwSignal<ConnectionStatus>,
    /// The conversation, oldest first.
    pub messages: RwSignal<Vec<ChatEntry>>,
    /// Diffs proposed and not yet decided, oldest first.
    pub diffs: RwSignal<Vec<DiffProposal>>,
    /// The file in the editor.
    pub file: RwSignal<EditorFile>,
    /// Which form the widget shows.
    pub view: RwSignal<WidgetView>,
    /// The name of what answers, from the latest reply's metadata.
    pub model: RwSignal<Option<String>>,
    /// True from sending a chat message until its reply is complete (or refused).
    pub awaiting_reply: RwSignal<bool>,
    /// Bumped when the person asks to take a taken-over session back.
    pub reclaim: RwSignal<u32>,
    outbox: StoredValue<UnboundedSender<ClientMessage>>,
    inbox: StoredValue<Option<UnboundedReceiver<ClientMessage>>>,
    next_entry: StoredValue<u64>,
}

impl AxeStore {
    /// A new store, starting in `view`.
    pub fn new(view: WidgetView) -> Self {
        let (outbox, inbox) = unbounded();
        Self {
            status: RwSignal::new(ConnectionStatus::Connecting),
            messages: RwSignal::new(Vec::new()),
            diffs: RwSignal::new(Vec::new()),
            file: RwSignal::new(EditorFile::default()),
            view: RwSignal::new(view),
            model: RwSignal::new(None),
            awaiting_reply: RwSignal::new(false),
            reclaim: RwSignal::new(0),
            outbox: StoredValue::new(outbox),
            inbox: StoredValue::new(Some(inbox)),
            next_entry: StoredValue::new(0),
        }
    }

    /// The store provided by the nearest widget.
    pub fn expect() -> Self {
        expect_context::<Self>()
    }

    /// Queues `message` for the server; the connection sends it when open.
    pub fn send(&self, message: ClientMessage) {
        self.outbox.with_value(|outbox| {
            // Fails only when the connection task is gone (widget unmounted): nothing to do.
            let _ = outbox.unbounded_send(message);
        });
    }

    /// Hands the receiving end of the queue to the connection task (once).
    pub fn take_inbox(&self) -> Option<UnboundedReceiver<ClientMessage>> {
        self.inbox.try_update_value(Option::take).flatten()
    }

    /// Appends an entry to the conversation.
    pub fn push_entry(&self, author: Author, text: String) -> ChatEntry {
        self.push_reply(author, text, None, EntryStatus::Complete)
    }

    /// Appends an entry, with the server's reply id and a status.
    pub fn push_reply(
        &self,
        author: Author,
        text: String,
        message_id: Option<String>,
        status: EntryStatus,
    ) -> ChatEntry {
        let id = self
            .next_entry
            .try_update_value(|n| {
                *n += 1;
                *n
            })
            .unwrap_or_default();
        let entry = ChatEntry {
            id,
            author,
            message_id,
            text: ArcRwSignal::new(text),
            status: ArcRwSignal::new(status),
        };
        self.messages
            .update(|messages| messages.push(entry.clone()));
        entry
    }

    /// The entry of the reply `message_id`, if it is in the conversation.
    pub fn reply_entry(&self, message_id: &str) -> Option<ChatEntry> {
        self.messages.with_untracked(|messages| {
            messages
                .iter()
                .rev()
                .find(|e| e.message_id.as_deref() == Some(message_id))
                .cloned()
        })
    }

    /// The reply that is streaming now, if any.
    pub fn streaming_reply(&self) -> Option<String> {
        self.messages.with_untracked(|messages| {
            messages
                .iter()
                .rev()
                .find(|e| e.status.get_untracked() == EntryStatus::Streaming)
                .and_then(|e| e.message_id.clone())
        })
    }

    /// Asks the server to stop the reply being generated.
    pub fn send_stop(&self) {
        let message_id = self.streaming_reply();
        self.send(ClientMessage::Stop { message_id });
    }

    /// Sends the person's chat message with the open file as context, and shows it.
    pub fn send_chat(&self, text: String) {
        let file = self.file.get_untracked();
        let mode = match self.view.get_untracked() {
            WidgetView::Canvas => "canvas",
            _ => "expanded",
        };
        self.push_entry(Author::User, text.clone());
        self.awaiting_reply.set(true);
        self.send(ClientMessage::Chat {
            message: text,
            context: Some(ChatContext {
                mode: Some(mode.into()),
                active_file: Some(ActiveFile {
                    id: file.id,
                    name: file.name,
                    language: file.language,
                    content: Some(file.content),
                }),
            }),
        });
    }

    /// Tells the server the person applied `diff_id`: the hunks at the indexes `hunks`, or all
    /// of them when `None`.
    pub fn send_diff_applied(&self, diff_id: String, hunks: Option<Vec<u32>>) {
        self.send(ClientMessage::DiffApplied { diff_id, hunks });
    }

    /// Tells the server the person rejected `diff_id`.
    pub fn send_diff_rejected(&self, diff_id: String) {
        self.send(ClientMessage::DiffRejected { diff_id });
    }

    /// Sends the editor's current content to the server.
    pub fn send_file_update(&self) {
        let file = self.file.get_untracked();
        self.send(ClientMessage::FileUpdated {
            file_id: file.id,
            content: file.content,
            name: Some(file.name),
            language: Some(file.language),
        });
    }
}
