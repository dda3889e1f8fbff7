//! The AXE wire contract, shared by the axum server and the Leptos client (native and wasm32).
//!
//! # Layout
//! - [`ids`]: validated identifiers (session, message, diff, file).
//! - [`client`]: messages the browser sends ([`ClientMessage`]).
//! - [`server`]: messages the server sends ([`ServerMessage`]).
//! - [`diff`]: the unified-diff shape of a proposed change ([`Hunk`], [`DiffLine`]).
//! - [`codes`]: the stable error codes carried by `error` messages.
//! - [`frame`]: turning a text frame into a message and back, with errors as values.
//! - [`language`]: the one normalisation of language names both sides use.
//! - [`fence`]: Markdown code fences by CommonMark's rule, so both sides agree where code ends.
//! - [`limits`]: the longest ids and names a client may send.
//! - `tagged`: the macro declaring [`ServerMessage`] with a decoder that reads each payload
//!   straight into its variant (no buffered second decoder in the browser's wasm).
//!
//! Every frame is one JSON object `{"type": "<snake_case>", "payload": {...}}`. Client messages
//! that change state carry a top-level `"id"` the server acknowledges; server messages that
//! belong to the session's history carry a top-level `"seq"`. This crate does no I/O and never panics on input.

// First: `server` declares its enum with this module's macro.
#[macro_use]
mod tagged;

pub mod client;
pub mod codes;
pub mod diff;
pub mod fence;
pub mod frame;
pub mod ids;
pub mod language;
pub mod limits;
pub mod server;

pub use client::{ActiveFile, ChatContext, ClientMessage};
pub use codes::ErrorCode;
pub use diff::{DiffLine, Hunk, LineKind};
pub use frame::{
    decode_client_frame, decode_server_frame, encode_client_frame, encode_server_frame,
    ClientFrame, DecodeError, ServerFrame,
};
pub use ids::{IdError, MessageId, SessionId};
pub use language::Language;
pub use server::{
    ChatMetadata, Conflict, DiffOutcome, DiffProposal, FinishReason, MessageEntry, MessageStatus,
    Role, ServerMessage, Snapshot, Usage,
};

/// Close code the server uses when a newer connection takes over the session.
///
/// The client must not reconnect by itself after this code: doing so would steal the session back
/// from the newer tab and the two would fight forever.
pub const CLOSE_SESSION_TAKEN_OVER: u16 = 4001;

/// Close code the server uses when a client does not read its messages fast enough.
pub const CLOSE_SLOW_CONSUMER: u16 = 4002;

/// Close code the server uses when a connection has been silent for longer than the idle limit.
pub const CLOSE_IDLE_TIMEOUT: u16 = 4003;

/// Close code the server uses when the token a connection was opened with expires: the client
/// gets a fresh token and reconnects (its outbox resends whatever was not acknowledged).
pub const CLOSE_TOKEN_EXPIRED: u16 = 4401;

/// The WebSocket subprotocol of this protocol. Browsers, which cannot set headers on a
/// WebSocket, offer it together with `axe.bearer.<token>`; the server answers with it.
pub const SUBPROTOCOL: &str = "axe.v1";

/// The prefix of the subprotocol entry that carries a browser's token.
pub const BEARER_SUBPROTOCOL_PREFIX: &str = "axe.bearer.";
