//! The widget's reactive state, provided through context: connection status, conversation,
//! pending diffs, the open file, the offline queue, and the frames waiting for the socket.
//!
//! Components read and write these signals; only the connection module touches the socket.

use crate::{
    clock::now_ms,
    local_storage,
    outbox::{new_message_id, Outbox, PendingMessage},
    pacer::Pacer,
};
use futures_channel::mpsc::{unbounded, UnboundedReceiver, UnboundedSender};
use leptos::prelude::*;
use protocol::{
    encode_client_frame, ActiveFile, ChatContext, ClientMessage, Conflict, DiffProposal,
    FinishReason,
};

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
    /// The token was refused and no fresh one could be had (jwt mode: the host gave none).
    SignInExpired,
    /// The session belongs to another account; no reconnect until the person starts anew.
    Forbidden,
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

/// Where an entry stands: a reply streams, then ends for one of the protocol's reasons;
/// everything else is whole from the start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntryStatus {
    /// Text is still arriving.
    Streaming,
    /// The text is final; the reason says whether it is whole.
    Ended(FinishReason),
}

impl EntryStatus {
    /// An entry that is whole: the person's messages, notices, complete replies.
    pub const COMPLETE: Self = Self::Ended(FinishReason::Stop);
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
    /// The frame id of the person's chat message, so the server's copy of it (in the history)
    /// is recognised rather than shown twice.
    pub client_id: Option<String>,
    /// The server's reply id, for assistant replies.
    pub message_id: Option<String>,
    /// Its place in the conversation, when the server said (snapshots and history pages):
    /// "Load earlier" asks for what comes before the oldest.
    pub position: Option<u64>,
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
    /// The server's version of the content the editor's changes were made on (`None` until
    /// the server has the file): edits name it as their `base_version`.
    pub version: Option<i64>,
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
            version: None,
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
    /// Messages made and not yet acknowledged, oldest first (shown as pending).
    pub outbox: RwSignal<Outbox>,
    /// The newest history `seq` this page has applied; sent when (re)connecting.
    pub last_seq: StoredValue<u64>,
    /// The reply waiting for a model slot, and its place in line.
    pub queued: RwSignal<Option<(String, u32)>>,
    /// Until when (ms since the epoch) the server asked the widget to wait before sending.
    pub paused_until: RwSignal<Option<f64>>,
    /// When each outbox message goes on the wire.
    pub pacer: StoredValue<Pacer>,
    /// Edits that could not be merged, waiting for the person to resolve them.
    pub conflicts: RwSignal<Vec<Conflict>>,
    /// Whether the server has earlier messages than those shown.
    pub has_earlier: RwSignal<bool>,
    /// Whether the browser refused to keep the unsent messages (storage full or denied): they
    /// live only in this tab until sent, and the widget says so.
    pub storage_refused: RwSignal<bool>,
    /// Whether the panel or canvas has been open: closing then returns focus to the button.
    pub was_open: StoredValue<bool>,
    /// What the person is typing, not yet sent.
    pub draft: RwSignal<String>,
    /// The server's newest content of a file, from its last `file_update` (what an applied
    /// diff's event tells the host).
    pub last_server_file: StoredValue<Option<(String, String)>>,
    /// Where the outbox is saved (localStorage key), once the session is known.
    outbox_key: StoredValue<Option<String>>,
    /// The session shown, once known.
    session: StoredValue<Option<String>>,
    wire: StoredValue<UnboundedSender<Outgoing>>,
    wire_receiver: StoredValue<Option<UnboundedReceiver<Outgoing>>>,
    next_entry: StoredValue<u64>,
}

/// What the widget asks the connection to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outgoing {
    /// Send this frame now, if connected (a `stop`: never queued).
    Now(String),
    /// The outbox or its pacing changed: see what is due.
    Outbox,
}

impl AxeStore {
    /// A new store, starting in `view`.
    pub fn new(view: WidgetView) -> Self {
        let (wire, wire_receiver) = unbounded();
        Self {
            status: RwSignal::new(ConnectionStatus::Connecting),
            messages: RwSignal::new(Vec::new()),
            diffs: RwSignal::new(Vec::new()),
            file: RwSignal::new(EditorFile::default()),
            view: RwSignal::new(view),
            model: RwSignal::new(None),
            awaiting_reply: RwSignal::new(false),
            reclaim: RwSignal::new(0),
            outbox: RwSignal::new(Outbox::default()),
            last_seq: StoredValue::new(0),
            queued: RwSignal::new(None),
            paused_until: RwSignal::new(None),
            pacer: StoredValue::new(Pacer::default()),
            conflicts: RwSignal::new(Vec::new()),
            has_earlier: RwSignal::new(false),
            storage_refused: RwSignal::new(false),
            last_server_file: StoredValue::new(None),
            draft: RwSignal::new(String::new()),
            was_open: StoredValue::new(view != WidgetView::Minimized),
            outbox_key: StoredValue::new(None),
            session: StoredValue::new(None),
            wire: StoredValue::new(wire),
            wire_receiver: StoredValue::new(Some(wire_receiver)),
            next_entry: StoredValue::new(0),
        }
    }

