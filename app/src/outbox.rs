//! The offline queue: every state-changing message the person made (edits, diff decisions,
//! chats) with its frame id, from the moment it is made until the server acknowledges it. It is
//! kept in localStorage, so a reload or a crash of the tab loses nothing; on every (re)connect
//! it is sent again in order, and the server's de-duplication makes resending safe.
//!
//! Edits say which server version of the file they were made on (`base_version`), so the
//! server can merge them into what changed meanwhile. That version is filled in as a message
//! goes on the wire ([`PendingMessage::frame_on`]), since an edit made offline only learns it
//! when the edit before it is acknowledged; and an edit not yet sent absorbs the next edit of
//! the same file ([`Outbox::push_edit`]), which holds all of it anyway.

use protocol::{encode_client_frame, ClientMessage, MessageId};
use serde::{Deserialize, Serialize};

/// What a waiting message does, kept beside its frame: the widget asks it of the outbox, and
/// reading it back from the frame would put the client messages' whole decoder into the wasm.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PendingKind {
    /// A `chat`.
    Chat,
    /// A `file_updated`.
    Edit,
    /// A `diff_applied`.
    Apply,
    /// A `diff_rejected`.
    Reject,
    /// A `resolve_conflict`.
    Resolution,
    /// Anything else (and a message saved before kinds were kept).
    #[default]
    Other,
}

/// Stands in the saved frame for the `base_version` an edit is sent with, which is only known
/// when it goes on the wire ([`PendingMessage::frame_on`]). No real version is negative, and
/// its field's text cannot occur inside a JSON string, where the quotes would be escaped.
const BASE_VERSION_PLACEHOLDER: i64 = -9_007_199_254_740_991;

/// The `base_version` field as the encoder writes it after the fields before it (it is the
/// last field of both `file_updated` and an active file).
fn base_version_field(version: i64) -> String {
    format!(",\"base_version\":{version}")
}

/// One message waiting for its acknowledgement.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingMessage {
    /// Its frame id.
    pub id: String,
    /// The frame as sent (and resent): JSON text with the id, and the base version's slot for
    /// an edit.
    pub frame: String,
    /// What it is, for people: "Edit main.rs", "Apply diff d-2".
    pub label: String,
    /// What it does.
    #[serde(default)]
    pub kind: PendingKind,
    /// The file it concerns: the edited file, or the file open when a chat was sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file_id: Option<String>,
    /// The diff an `Apply` or `Reject` decides.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub diff_id: Option<String>,
}

/// The part of an edit's frame [`Outbox::latest_edit_of`] reads.
#[derive(Deserialize)]
struct EditFrame {
    payload: EditPayload,
}

#[derive(Deserialize)]
struct EditPayload {
    content: String,
}

impl PendingMessage {
    /// Wraps `message` with frame id `id`.
    pub fn new(id: &MessageId, message: &ClientMessage) -> Self {
        let mut message = message.clone();
        let (kind, file_id, diff_id, label) = match &mut message {
            ClientMessage::Chat { context, .. } => {
                let file = context.as_mut().and_then(|c| c.active_file.as_mut());
                let file_id = file.map(|file| {
                    if file.content.is_some() {
                        // The server may not have this file yet: it is sent whole, as an edit.
                        file.base_version = Some(BASE_VERSION_PLACEHOLDER);
                    }
                    file.id.clone()
                });
                (PendingKind::Chat, file_id, None, "Chat message".to_owned())
            }
            ClientMessage::FileUpdated {
                file_id,
                name,
                base_version,
                ..
            } => {
                *base_version = Some(BASE_VERSION_PLACEHOLDER);
                let label = format!("Edit {}", name.as_deref().unwrap_or(file_id));
                (PendingKind::Edit, Some(file_id.clone()), None, label)
            }
            ClientMessage::DiffApplied { diff_id, .. } => {
                let label = format!("Apply diff {diff_id}");
                (PendingKind::Apply, None, Some(diff_id.clone()), label)
            }
            ClientMessage::DiffRejected { diff_id } => {
                let label = format!("Reject diff {diff_id}");
                (PendingKind::Reject, None, Some(diff_id.clone()), label)
            }
            ClientMessage::ResolveConflict { .. } => (
                PendingKind::Resolution,
                None,
                None,
                "Resolve a conflict".to_owned(),
            ),
            ClientMessage::Stop { .. }
            | ClientMessage::Ping { .. }
            | ClientMessage::LoadHistory { .. } => {
                (PendingKind::Other, None, None, "Message".to_owned())
            }
        };
        Self {
            id: id.as_str().to_owned(),
            frame: encode_client_frame(Some(id), &message),
            label,
            kind,
            file_id,
            diff_id,
        }
    }

    /// The frame to send now: an edit (or a chat carrying the open file) says it was made on
    /// `base_version(file_id)`, the server's version of that file as the widget last knew it.
    pub fn frame_on(&self, base_version: impl Fn(&str) -> Option<i64>) -> String {
        let slot = base_version_field(BASE_VERSION_PLACEHOLDER);
        if !self.frame.contains(&slot) {
            return self.frame.clone();
        }
        let version = self.file_id.as_deref().and_then(base_version);
        let filled = version.map_or_else(String::new, base_version_field);
        self.frame.replacen(&slot, &filled, 1)
    }

