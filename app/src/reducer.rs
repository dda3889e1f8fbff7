//! What each server frame does to the widget's state: the one place the browser interprets
//! the protocol. Pure over the store's signals (no socket, no browser API), so it compiles and
//! is tested natively; the connection module feeds it every text frame it receives.

use crate::{
    history,
    host::{self, HostEvent},
    outbox::PendingKind,
    store::{Author, AxeStore, EntryStatus},
    telemetry,
};
use leptos::prelude::*;
use protocol::{decode_server_frame, DiffOutcome, ErrorCode, ServerMessage};

/// What a frame was, for the connection's bookkeeping.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Received {
    /// A `pong`: the link is alive.
    Pong,
    /// A message applied to the store.
    Applied,
    /// A history frame at or below the `seq` already applied (a replay overlapping live
    /// traffic): skipped.
    Repeated,
    /// Not a frame of this protocol; the text says why.
    Unreadable(String),
}

/// Decodes one text frame and applies it to `store`.
pub fn receive(store: &AxeStore, text: &str) -> Received {
    let frame = match decode_server_frame(text) {
        Ok(frame) => frame,
        Err(error) => return Received::Unreadable(error.to_string()),
    };
    if let Some(seq) = frame.seq {
        if seq <= store.last_seq.get_value() {
            return Received::Repeated;
        }
        store.last_seq.set_value(seq);
    }
    let keep = frame.seq.is_some() || matches!(frame.message, ServerMessage::Snapshot(_));
    let received = apply(store, frame.message);
    if keep {
        // What the tab shows survives a reload, which then asks only for what it missed.
        if let Some(session) = store.session() {
            history::save(store, &session);
        }
    }
    received
}

