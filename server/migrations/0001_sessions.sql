-- AXE's storage: one schema for SQLite and PostgreSQL (BIGINT and TEXT only, so both read the
-- same types through sqlx's Any driver). Times are Unix milliseconds.

-- One row per session: where its history has got to, and its id counters.
CREATE TABLE axe_sessions (
    session_id   TEXT PRIMARY KEY,
    last_seq     BIGINT NOT NULL DEFAULT 0,
    next_message BIGINT NOT NULL DEFAULT 0,
    next_diff    BIGINT NOT NULL DEFAULT 0,
    created_at   BIGINT NOT NULL
);

-- Every state-changing client message processed, by its frame id: what makes a resend with the
-- same id an acknowledgement rather than a second change.
CREATE TABLE axe_client_messages (
    session_id  TEXT NOT NULL REFERENCES axe_sessions (session_id),
    client_id   TEXT NOT NULL,
    kind        TEXT NOT NULL,
    received_at BIGINT NOT NULL,
    PRIMARY KEY (session_id, client_id)
);

-- The conversation, both sides. status: streaming | complete | stopped | failed. A chat message
-- and its reply share a position (the session's reply counter), the person's first.
CREATE TABLE axe_messages (
    session_id    TEXT NOT NULL REFERENCES axe_sessions (session_id),
    message_id    TEXT NOT NULL,
    position      BIGINT NOT NULL,
    role          TEXT NOT NULL,
    content       TEXT NOT NULL,
    status        TEXT NOT NULL,
    model         TEXT,
    finish_reason TEXT,
    created_at    BIGINT NOT NULL,
    updated_at    BIGINT NOT NULL,
    PRIMARY KEY (session_id, message_id)
);

-- Each file's current content, and every version it has had.
CREATE TABLE axe_files (
    session_id TEXT NOT NULL REFERENCES axe_sessions (session_id),
    file_id    TEXT NOT NULL,
    name       TEXT NOT NULL,
    language   TEXT NOT NULL,
    content    TEXT NOT NULL,
    version    BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (session_id, file_id)
);

-- cause: the client message id of an edit, or the diff id of an applied diff.
CREATE TABLE axe_file_versions (
    session_id TEXT NOT NULL REFERENCES axe_sessions (session_id),
    file_id    TEXT NOT NULL,
    version    BIGINT NOT NULL,
    content    TEXT NOT NULL,
    cause      TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (session_id, file_id, version)
);

-- Proposed diffs and what became of them. status: pending | applied | rejected.
CREATE TABLE axe_diffs (
    session_id     TEXT NOT NULL REFERENCES axe_sessions (session_id),
    diff_id        TEXT NOT NULL,
    file_id        TEXT NOT NULL,
    proposal       TEXT NOT NULL,
    status         TEXT NOT NULL,
    accepted_hunks TEXT,
    created_at     BIGINT NOT NULL,
    resolved_at    BIGINT,
    PRIMARY KEY (session_id, diff_id)
);

-- The session's history as sent: each frame, numbered, for replay to clients that missed it.
CREATE TABLE axe_events (
    session_id TEXT NOT NULL REFERENCES axe_sessions (session_id),
    seq        BIGINT NOT NULL,
    kind       TEXT NOT NULL,
    frame      TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (session_id, seq)
);
