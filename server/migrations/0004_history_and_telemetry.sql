-- 1. `axe_events` held the conversation's history frames, not events: renamed so that every
--    table's name says what it holds, and the name is free for nobody to confuse again.
ALTER TABLE axe_events RENAME TO axe_history;

-- 2. Telemetry: what widgets report (POST /api/axe/events), anonymized before it is stored.
--    Nothing here names a person: `subject` is a salted hash of the token's subject, `session`
--    a salted hash of the session id; no client address is kept. props: a JSON object of the
--    event's anonymized properties. ts: when the widget saw it; received_at: when it arrived
--    (both Unix milliseconds). Pruned after AXE_TELEMETRY_RETENTION_DAYS.
CREATE TABLE axe_telemetry (
    received_at BIGINT NOT NULL,
    ts          BIGINT NOT NULL,
    name        TEXT NOT NULL,
    subject     TEXT NOT NULL,
    session     TEXT,
    props       TEXT NOT NULL
);
CREATE INDEX axe_telemetry_received ON axe_telemetry (received_at);

-- 3. The server's own measurements, one row per minute and series, for the dashboard's plots:
--    the database sums them over whatever time buckets a plot needs. series: e.g.
--    `connects`, `closes:4001`, `ack_ms:le_50` (a histogram bucket's count), `open_connections`
--    (a gauge: the minute's last value). node: which server wrote it.
CREATE TABLE axe_metric_minutes (
    minute BIGINT NOT NULL,
    node   TEXT NOT NULL,
    series TEXT NOT NULL,
    value  BIGINT NOT NULL,
    PRIMARY KEY (minute, node, series)
);