/// Applies one server message to `store`.
pub fn apply(store: &AxeStore, message: ServerMessage) -> Received {
    match message {
        ServerMessage::Ack { id, version } => {
            telemetry::message_acked(&id, store.session());
            let settled = store.settle(&id);
            if let (Some(version), Some(settled)) = (version, settled) {
                let file_id = match settled.kind {
                    PendingKind::Edit | PendingKind::Chat => settled.file_id,
                    PendingKind::Apply | PendingKind::Resolution => {
                        Some(store.file.with_untracked(|f| f.id.clone()))
                    }
                    PendingKind::Reject | PendingKind::Other => None,
                };
                // The editor's changes since are made on what this message stored.
                store.file.update(|file| {
                    if file_id.as_deref() == Some(file.id.as_str()) {
                        file.version = Some(version);
                    }
                });
            }
        }
        ServerMessage::Snapshot(snapshot) => history::apply_snapshot(store, *snapshot),
        ServerMessage::HistoryPage {
            messages,
            has_earlier,
        } => history::prepend(store, messages, has_earlier),
        ServerMessage::FileConflict(conflict) => store.conflicts.update(|conflicts| {
            if conflicts
                .iter()
                .all(|c| c.conflict_id != conflict.conflict_id)
            {
                conflicts.push(*conflict);
            }
        }),
        ServerMessage::ConflictResolved { conflict_id, .. } => store
            .conflicts
            .update(|c| c.retain(|k| k.conflict_id != conflict_id)),
        ServerMessage::UserMessage { id, message } => store.show_user_message(id, message),
        ServerMessage::ChatDelta {
            message_id,
            delta,
            offset,
        } => {
            telemetry::reply_piece(store.session());
            on_delta(store, message_id, delta, offset)
        }
        ServerMessage::ChatResponse { message, metadata } => {
            telemetry::reply_done(metadata.finish_reason.as_str(), store.session());
            let status = EntryStatus::Ended(metadata.finish_reason);
            store.model.set(Some(metadata.model));
            match store.reply_entry(&metadata.message_id) {
                Some(entry) => {
                    entry.text.set(message);
                    entry.status.set(status);
                }
                None => {
                    store.push_reply(
                        Author::Assistant,
                        message,
                        Some(metadata.message_id),
                        status,
                    );
                }
            }
            store.awaiting_reply.set(false);
            store.queued.set(None);
            store.reply_ended();
        }
        ServerMessage::Diff(proposal) => {
            // Decided here already (the decision waits in the outbox): not shown again.
            if !store
                .outbox
                .with_untracked(|o| o.has_decision_on(&proposal.diff_id))
            {
                let hunks = proposal.hunks.len();
                let new = store.diffs.try_update(|diffs| {
                    let new = diffs.iter().all(|d| d.diff_id != proposal.diff_id);
                    if new {
                        diffs.push(*proposal);
                    }
                    new
                });
                if new == Some(true) {
                    let props = vec![("hunks", telemetry::Prop::Number(hunks as i64))];
                    telemetry::record(telemetry::Event::new("diff_shown", store.session(), props));
                }
            }
        }
        ServerMessage::FileUpdate {
            file_id,
            content,
            version,
        } => {
            store
                .last_server_file
                .set_value(Some((file_id.clone(), content.clone())));
            host::emit(HostEvent::FileUpdate {
                file_id: file_id.clone(),
                content: content.clone(),
                version,
            });
            // While an edit of this file waits, the editor is newer than the server: the edit
            // goes out on the version the widget knew, and the server merges it into this one.
            if !store.outbox.with_untracked(|o| o.has_edit_of(&file_id)) {
                store.file.update(|file| {
                    if file.id == file_id {
                        if file.content != content {
                            file.content = content;
                        }
                        if version.is_some() {
                            file.version = version;
                        }
                    }
                });
            }
        }
        ServerMessage::DiffResolved { diff_id, outcome } => {
            store
                .diffs
                .update(|diffs| diffs.retain(|d| d.diff_id != diff_id));
            let event = match outcome {
                // The server sends the file's new content just before this.
                DiffOutcome::Applied => {
                    store
                        .last_server_file
                        .get_value()
                        .map(|(file_id, content)| HostEvent::DiffApplied {
                            diff_id,
                            file_id,
                            content,
                        })
                }
                DiffOutcome::Rejected => Some(HostEvent::DiffRejected { diff_id }),
            };
            if let Some(event) = event {
                host::emit(event);
            }
        }
        ServerMessage::Pong { .. } => return Received::Pong,
        ServerMessage::ChatQueued {
            message_id,
            position,
        } => {
            store.awaiting_reply.set(true);
            store.queued.set(Some((message_id, position)));
        }
        ServerMessage::Error {
            code,
            message,
            id,
            retry_after_ms,
        } => {
            if code.is_retryable() {
                // Kept in the outbox: it goes out again after the wait (a rate limit) or when
                // the running reply ends (busy); otherwise when its resend time comes.
                match (&id, retry_after_ms) {
                    (Some(id), Some(wait)) => store.hold_back(id, wait),
                    (Some(id), None) if code == ErrorCode::Busy => store.wait_for_reply(id),
                    _ => {}
                }
                if code == ErrorCode::Busy {
                    store.awaiting_reply.set(false);
                }
                if code != ErrorCode::RateLimited {
                    store.push_entry(Author::Notice, format!("⚠ {code}: {message}"));
                }
                return Received::Applied;
            }
            // A refused message will be refused again: it leaves the outbox.
            let refused = id.and_then(|id| store.settle(&id));
            let refused_chat = refused.is_some_and(|p| p.kind == PendingKind::Chat);
            // A refused chat gets no reply; a failed model still sends its `chat_response`.
            if refused_chat || code == ErrorCode::Busy {
                store.awaiting_reply.set(false);
            }
            store.push_entry(Author::Notice, format!("⚠ {code}: {message}"));
        }
    }
    Received::Applied
}