    /// The store provided by the nearest widget.
    pub fn expect() -> Self {
        expect_context::<Self>()
    }

    /// Hands the requests to the connection task (once).
    pub fn take_wire(&self) -> Option<UnboundedReceiver<Outgoing>> {
        self.wire_receiver.try_update_value(Option::take).flatten()
    }

    fn put_on_wire(&self, outgoing: Outgoing) {
        self.wire.with_value(|wire| {
            // Fails only when the connection task is gone (widget unmounted): nothing to do.
            let _ = wire.unbounded_send(outgoing);
        });
    }

    /// Sends a message that changes nothing stored (`stop`): now, or not at all.
    fn send_now(&self, message: ClientMessage) {
        self.put_on_wire(Outgoing::Now(encode_client_frame(None, &message)));
    }

    /// Sends a state-changing message: it gets a fresh id and joins the outbox (saved at once),
    /// where it stays until the server acknowledges it, however many reconnects that takes; the
    /// pacer decides when it goes on the wire.
    pub fn send(&self, message: ClientMessage) -> String {
        let id = new_message_id(now_ms(), random);
        crate::telemetry::message_sent(id.as_str(), message.type_name(), self.session());
        let pending = PendingMessage::new(&id, &message);
        self.outbox.update(|outbox| outbox.push(pending));
        self.save_outbox();
        self.put_on_wire(Outgoing::Outbox);
        id.as_str().to_owned()
    }

    /// The ids waiting in the outbox, oldest first.
    pub fn pending_ids(&self) -> Vec<String> {
        self.outbox
            .with_untracked(|o| o.pending.iter().map(|p| p.id.clone()).collect())
    }

    /// The server refused `id` for a rate limit: it (and what came after it) goes out again
    /// after `wait_ms`; the widget says when.
    pub fn hold_back(&self, id: &str, wait_ms: u64) {
        let now = now_ms();
        let pending = self.pending_ids();
        let wait = wait_ms as f64;
        self.pacer
            .update_value(|pacer| pacer.rate_limited(id, &pending, wait, now));
        let until = self.pacer.with_value(|pacer| pacer.paused_until(now));
        self.paused_until.set(until);
        self.put_on_wire(Outgoing::Outbox);
    }

    /// The server refused `id` because a reply is still running: it (and what came after it)
    /// goes out again when that reply ends.
    pub fn wait_for_reply(&self, id: &str) {
        let now = now_ms();
        let pending = self.pending_ids();
        self.pacer
            .update_value(|pacer| pacer.busy(id, &pending, now));
        self.put_on_wire(Outgoing::Outbox);
    }

    /// A reply ended: what waited for that goes out now.
    pub fn reply_ended(&self) {
        if self.pacer.try_update_value(Pacer::reply_ended) == Some(true) {
            self.put_on_wire(Outgoing::Outbox);
        }
    }

    /// Restores the outbox saved for `session` and keeps saving it there from now on. The
    /// editor shows the newest waiting edit, which is what the person saw before the reload.
    pub fn restore_outbox(&self, session: &str) {
        self.session.set_value(Some(session.to_owned()));
        let key = crate::outbox::storage_key(session);
        let saved = local_storage::load(&key).map(|text| Outbox::from_json(&text));
        self.outbox_key.set_value(Some(key));
        if let Some(saved) = saved {
            let file_id = self.file.with_untracked(|f| f.id.clone());
            if let Some(content) = saved.latest_edit_of(&file_id) {
                self.file.update(|file| file.content = content);
            }
            self.outbox.set(saved);
        }
    }

