-- Sessions belong to the subject (`sub` of a token) that created them, or that first connected
-- to them. Sessions stored before this migration have no owner until their first authenticated
-- connect, which claims them.
ALTER TABLE axe_sessions ADD COLUMN owner TEXT;
CREATE INDEX axe_sessions_owner ON axe_sessions (owner);

-- Secrets the server makes for itself when none is configured (PostgreSQL only: beside a SQLite
-- database they are a file), shared by every node on this database.
CREATE TABLE axe_server_secrets (
    name  TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