/// A piece of a streaming reply: cut the reply's text at `offset`, then append `delta`, so a
/// repeated piece or the catch-up after a reconnect (offset 0, all the text) leaves the same
/// text. A piece beyond the end (one was lost) waits for the final `chat_response`.
fn on_delta(store: &AxeStore, message_id: String, delta: String, offset: u64) {
    store.awaiting_reply.set(true);
    if store.queued.with_untracked(Option::is_some) {
        store.queued.set(None);
    }
    let offset = usize::try_from(offset).unwrap_or(usize::MAX);
    match store.reply_entry(&message_id) {
        Some(entry) => entry.text.update(|text| {
            if offset <= text.len() && text.is_char_boundary(offset) {
                text.truncate(offset);
                text.push_str(&delta);
            }
        }),
        None if offset == 0 => {
            store.push_reply(
                Author::Assistant,
                delta,
                Some(message_id),
                EntryStatus::Streaming,
            );
        }
        None => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{Outgoing, WidgetView};
    use protocol::{
        encode_server_frame, ChatMetadata, ClientMessage, DiffOutcome, DiffProposal, FinishReason,
    };

    /// A store inside a reactive owner, as a mounted widget has.
    fn store() -> (Owner, AxeStore) {
        let owner = Owner::new();
        owner.set();
        (owner, AxeStore::new(WidgetView::Expanded))
    }

    fn frame(seq: Option<u64>, message: ServerMessage) -> String {
        encode_server_frame(seq, &message)
    }

    fn texts(store: &AxeStore) -> Vec<(Author, String)> {
        store.messages.with_untracked(|m| {
            m.iter()
                .map(|e| (e.author, e.text.get_untracked()))
                .collect()
        })
    }

    fn delta(id: &str, text: &str, offset: u64) -> ServerMessage {
        ServerMessage::ChatDelta {
            message_id: id.into(),
            delta: text.into(),
            offset,
        }
    }

    fn response(id: &str, text: &str, finish_reason: FinishReason) -> ServerMessage {
        ServerMessage::ChatResponse {
            message: text.into(),
            metadata: ChatMetadata {
                message_id: id.into(),
                model: "offline-demo".into(),
                finish_reason,
                diff_count: 0,
                usage: None,
            },
        }
    }

    fn proposal(id: &str) -> DiffProposal {
        DiffProposal {
            diff_id: id.into(),
            file_id: "main".into(),
            file_name: "main.rs".into(),
            language: "rust".into(),
            original: "a\n".into(),
            modified: "b\n".into(),
            hunks: Vec::new(),
            warning: None,
        }
    }

    #[test]
    fn history_at_or_below_the_last_seq_is_skipped() {
        let (_owner, store) = store();
        let first = frame(
            Some(1),
            ServerMessage::UserMessage {
                id: "c-1".into(),
                message: "hi".into(),
            },
        );
        assert_eq!(receive(&store, &first), Received::Applied);
        assert_eq!(receive(&store, &first), Received::Repeated);
        assert_eq!(store.last_seq.get_value(), 1);
        assert_eq!(texts(&store), vec![(Author::User, "hi".into())]);
        assert!(matches!(receive(&store, "{nope"), Received::Unreadable(_)));
    }

    #[test]
    fn deltas_build_the_reply_by_offset_and_the_response_replaces_it() {
        let (_owner, store) = store();
        // A piece of an unknown reply past its start is not shown (its start was lost).
        apply(&store, delta("m-1", "lost", 4));
        assert!(texts(&store).is_empty());
        apply(&store, delta("m-1", "Hel", 0));
        apply(&store, delta("m-1", "lo", 3));
        apply(&store, delta("m-1", "lo", 3)); // repeated piece
        apply(&store, delta("m-1", "??", 99)); // beyond the end: waits for the response
        assert_eq!(texts(&store), vec![(Author::Assistant, "Hello".into())]);
        assert!(store.awaiting_reply.get_untracked());
        // The catch-up after a reconnect: all the text so far at offset 0.
        apply(&store, delta("m-1", "Hello, wor", 0));
        assert_eq!(texts(&store)[0].1, "Hello, wor");
        apply(&store, response("m-1", "Hello, world", FinishReason::Stop));
        assert_eq!(
            texts(&store),
            vec![(Author::Assistant, "Hello, world".into())]
        );
        let entry = store.reply_entry("m-1").unwrap();
        assert_eq!(
            entry.status.get_untracked(),
            EntryStatus::Ended(FinishReason::Stop)
        );
        assert!(!store.awaiting_reply.get_untracked());
        assert_eq!(store.model.get_untracked().as_deref(), Some("offline-demo"));
    }

    #[test]
    fn a_response_without_deltas_is_shown_whole_with_its_ending() {
        let (_owner, store) = store();
        apply(
            &store,
            response("m-2", "partial", FinishReason::Interrupted),
        );
        let entry = store.reply_entry("m-2").unwrap();
        assert_eq!(entry.text.get_untracked(), "partial");
        assert_eq!(
            entry.status.get_untracked(),
            EntryStatus::Ended(FinishReason::Interrupted)
        );
    }

    #[test]
    fn the_own_chat_from_the_history_is_not_shown_twice() {
        let (_owner, store) = store();
        store.send_chat("hello".into());
        let id = store.outbox.with_untracked(|o| o.pending[0].id.clone());
        apply(
            &store,
            ServerMessage::UserMessage {
                id: id.clone(),
                message: "hello".into(),
            },
        );
        assert_eq!(texts(&store), vec![(Author::User, "hello".into())]);
        // Its ack settles it, and names the file version the chat's content became.
        apply(
            &store,
            ServerMessage::Ack {
                id,
                version: Some(3),
            },
        );
        assert!(store.outbox.with_untracked(|o| o.pending.is_empty()));
        assert_eq!(store.file.with_untracked(|f| f.version), Some(3));
    }

    #[test]
    fn diffs_are_shown_once_unless_decided_here_and_close_when_resolved() {
        let (_owner, store) = store();
        apply(&store, ServerMessage::Diff(Box::new(proposal("d-1"))));
        apply(&store, ServerMessage::Diff(Box::new(proposal("d-1"))));
        assert_eq!(store.diffs.with_untracked(Vec::len), 1);
        apply(
            &store,
            ServerMessage::DiffResolved {
                diff_id: "d-1".into(),
                outcome: DiffOutcome::Applied,
            },
        );
        assert!(store.diffs.with_untracked(Vec::is_empty));
        // A decision waiting in the outbox: the replayed diff stays closed.
        store.send_diff_rejected("d-2".into());
        apply(&store, ServerMessage::Diff(Box::new(proposal("d-2"))));
        assert!(store.diffs.with_untracked(Vec::is_empty));
    }

    #[test]
    fn a_file_update_waits_while_an_edit_of_the_file_is_unsaved() {
        let (_owner, store) = store();
        let update = |file: &str, content: &str, version| ServerMessage::FileUpdate {
            file_id: file.into(),
            content: content.into(),
            version: Some(version),
        };
        let editor = |store: &AxeStore| {
            store
                .file
                .with_untracked(|f| (f.content.clone(), f.version))
        };
        apply(&store, update("main", "server\n", 4));
        assert_eq!(editor(&store), ("server\n".into(), Some(4)));
        apply(&store, update("other", "x", 9));
        assert_eq!(editor(&store), ("server\n".into(), Some(4)));
        store.file.update(|f| f.content = "mine\n".into());
        store.send_file_update();
        apply(&store, update("main", "merged elsewhere\n", 5));
        assert_eq!(editor(&store), ("mine\n".into(), Some(4)));
        // The edit goes out on version 4; its ack names what it made.
        let id = store.pending_ids()[0].clone();
        let frame = store.frame_to_send(&id).unwrap();
        assert!(frame.contains(r#""base_version":4"#), "{frame}");
        apply(
            &store,
            ServerMessage::Ack {
                id,
                version: Some(6),
            },
        );
        assert_eq!(store.file.with_untracked(|f| f.version), Some(6));
    }

    #[test]
    fn a_final_refusal_settles_its_message_and_a_retryable_one_keeps_it() {
        let (_owner, store) = store();
        store.send_chat("first".into());
        let id = store.outbox.with_untracked(|o| o.pending[0].id.clone());
        assert!(store.awaiting_reply.get_untracked());
        // Busy: kept, to go out again once the reply that runs is over; the wait ends.
        apply(
            &store,
            ServerMessage::refusal(ErrorCode::Busy, "wait", Some(&id)),
        );
        assert_eq!(store.pending_ids(), std::slice::from_ref(&id));
        assert!(!store.awaiting_reply.get_untracked());
        assert_eq!(texts(&store)[1], (Author::Notice, "⚠ busy: wait".into()));
        // Rate limited: kept and held back for the wait, which the widget counts down.
        apply(
            &store,
            ServerMessage::rate_limited("slow down", Some(&id), 5_000),
        );
        assert_eq!(store.pending_ids(), std::slice::from_ref(&id));
        let until = store.paused_until.get_untracked().expect("paused");
        assert!(until > crate::clock::now_ms() + 4_000.0);
        // A final refusal: it leaves the outbox for good.
        apply(
            &store,
            ServerMessage::refusal(ErrorCode::MessageTooLarge, "too big", Some(&id)),
        );
        assert!(store.pending_ids().is_empty());
        // A model error without an id leaves the outbox alone and waits for the response.
        store.send_chat("second".into());
        store.awaiting_reply.set(true);
        apply(&store, ServerMessage::error(ErrorCode::ModelError, "down"));
        assert_eq!(store.outbox.with_untracked(|o| o.pending.len()), 1);
        assert!(store.awaiting_reply.get_untracked());
    }

    #[test]
    fn an_ack_with_more_waiting_asks_the_connection_to_send_the_next() {
        // Without this the next message waited for the timer set while the first was on the
        // wire: its resend time, ten seconds away (a rejected diff, then a quick chat).
        let (_owner, store) = store();
        let mut wire = store.take_wire().expect("the wire is there once");
        store.send(ClientMessage::DiffRejected {
            diff_id: "d-1".into(),
        });
        store.send_chat("next".into());
        while wire.try_recv().is_ok() {}
        let first = store.pending_ids()[0].clone();
        apply(
            &store,
            ServerMessage::Ack {
                id: first,
                version: None,
            },
        );
        assert_eq!(wire.try_recv().ok(), Some(Outgoing::Outbox));
        // The last one acknowledged: nothing more to send, nothing asked.
        let last = store.pending_ids()[0].clone();
        apply(
            &store,
            ServerMessage::Ack {
                id: last,
                version: None,
            },
        );
        assert!(store.pending_ids().is_empty());
        assert!(wire.try_recv().is_err(), "nothing asked");
    }

    #[test]
    fn a_chat_refused_as_busy_goes_out_again_as_soon_as_the_running_reply_ends() {
        // Before, it waited for its resend time, ten seconds after it was sent, and held up
        // everything after it in the outbox meanwhile.
        let (_owner, store) = store();
        let mut wire = store.take_wire().expect("the wire is there once");
        store.send_chat("while a reply runs".into());
        let id = store.pending_ids()[0].clone();
        let pending = store.pending_ids();
        let due = |at: f64| store.pacer.try_update_value(|p| p.due(&pending, at).send);
        let now = crate::clock::now_ms();
        assert_eq!(due(now), Some(vec![id.clone()]), "the connection sends it");
        while wire.try_recv().is_ok() {}
        apply(
            &store,
            ServerMessage::refusal(ErrorCode::Busy, "a reply runs", Some(&id)),
        );
        assert_eq!(store.pending_ids(), std::slice::from_ref(&id), "kept");
        assert_eq!(wire.try_recv().ok(), Some(Outgoing::Outbox));
        assert_eq!(due(now + 1_000.0), Some(Vec::new()), "waits for the reply");
        apply(&store, response("m-running", "done", FinishReason::Stop));
        assert_eq!(wire.try_recv().ok(), Some(Outgoing::Outbox));
        assert_eq!(due(now + 1_100.0), Some(vec![id]), "out again at once");
        // The next reply's end finds nothing waiting: nothing asked.
        apply(&store, response("m-next", "also done", FinishReason::Stop));
        assert!(wire.try_recv().is_err(), "nothing asked");
    }

    #[test]
    fn a_queued_reply_shows_its_place_until_it_streams() {
        let (_owner, store) = store();
        apply(
            &store,
            ServerMessage::ChatQueued {
                message_id: "m-1".into(),
                position: 2,
            },
        );
        assert_eq!(store.queued.get_untracked(), Some(("m-1".into(), 2)));
        assert!(store.awaiting_reply.get_untracked());
        apply(&store, delta("m-1", "Hi", 0));
        assert_eq!(store.queued.get_untracked(), None);
    }

    #[test]
    fn conflicts_open_and_close() {
        let (_owner, store) = store();
        let conflict = protocol::Conflict {
            conflict_id: "k-1".into(),
            file_id: "main".into(),
            file_name: "main.rs".into(),
            base_version: 2,
            mine: "a\n".into(),
            theirs: "b\n".into(),
            draft: "<<<<<<< your edit\na\n=======\nb\n>>>>>>> the other edit\n".into(),
        };
        apply(
            &store,
            ServerMessage::FileConflict(Box::new(conflict.clone())),
        );
        apply(&store, ServerMessage::FileConflict(Box::new(conflict)));
        assert_eq!(store.conflicts.with_untracked(Vec::len), 1);
        apply(
            &store,
            ServerMessage::ConflictResolved {
                conflict_id: "k-1".into(),
                file_id: "main".into(),
            },
        );
        assert!(store.conflicts.with_untracked(Vec::is_empty));
    }

    #[test]
    fn a_pong_is_reported() {
        let (_owner, store) = store();
        assert_eq!(
            apply(&store, ServerMessage::Pong { ts: None }),
            Received::Pong
        );
    }
}