    /// Whether this is an edit of `file_id`.
    pub fn edits(&self, file_id: &str) -> bool {
        self.kind == PendingKind::Edit && self.file_id.as_deref() == Some(file_id)
    }
}

/// The queue, oldest first.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Outbox {
    /// The messages waiting, in the order they were made.
    pub pending: Vec<PendingMessage>,
}

impl Outbox {
    /// Reads a queue saved by [`Self::to_json`]; anything unreadable counts as empty.
    pub fn from_json(text: &str) -> Self {
        serde_json::from_str(text).unwrap_or_default()
    }

    /// The queue as JSON, for localStorage.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|_| "{}".into())
    }

    /// Adds a message at the end.
    pub fn push(&mut self, message: PendingMessage) {
        self.pending.push(message);
    }

    /// Adds an edit: in place of the last message if that is an edit of the same file not yet
    /// on the wire (`on_wire` says which are), since this edit holds all of it; else at the
    /// end. Returns the id of the edit that replaced another, if one did.
    pub fn push_edit(
        &mut self,
        edit: PendingMessage,
        on_wire: impl Fn(&str) -> bool,
    ) -> Option<String> {
        if let Some(last) = self.pending.last_mut() {
            let absorbs = edit.kind == PendingKind::Edit
                && edit.file_id.as_deref().is_some_and(|file| last.edits(file))
                && !on_wire(&last.id);
            if absorbs {
                let replaced = std::mem::replace(last, edit);
                return Some(replaced.id);
            }
        }
        self.pending.push(edit);
        None
    }

    /// Removes the message `id` (acknowledged or refused); returns it if it was there.
    pub fn remove(&mut self, id: &str) -> Option<PendingMessage> {
        let index = self.pending.iter().position(|p| p.id == id)?;
        Some(self.pending.remove(index))
    }

    /// Whether an edit of `file_id` is waiting: until it is stored, the server's copy of the
    /// file is older than the editor's and must not replace it.
    pub fn has_edit_of(&self, file_id: &str) -> bool {
        self.pending.iter().any(|p| p.edits(file_id))
    }

    /// The content of the newest waiting edit of `file_id`: what the editor showed last.
    pub fn latest_edit_of(&self, file_id: &str) -> Option<String> {
        let newest = self.pending.iter().rev().find(|p| p.edits(file_id))?;
        serde_json::from_str::<EditFrame>(&newest.frame)
            .ok()
            .map(|frame| frame.payload.content)
    }

    /// Whether a decision about `diff_id` is waiting: the diff is already decided here.
    pub fn has_decision_on(&self, diff_id: &str) -> bool {
        self.pending.iter().any(|p| {
            matches!(p.kind, PendingKind::Apply | PendingKind::Reject)
                && p.diff_id.as_deref() == Some(diff_id)
        })
    }
}

/// A fresh frame id: the time and random characters, unique across tabs and reloads.
pub fn new_message_id(now_ms: f64, random: impl FnMut() -> f64) -> MessageId {
    const ALPHABET: &[u8] = b"0123456789abcdefghijklmnopqrstuvwxyz";
    let mut random = random;
    let suffix: String = (0..10)
        .map(|_| {
            let index = (random() * ALPHABET.len() as f64) as usize;
            char::from(ALPHABET[index.min(ALPHABET.len() - 1)])
        })
        .collect();
    let id = format!("c-{}-{suffix}", now_ms as u64);
    // Always valid: ASCII and well under 64 characters.
    MessageId::parse(&id).unwrap_or_else(|_| MessageId::parse("c-fallback").expect("valid id"))
}

