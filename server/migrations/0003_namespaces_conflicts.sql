-- 1. The person's messages are keyed by the client's frame id, replies by ids the server makes
--    (m-1, m-2…). Both used to share one key, so a client id like "m-2" collided with a reply
--    and wedged the session. The role is now part of the key: the two namespaces never meet.
CREATE TABLE axe_messages_keyed (
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
    PRIMARY KEY (session_id, role, message_id)
);
INSERT INTO axe_messages_keyed
    (session_id, message_id, position, role, content, status, model, finish_reason,
     created_at, updated_at)
SELECT session_id, message_id, position, role, content, status, model, finish_reason,
       created_at, updated_at
FROM axe_messages;
DROP TABLE axe_messages;
ALTER TABLE axe_messages_keyed RENAME TO axe_messages;
-- Snapshots and history pages read a session's newest messages by position.
CREATE INDEX axe_messages_position ON axe_messages (session_id, position);

-- 2. Edits that could not be merged: both sides kept until the person resolves them.
--    status: open | resolved. conflict: the protocol's Conflict as JSON.
CREATE TABLE axe_conflicts (
    session_id  TEXT NOT NULL REFERENCES axe_sessions (session_id),
    conflict_id TEXT NOT NULL,
    file_id     TEXT NOT NULL,
    base_version BIGINT NOT NULL,
    conflict    TEXT NOT NULL,
    status      TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    resolved_at BIGINT,
    PRIMARY KEY (session_id, conflict_id)
);
ALTER TABLE axe_sessions ADD COLUMN next_conflict BIGINT NOT NULL DEFAULT 0;
