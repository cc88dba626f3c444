-- Outbound webhooks: admins' subscriptions, one delivery row per event per matching subscription, and every attempt.
-- Safe to run again: nothing is dropped.

CREATE TABLE IF NOT EXISTS webhook_subscription (
    id          TEXT PRIMARY KEY,
    url         TEXT NOT NULL,
    events      TEXT NOT NULL,      -- comma-separated event types; empty = all
    description TEXT NULL,
    secret      TEXT NOT NULL,      -- the HMAC key; shown once when created, never listed or logged
    created_at  TEXT NOT NULL,
    created_by  TEXT NOT NULL,
    deleted_at  TEXT NULL
);

-- Written when the webhook projection reads the event from the log: a crash never loses one, and
-- (subscription_id, log_position) never doubles one. Positions grow, so new keys go in at each subscription's right
-- edge of that index (the (event_id, subscription_id) key it had before 2026-12-07 put every delivery on a random page;
-- such a table is rebuilt once, at start: deploy/sql/sqlite-rebuilds/).
CREATE TABLE IF NOT EXISTS webhook_delivery (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    event_id         TEXT NOT NULL,
    subscription_id  TEXT NOT NULL,
    log_position     INTEGER NULL,       -- the event's position in account_event_log
    event_type       TEXT NOT NULL,
    facility         TEXT NOT NULL,
    account_number   TEXT NOT NULL,
    payload          TEXT NOT NULL,      -- JSON; account identifiers and amounts only
    status           TEXT NOT NULL,      -- pending | sending | delivered | failed | cancelled
    attempts         INTEGER NOT NULL DEFAULT 0,
    next_attempt_at  TEXT NULL,
    lease_owner      TEXT NULL,
    lease_until      TEXT NULL,
    created_at       TEXT NOT NULL,
    updated_at       TEXT NOT NULL,
    delivered_at     TEXT NULL,
    last_status_code INTEGER NULL,
    last_error       TEXT NULL,          -- an error kind (http 503, timeout, ...), never a body
    UNIQUE (subscription_id, log_position)
);
CREATE INDEX IF NOT EXISTS ix_webhook_delivery_due ON webhook_delivery (status, next_attempt_at);
CREATE INDEX IF NOT EXISTS ix_webhook_delivery_subscription ON webhook_delivery (subscription_id, id);

CREATE TABLE IF NOT EXISTS webhook_delivery_attempt (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    delivery_id INTEGER NOT NULL,
    attempt     INTEGER NOT NULL,
    sender      TEXT NOT NULL,
    started_at  TEXT NOT NULL,
    finished_at TEXT NOT NULL,
    outcome     TEXT NOT NULL,      -- delivered | retry | failed
    status_code INTEGER NULL,
    error       TEXT NULL
);
CREATE INDEX IF NOT EXISTS ix_webhook_attempt_delivery ON webhook_delivery_attempt (delivery_id, id);
