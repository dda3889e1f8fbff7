//! `GET /api/axe/sessions/{session_id}/export[?after_seq=N&limit=M]`: everything stored about
//! one session as JSON — its history frames, both sides of the conversation, every file
//! version, every diff and the client message ids processed. For people taking their session
//! elsewhere, and for tests that compare what a client saw with what the server kept.
//!
//! The document is streamed as it is read, a page of rows at a time, so a long session is never
//! held in memory whole. `after_seq` and `limit` page the history frames (the other sections
//! come whole): `next_after_seq` says where the next page starts, `null` when there is none.

use super::{
    access::{claim_session, Caller},
    error::ApiError,
    session_path::SessionPath,
};
use crate::{session::SessionStore, state::AppState, storage::export::Section};
use axum::{
    body::{Body, Bytes},
    extract::{Query, State},
    http::header,
    response::{IntoResponse, Response},
};
use futures_util::{
    stream::{self, Stream},
    StreamExt,
};
use protocol::SessionId;
use serde::Deserialize;

/// Rows read per query.
const PAGE: usize = 500;

/// The export's query string.
#[derive(Debug, Deserialize)]
pub struct ExportQuery {
    /// History frames after this `seq` (default 0: from the start).
    #[serde(default)]
    after_seq: u64,
    /// At most this many history frames (default: all).
    #[serde(default)]
    limit: Option<usize>,
}

/// Answers with the session's export to its owner: 400 for a malformed id, 401 without a valid
/// token, 403 to anyone else, 500 if the database failed before the document began.
pub async fn session_export(
    SessionPath(session): SessionPath,
    State(state): State<AppState>,
    Query(query): Query<ExportQuery>,
    caller: Caller,
) -> Response {
    if let Err(refusal) = claim_session(&state, &session, &caller).await {
        return refusal.into_response();
    }
    let last_seq = match state.sessions.last_seq(&session).await {
        Ok(seq) => seq,
        Err(error) => {
            tracing::error!(%error, "export failed");
            return ApiError::internal("reading the session").into_response();
        }
    };
    let head = format!(
        "{{\"session_id\":{},\"last_seq\":{last_seq}",
        serde_json::Value::String(session.as_str().to_owned())
    );
    let body = document(state.sessions.clone(), session, head, query);
    (
        [(header::CONTENT_TYPE, "application/json")],
        Body::from_stream(body),
    )
        .into_response()
}

/// Where the writing of the document stands.
struct Writer {
    sessions: SessionStore,
    session: SessionId,
    /// The section being written, by index into [`Section::ALL`].
    section: usize,
    /// Where its next page starts; `None` before the section's opening.
    from: Option<u64>,
    /// Rows written in the section so far.
    written: usize,
    /// History frames still allowed.
    events_left: usize,
    /// Where the next page of history frames would start, if one remains.
    next_after_seq: Option<u64>,
    done: bool,
}

/// The export as a stream of JSON pieces.
fn document(
    sessions: SessionStore,
    session: SessionId,
    head: String,
    query: ExportQuery,
) -> impl Stream<Item = Result<Bytes, std::io::Error>> {
    let writer = Writer {
        sessions,
        session,
        section: 0,
        from: None,
        written: 0,
        events_left: query.limit.unwrap_or(usize::MAX),
        next_after_seq: None,
        done: false,
    };
    let start = query.after_seq;
    stream::once(async move { Ok(Bytes::from(head)) }).chain(stream::unfold(
        (writer, start),
        move |(mut writer, start)| async move {
            if writer.done {
                return None;
            }
            let piece = writer.next_piece(start).await;
            Some((piece.map(Bytes::from), (writer, start)))
        },
    ))
}

impl Writer {
    /// The next piece of the document.
    async fn next_piece(&mut self, events_start: u64) -> Result<String, std::io::Error> {
        let Some(&section) = Section::ALL.get(self.section) else {
            self.done = true;
            let next = self
                .next_after_seq
                .map_or_else(|| "null".to_owned(), |seq| seq.to_string());
            return Ok(format!(",\"next_after_seq\":{next}}}"));
        };
        let Some(from) = self.from else {
            self.from = Some(if section == Section::Events {
                events_start
            } else {
                0
            });
            self.written = 0;
            return Ok(format!(",\"{}\":[", section.name()));
        };
        let limit = if section == Section::Events {
            PAGE.min(self.events_left)
        } else {
            PAGE
        };
        let (rows, next) = if limit == 0 {
            (Vec::new(), Some(from))
        } else {
            self.sessions
                .export_page(&self.session, section, from, limit)
                .await
                .map_err(|error| {
                    tracing::error!(%error, "export failed part-way");
                    std::io::Error::other("the session could not be read")
                })?
        };
        let mut piece = String::new();
        for row in &rows {
            if self.written > 0 {
                piece.push(',');
            }
            piece.push_str(&row.to_string());
            self.written += 1;
        }
        if section == Section::Events {
            self.events_left -= rows.len();
        }
        match next {
            Some(next) if self.events_left > 0 || section != Section::Events => {
                self.from = Some(next);
            }
            _ => {
                if section == Section::Events && self.events_left == 0 {
                    // The page limit was reached: there may be more after the last one sent.
                    self.next_after_seq = next;
                }
                piece.push(']');
                self.section += 1;
                self.from = None;
            }
        }
        Ok(piece)
    }
}
