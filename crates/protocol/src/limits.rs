//! The longest identifiers and names a client may send. Content is bounded by the server's
//! settings; these small fields are bounded here, for every server, so that no name or id can
//! be used to make the server store or send megabytes.

/// Longest file id, in characters.
pub const MAX_FILE_ID_CHARS: usize = 128;
/// Longest file name, in characters.
pub const MAX_FILE_NAME_CHARS: usize = 255;
/// Longest language name, in characters.
pub const MAX_LANGUAGE_CHARS: usize = 64;
/// Longest reference to a server-made id (a diff, a reply, a conflict), in characters.
pub const MAX_REFERENCE_CHARS: usize = 64;
/// Longest widget mode, in characters.
pub const MAX_MODE_CHARS: usize = 32;
/// Most hunk indexes one `diff_applied` may list.
pub const MAX_HUNK_INDEXES: usize = 10_000;
/// Most messages one `load_history` may ask for.
pub const MAX_HISTORY_PAGE: u32 = 200;
