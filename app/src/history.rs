//! The session as this tab shows it, in and out: a server snapshot applied to the store, and
//! the conversation kept in localStorage per session so a reload shows it at once and
//! reconnects with its real `last_seq` (the server then sends only what was missed).

use crate::{
    local_storage,
    store::{Author, AxeStore, ChatEntry, EntryStatus},
};
use leptos::prelude::*;
use protocol::{Conflict, DiffProposal, FinishReason, MessageEntry, Role, Snapshot};
use serde::{Deserialize, Serialize};

/// The most messages kept in localStorage; earlier ones come back by "Load earlier".
pub const MAX_SAVED_MESSAGES: usize = 100;

/// Where a session's shown history is kept.
pub fn storage_key(session: &str) -> String {
    format!("axe.history.{session}")
}

/// One message as kept.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SavedMessage {
    /// `true` for the person's.
    pub from_user: bool,
    /// The client's frame id (the person's) or the reply id.
    pub id: String,
    /// The text.
    pub text: String,
    /// Its place in the conversation, when known.
    pub position: Option<u64>,
    /// How a reply ended; `None` while it streams (or for the person's).
    pub finish_reason: Option<FinishReason>,
}

/// What a tab keeps of its session between reloads.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SavedHistory {
    /// The newest history `seq` applied.
    pub last_seq: u64,
    /// The newest messages, oldest first.
    pub messages: Vec<SavedMessage>,
    /// Whether the server has earlier ones.
    pub has_earlier: bool,
    /// Diffs waiting for a decision.
    pub diffs: Vec<DiffProposal>,
    /// Conflicts waiting for a resolution.
    pub conflicts: Vec<Conflict>,
    /// The editor file's content and its server version.
    pub file: Option<(String, Option<i64>)>,
}

fn entry_of(store: &AxeStore, message: &SavedMessage) -> ChatEntry {
    let status = if message.from_user {
        EntryStatus::COMPLETE
    } else {
        message
            .finish_reason
            .map_or(EntryStatus::Streaming, EntryStatus::Ended)
    };
    let author = if message.from_user {
        Author::User
    } else {
        Author::Assistant
    };
    let reply_id = (!message.from_user).then(|| message.id.clone());
    let mut entry = store.new_entry(author, message.text.clone(), reply_id, status);
    entry.position = message.position;
    if message.from_user {
        entry.client_id = Some(message.id.clone());
    }
    entry
}

fn saved_of(entry: &ChatEntry) -> Option<SavedMessage> {
    let from_user = match entry.author {
        Author::User => true,
        Author::Assistant => false,
        Author::Notice => return None,
    };
    let id = if from_user {
        entry.client_id.clone()?
    } else {
        entry.message_id.clone()?
    };
    Some(SavedMessage {
        from_user,
        id,
        text: entry.text.get_untracked(),
        position: entry.position,
        finish_reason: match entry.status.get_untracked() {
            EntryStatus::Streaming => None,
            EntryStatus::Ended(reason) => Some(reason),
        },
    })
}

fn saved_of_entry(entry: &MessageEntry) -> SavedMessage {
    SavedMessage {
        from_user: entry.role == Role::User,
        id: entry.id.clone(),
        text: entry.text.clone(),
        position: Some(entry.position),
        finish_reason: entry.finish_reason,
    }
}

/// Replaces what `store` shows with the server's `snapshot`: its messages; the files, pending
/// diffs and open conflicts follow as frames of their own and fill in the rest.
pub fn apply_snapshot(store: &AxeStore, snapshot: Snapshot) {
    let saved = SavedHistory {
        last_seq: snapshot.seq,
        messages: snapshot.messages.iter().map(saved_of_entry).collect(),
        has_earlier: snapshot.has_earlier,
        diffs: Vec::new(),
        conflicts: Vec::new(),
        file: None,
    };
    restore(store, saved);
}

/// Shows `saved` in `store` (replacing what it showed) and continues from its `last_seq`.
pub fn restore(store: &AxeStore, saved: SavedHistory) {
    let entries: Vec<ChatEntry> = saved.messages.iter().map(|m| entry_of(store, m)).collect();
    let streaming = entries
        .iter()
        .any(|e| e.status.get_untracked() == EntryStatus::Streaming);
    store.messages.set(entries);
    store.awaiting_reply.set(streaming);
    store.has_earlier.set(saved.has_earlier);
    let decided = |id: &str| store.outbox.with_untracked(|o| o.has_decision_on(id));
    store.diffs.set(
        saved
            .diffs
            .into_iter()
            .filter(|d| !decided(&d.diff_id))
            .collect(),
    );
    store.conflicts.set(saved.conflicts);
    if let Some((content, version)) = saved.file {
        let editing = store
            .outbox
            .with_untracked(|o| o.has_edit_of(&store.file.with_untracked(|f| f.id.clone())));
        store.file.update(|file| {
            if !editing {
                file.content = content;
            }
            file.version = version;
        });
    }
    store.last_seq.set_value(saved.last_seq);
}