/// Where a session's queue is kept in localStorage.
pub fn storage_key(session: &str) -> String {
    format!("axe.outbox.{session}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use protocol::decode_client_frame;

    fn id(raw: &str) -> MessageId {
        MessageId::parse(raw).unwrap()
    }

    fn edit(content: &str) -> ClientMessage {
        ClientMessage::FileUpdated {
            file_id: "main".into(),
            content: content.into(),
            name: Some("main.rs".into()),
            language: Some("rust".into()),
            base_version: None,
        }
    }

    #[test]
    fn an_unsent_edit_absorbs_the_next_edit_of_its_file() {
        let mut outbox = Outbox::default();
        assert_eq!(
            outbox.push_edit(PendingMessage::new(&id("c-1"), &edit("one")), |_| false),
            None
        );
        assert_eq!(
            outbox.push_edit(PendingMessage::new(&id("c-2"), &edit("two")), |_| false),
            Some("c-1".into())
        );
        assert_eq!(outbox.pending.len(), 1);
        assert_eq!(outbox.latest_edit_of("main").as_deref(), Some("two"));
        // One on the wire is not touched: the next waits behind it.
        assert_eq!(
            outbox.push_edit(PendingMessage::new(&id("c-3"), &edit("three")), |id| id
                == "c-2"),
            None
        );
        assert_eq!(outbox.pending.len(), 2);
    }

    #[test]
    fn the_base_version_is_filled_in_when_the_frame_goes_out() {
        let pending = PendingMessage::new(&id("c-1"), &edit("one"));
        let version_of = |file: &str| (file == "main").then_some(7);
        let frame = decode_client_frame(&pending.frame_on(version_of)).unwrap();
        assert_eq!(frame.id, Some(id("c-1")));
        assert!(matches!(
            frame.message,
            ClientMessage::FileUpdated {
                base_version: Some(7),
                ..
            }
        ));
        let reject = PendingMessage::new(
            &id("c-2"),
            &ClientMessage::DiffRejected {
                diff_id: "d".into(),
            },
        );
        assert_eq!(reject.frame_on(version_of), reject.frame);
        // A version not known yet: the edit replaces the file, and nothing of the slot is sent.
        let unknown = decode_client_frame(&pending.frame_on(|_| None)).unwrap();
        assert!(matches!(
            unknown.message,
            ClientMessage::FileUpdated {
                base_version: None,
                ..
            }
        ));
        assert!(!pending.frame_on(|_| None).contains("base_version"));
    }

    #[test]
    fn a_chat_carrying_the_open_file_names_its_base_version_and_its_file() {
        let file = |content: Option<&str>| ClientMessage::Chat {
            message: "hi \",\"base_version\":-9007199254740991".into(),
            context: Some(protocol::ChatContext {
                mode: None,
                active_file: Some(protocol::ActiveFile {
                    id: "main".into(),
                    name: "main.rs".into(),
                    language: "rust".into(),
                    content: content.map(str::to_owned),
                    base_version: None,
                }),
            }),
        };
        let with_content = PendingMessage::new(&id("c-1"), &file(Some("fn main() {}")));
        assert_eq!(with_content.kind, PendingKind::Chat);
        assert_eq!(with_content.file_id.as_deref(), Some("main"));
        let sent = decode_client_frame(&with_content.frame_on(|_| Some(3))).unwrap();
        let ClientMessage::Chat { message, context } = sent.message else {
            panic!("a chat");
        };
        // The person's text that looks like the slot is left as typed.
        assert_eq!(message, "hi \",\"base_version\":-9007199254740991");
        assert_eq!(context.unwrap().active_file.unwrap().base_version, Some(3));
        // Without content the server has the file: no base version is sent.
        let without = PendingMessage::new(&id("c-2"), &file(None));
        assert_eq!(without.frame_on(|_| Some(3)), without.frame);
        assert!(!without.frame.contains("base_version\":"));
    }

    #[test]
    fn the_queue_survives_a_round_trip_through_storage_in_order() {
        let mut outbox = Outbox::default();
        outbox.push(PendingMessage::new(&id("c-1"), &edit("one")));
        outbox.push(PendingMessage::new(
            &id("c-2"),
            &ClientMessage::DiffRejected {
                diff_id: "d-1".into(),
            },
        ));
        outbox.push(PendingMessage::new(&id("c-3"), &edit("two")));
        let restored = Outbox::from_json(&outbox.to_json());
        assert_eq!(restored, outbox);
        let labels: Vec<&str> = restored.pending.iter().map(|p| p.label.as_str()).collect();
        assert_eq!(labels, ["Edit main.rs", "Reject diff d-1", "Edit main.rs"]);
        assert_eq!(restored.latest_edit_of("main").as_deref(), Some("two"));
        assert!(restored.has_decision_on("d-1"));
        assert!(!restored.has_decision_on("d-2"));
        let kinds: Vec<PendingKind> = restored.pending.iter().map(|p| p.kind).collect();
        assert_eq!(
            kinds,
            [PendingKind::Edit, PendingKind::Reject, PendingKind::Edit]
        );
        // A queue saved before kinds were kept still reads, and its messages still go out.
        let old = r#"{"pending":[{"id":"c-1","frame":"{}","label":"Message"}]}"#;
        assert_eq!(Outbox::from_json(old).pending[0].kind, PendingKind::Other);
        // The frame keeps its id, so a resend is recognised by the server.
        let frame = decode_client_frame(&restored.pending[0].frame).unwrap();
        assert_eq!(frame.id, Some(id("c-1")));
    }

    #[test]
    fn acknowledged_messages_leave_the_queue_and_garbage_reads_as_empty() {
        let mut outbox = Outbox::default();
        outbox.push(PendingMessage::new(&id("c-1"), &edit("one")));
        assert!(outbox.has_edit_of("main"));
        assert!(outbox.remove("c-9").is_none());
        assert_eq!(outbox.remove("c-1").unwrap().id, "c-1");
        assert!(!outbox.has_edit_of("main"));
        assert_eq!(Outbox::from_json("not json"), Outbox::default());
    }

    #[test]
    fn fresh_ids_are_valid_and_differ() {
        let mut seed = 0.0;
        let mut next = move || {
            seed = (seed + 0.37) % 1.0;
            seed
        };
        let a = new_message_id(1_764_150_000_000.0, &mut next);
        let b = new_message_id(1_764_150_000_000.0, &mut next);
        assert_ne!(a, b);
        assert!(a.as_str().starts_with("c-1764150000000-"));
    }
}