    /// Continues in another session (the old one can no longer be opened): the unsent messages
    /// move with the widget, the conversation starts afresh.
    pub fn move_to_session(&self, session: &str) {
        self.session.set_value(Some(session.to_owned()));
        let old_key = self.outbox_key.get_value();
        let key = crate::outbox::storage_key(session);
        self.outbox_key.set_value(Some(key));
        self.save_outbox();
        if let Some(old_key) = old_key {
            local_storage::remove(&old_key);
        }
        self.messages.set(Vec::new());
        self.diffs.set(Vec::new());
        self.conflicts.set(Vec::new());
        self.has_earlier.set(false);
        self.file.update(|f| f.version = None);
        self.last_seq.set_value(0);
        self.awaiting_reply.set(false);
        self.queued.set(None);
    }

    /// The session shown, once known.
    pub fn session(&self) -> Option<String> {
        self.session.get_value()
    }

    /// Forgets the message `id`: the server stored it (ack) or refused it for good. The next
    /// waiting message may go now: the connection is asked to look, or it would wait for the
    /// timer it set while this one was on the wire (the resend time, seconds away).
    pub fn settle(&self, id: &str) -> Option<PendingMessage> {
        self.pacer.update_value(|pacer| pacer.settled(id));
        let removed = self.outbox.try_update(|outbox| outbox.remove(id)).flatten();
        if removed.is_some() {
            self.save_outbox();
            if self
                .outbox
                .with_untracked(|outbox| !outbox.pending.is_empty())
            {
                self.put_on_wire(Outgoing::Outbox);
            }
        }
        removed
    }

    fn save_outbox(&self) {
        if let Some(key) = self.outbox_key.get_value() {
            let json = self.outbox.with_untracked(Outbox::to_json);
            let saved = local_storage::save(&key, &json);
            if self.storage_refused.get_untracked() == saved {
                self.storage_refused.set(!saved);
            }
        }
    }

    /// Appends an entry to the conversation.
    pub fn push_entry(&self, author: Author, text: String) -> ChatEntry {
        self.push_reply(author, text, None, EntryStatus::COMPLETE)
    }

    /// Appends an entry, with the server's reply id and a status.
    pub fn push_reply(
        &self,
        author: Author,
        text: String,
        message_id: Option<String>,
        status: EntryStatus,
    ) -> ChatEntry {
        let entry = self.new_entry(author, text, message_id, status);
        self.messages
            .update(|messages| messages.push(entry.clone()));
        entry
    }

    /// A new entry (not yet shown), with an id unique in this widget.
    pub fn new_entry(
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
        ChatEntry {
            id,
            author,
            client_id: None,
            position: None,
            message_id,
            text: ArcRwSignal::new(text),
            status: ArcRwSignal::new(status),
        }
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
        self.send_now(ClientMessage::Stop { message_id });
    }

    /// Shows the person's chat message `client_id` (from the history) unless it is already
    /// shown, as it is in the tab that sent it.
    pub fn show_user_message(&self, client_id: String, text: String) {
        let shown = self.messages.with_untracked(|messages| {
            messages
                .iter()
                .any(|e| e.client_id.as_deref() == Some(client_id.as_str()))
        });
        if !shown {
            let entry = self.push_entry(Author::User, text);
            self.tag_entry(entry.id, client_id);
        }
    }

    fn tag_entry(&self, entry_id: u64, client_id: String) {
        self.messages.update(|messages| {
            if let Some(entry) = messages.iter_mut().find(|e| e.id == entry_id) {
                entry.client_id = Some(client_id);
            }
        });
    }

    /// Sends the person's chat message with the open file as context, and shows it.
    pub fn send_chat(&self, text: String) {
        let file = self.file.get_untracked();
        let mode = match self.view.get_untracked() {
            WidgetView::Canvas => "canvas",
            _ => "expanded",
        };
        let entry = self.push_entry(Author::User, text.clone());
        self.awaiting_reply.set(true);
        let client_id = self.send(ClientMessage::Chat {
            message: text,
            context: Some(ChatContext {
                mode: Some(mode.into()),
                active_file: Some(ActiveFile {
                    id: file.id,
                    name: file.name,
                    language: file.language,
                    content: Some(file.content),
                    base_version: None,
                }),
            }),
        });
        self.tag_entry(entry.id, client_id);
    }

