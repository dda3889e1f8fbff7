-- Several nodes (AXE_REDIS_URL): the node serving a session holds a lease in Redis and, with
-- it, a fencing token from here. Taking a session over adds one to `fence`; every commit of a
-- session's history checks that `fence` is still the committer's, so a node that lost its lease
-- (paused, cut off from Redis) can never write into a history that another node now numbers.
-- A single node leaves it at 0 and never checks it.
ALTER TABLE axe_sessions ADD COLUMN fence BIGINT NOT NULL DEFAULT 0;