/// Adds a page of earlier messages (oldest first) before what `store` shows.
pub fn prepend(store: &AxeStore, page: Vec<MessageEntry>, has_earlier: bool) {
    let known: Vec<String> = store.messages.with_untracked(|m| {
        m.iter()
            .filter_map(|e| e.client_id.clone().or_else(|| e.message_id.clone()))
            .collect()
    });
    let earlier: Vec<ChatEntry> = page
        .iter()
        .filter(|m| !known.contains(&m.id))
        .map(|m| entry_of(store, &saved_of_entry(m)))
        .collect();
    store.messages.update(|messages| {
        messages.splice(0..0, earlier);
    });
    store.has_earlier.set(has_earlier);
}

/// What `store` shows now, to keep.
pub fn capture(store: &AxeStore) -> SavedHistory {
    let mut messages: Vec<SavedMessage> = store
        .messages
        .with_untracked(|m| m.iter().filter_map(saved_of).collect());
    let dropped = messages.len().saturating_sub(MAX_SAVED_MESSAGES);
    messages.drain(..dropped);
    SavedHistory {
        last_seq: store.last_seq.get_value(),
        messages,
        has_earlier: store.has_earlier.get_untracked() || dropped > 0,
        diffs: store.diffs.get_untracked(),
        conflicts: store.conflicts.get_untracked(),
        file: Some(
            store
                .file
                .with_untracked(|f| (f.content.clone(), f.version)),
        ),
    }
}

/// Keeps what `store` shows for `session`; `false` if the browser would not.
pub fn save(store: &AxeStore, session: &str) -> bool {
    serde_json::to_string(&capture(store))
        .map(|json| local_storage::save(&storage_key(session), &json))
        .unwrap_or(false)
}

/// What was kept for `session`, if anything readable.
pub fn load(session: &str) -> Option<SavedHistory> {
    serde_json::from_str(&local_storage::load(&storage_key(session))?).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::WidgetView;

    fn entry(id: &str, role: Role, position: u64, finish: Option<FinishReason>) -> MessageEntry {
        MessageEntry {
            id: id.into(),
            role,
            text: format!("text of {id}"),
            position,
            finish_reason: finish,
        }
    }

    #[test]
    fn a_snapshot_replaces_what_is_shown_and_sets_the_seq() {
        let owner = Owner::new();
        owner.set();
        let store = AxeStore::new(WidgetView::Expanded);
        store.push_entry(Author::Notice, "old".into());
        let snapshot = Snapshot {
            seq: 42,
            messages: vec![
                entry("c-1", Role::User, 7, None),
                entry("m-7", Role::Assistant, 7, Some(FinishReason::Stop)),
                entry("c-2", Role::User, 8, None),
                entry("m-8", Role::Assistant, 8, None),
            ],
            has_earlier: true,
            streaming: Some("m-8".into()),
        };
        apply_snapshot(&store, snapshot);
        assert_eq!(store.last_seq.get_value(), 42);
        assert_eq!(store.messages.with_untracked(Vec::len), 4);
        assert!(store.awaiting_reply.get_untracked(), "a reply streams");
        assert!(store.has_earlier.get_untracked());
        store.file.update(|f| {
            f.content = "fn main() {}\n".into();
            f.version = Some(5);
        });
        // Kept and restored, it is the same.
        let kept = capture(&store);
        let other = AxeStore::new(WidgetView::Expanded);
        restore(&other, kept.clone());
        assert_eq!(capture(&other), kept);
        // A page of earlier messages goes before, without doubles.
        prepend(
            &store,
            vec![
                entry("c-0", Role::User, 6, None),
                entry("c-1", Role::User, 7, None),
            ],
            false,
        );
        assert_eq!(store.messages.with_untracked(Vec::len), 5);
        assert_eq!(store.messages.with_untracked(|m| m[0].position), Some(6));
        assert!(!store.has_earlier.get_untracked());
    }
}
