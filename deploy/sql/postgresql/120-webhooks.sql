-- Outbound webhooks: admins' subscriptions, one delivery row per event per matching subscription, and every attempt.
-- Safe to run again: nothing is dropped. Runs inside one transaction.

CREATE TABLE IF NOT EXISTS webhook_subscription (
    id          TEXT PRIMARY KEY,
    url         TEXT NOT NULL,
    events      TEXT NOT NULL,      -- comma-separated event types; empty = all
    description TEXT NULL,
    secret      TEXT NOT NULL,      -- the HMAC key; shown once when created, never listed or logged
    created_at  TIMESTAMPTZ NOT NULL,
    created_by  TEXT NOT NULL,
    deleted_at  TIMESTAMPTZ NULL
);

-- Written when the webhook projection reads the event from the log: a crash never loses one, and
-- (subscription_id, log_position) never doubles one.
CREATE TABLE IF NOT EXISTS webhook_delivery (
    id               BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    event_id         TEXT NOT NULL,
    subscription_id  TEXT NOT NULL,
    log_position     BIGINT NULL,        -- the event's position in account_event_log; NULL on rows written before 2026-12-07
    event_type       TEXT NOT NULL,
    facility         TEXT NOT NULL,
    account_number   TEXT NOT NULL,
    payload          TEXT NOT NULL,      -- JSON; account identifiers and amounts only
    status           TEXT NOT NULL,      -- pending | sending | delivered | failed | cancelled
    attempts         INTEGER NOT NULL DEFAULT 0,
    next_attempt_at  TIMESTAMPTZ NULL,
    lease_owner      TEXT NULL,
    lease_until      TIMESTAMPTZ NULL,
    created_at       TIMESTAMPTZ NOT NULL,
    updated_at       TIMESTAMPTZ NOT NULL,
    delivered_at     TIMESTAMPTZ NULL,
    last_status_code INTEGER NULL,
    last_error       TEXT NULL           -- an error kind (http 503, timeout, ...), never a body
);
-- Databases made before 2026-12-07 get the column here and keep their UNIQUE (event_id, subscription_id), which still
-- catches a repeat of a row written without a position. Its random keys put every delivery on a page of its own; a
-- later release fills in the old rows' positions and drops it (constraints go in two releases: docs/operations.md).
-- The column is looked up first, so only the first start alters the table: that start holds the table's exclusive lock,
-- and builds the index below under it, until the schema transaction commits (deliveries wait for it).
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM information_schema.columns WHERE table_name = 'webhook_delivery' AND column_name = 'log_position'
                   AND table_schema = current_schema()) THEN
        ALTER TABLE webhook_delivery ADD COLUMN log_position BIGINT NULL;
    END IF;
END $$;
-- Positions grow, so new keys go in at each subscription's right edge.
CREATE UNIQUE INDEX IF NOT EXISTS ux_webhook_delivery_log_position ON webhook_delivery (subscription_id, log_position) WHERE log_position IS NOT NULL;
-- A sender's claim reads each kind (pending, lease expired) in (next_attempt_at, id) order and stops at its batch;
-- with id in the index, rows due at the same moment (one publish, one cadence day) need no sort either.
CREATE INDEX IF NOT EXISTS ix_webhook_delivery_due_order ON webhook_delivery (status, next_attempt_at, id);
DROP INDEX IF EXISTS ix_webhook_delivery_due;
CREATE INDEX IF NOT EXISTS ix_webhook_delivery_subscription ON webhook_delivery (subscription_id, id);

CREATE TABLE IF NOT EXISTS webhook_delivery_attempt (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    delivery_id BIGINT NOT NULL,
    attempt     INTEGER NOT NULL,
    sender      TEXT NOT NULL,
    started_at  TIMESTAMPTZ NOT NULL,
    finished_at TIMESTAMPTZ NOT NULL,
    outcome     TEXT NOT NULL,      -- delivered | retry | failed
    status_code INTEGER NULL,
    error       TEXT NULL
);
CREATE INDEX IF NOT EXISTS ix_webhook_attempt_delivery ON webhook_delivery_attempt (delivery_id, id);