    /// Tells the server the person applied `diff_id`: the hunks at the indexes `hunks`, or all
    /// of them when `None`.
    ///
    /// Applying all of a diff made from exactly what the editor shows puts its result in the
    /// editor at once, so edits made before the server answers (offline, say) build on it.
    pub fn send_diff_applied(&self, diff: &DiffProposal, hunks: Option<Vec<u32>>) {
        let chosen = hunks.as_ref().map_or(diff.hunks.len(), Vec::len);
        let props = vec![("hunks", crate::telemetry::Prop::Number(chosen as i64))];
        crate::telemetry::record(crate::telemetry::Event::new(
            "diff_applied",
            self.session(),
            props,
        ));
        if hunks.is_none() {
            self.file.update(|file| {
                if file.id == diff.file_id && file.content == diff.original {
                    file.content = diff.modified.clone();
                }
            });
        }
        self.send(ClientMessage::DiffApplied {
            diff_id: diff.diff_id.clone(),
            hunks,
        });
    }

    /// Tells the server the person rejected `diff_id`.
    pub fn send_diff_rejected(&self, diff_id: String) {
        crate::telemetry::record(crate::telemetry::Event::new(
            "diff_rejected",
            self.session(),
            Vec::new(),
        ));
        self.send(ClientMessage::DiffRejected { diff_id });
    }

    /// Sends the editor's current content to the server (in place of an earlier edit of the
    /// file still waiting to go out, which it holds anyway).
    pub fn send_file_update(&self) {
        let file = self.file.get_untracked();
        let message = ClientMessage::FileUpdated {
            file_id: file.id,
            content: file.content,
            name: Some(file.name),
            language: Some(file.language),
            base_version: None,
        };
        let id = new_message_id(now_ms(), random);
        let pending = PendingMessage::new(&id, &message);
        let pacer = self.pacer;
        self.outbox.update(|outbox| {
            outbox.push_edit(pending, |id| pacer.with_value(|p| p.is_in_flight(id)));
        });
        self.save_outbox();
        self.put_on_wire(Outgoing::Outbox);
    }

    /// The frame to send for the outbox message `id` now, with the editor file's current
    /// server version filled in as the base of an edit of it.
    pub fn frame_to_send(&self, id: &str) -> Option<String> {
        let (editing, version) = self.file.with_untracked(|f| (f.id.clone(), f.version));
        let base = |file: &str| if file == editing { version } else { None };
        self.outbox.with_untracked(|o| {
            o.pending
                .iter()
                .find(|p| p.id == id)
                .map(|p| p.frame_on(base))
        })
    }

    /// Sends the person's resolution of a conflict; edits of the file still waiting are
    /// dropped (what the person decided replaces them) and the editor shows the resolution.
    pub fn send_resolution(&self, conflict_id: String, content: String) {
        let file_id = self.conflicts.with_untracked(|c| {
            c.iter()
                .find(|k| k.conflict_id == conflict_id)
                .map(|k| k.file_id.clone())
        });
        if let Some(file_id) = &file_id {
            let pacer = self.pacer;
            self.outbox.update(|outbox| {
                outbox.pending.retain(|p| {
                    pacer.with_value(|pacer| pacer.is_in_flight(&p.id)) || !p.edits(file_id)
                })
            });
            self.file.update(|file| {
                if file.id == *file_id {
                    file.content = content.clone();
                }
            });
        }
        self.conflicts
            .update(|c| c.retain(|k| k.conflict_id != conflict_id));
        self.send(ClientMessage::ResolveConflict {
            conflict_id,
            content,
        });
    }

    /// Shows the host's file in the editor and makes it the chat's context: a file of its own
    /// (another id) starts without a server version; the server gets the content either way.
    pub fn open_file(&self, id: String, name: String, language: String, content: String) {
        let unchanged = self.file.with_untracked(|f| {
            f.id == id && f.name == name && f.language == language && f.content == content
        });
        if unchanged {
            return;
        }
        self.file.update(|file| {
            if file.id != id {
                file.version = None;
            }
            file.id = id;
            file.name = name;
            file.language = language;
            file.content = content;
        });
        self.send_file_update();
    }

    /// Asks the server for the messages before the oldest one shown.
    pub fn load_earlier(&self) {
        let oldest = self
            .messages
            .with_untracked(|m| m.iter().filter_map(|e| e.position).min());
        if let Some(before) = oldest {
            self.send_now(ClientMessage::LoadHistory {
                before,
                limit: None,
            });
        }
    }
}

fn random() -> f64 {
    #[cfg(feature = "browser")]
    {
        // Ids need to be unique, not secret: Math.random suffices beside the timestamp.
        js_sys::Math::random()
    }
    #[cfg(not(feature = "browser"))]
    {
        use std::sync::atomic::{AtomicU64, Ordering};
        static NEXT: AtomicU64 = AtomicU64::new(1);
        (NEXT.fetch_add(7919, Ordering::Relaxed) % 1000) as f64 / 1000.0
    }
}
