-- Outreach delivery: the outbox, its delivery log, the sandbox transport's mailbox, editable templates and inbound
-- events (delivery receipts). Safe to run again: nothing is dropped. Runs inside one transaction (no CONCURRENTLY).

-- Every message, written before it is sent. message_id is the caller's idempotency key.
CREATE TABLE IF NOT EXISTS outreach_outbox (
    id                  BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    message_id          TEXT NOT NULL UNIQUE,
    channel             TEXT NOT NULL,      -- Mail | Email | Sms
    action              TEXT NOT NULL,      -- OutreachAction
    facility            TEXT NOT NULL,
    account_number      TEXT NOT NULL,
    guarantor_id        TEXT NOT NULL,
    recipient_name      TEXT NOT NULL,      -- PHI
    recipient           TEXT NOT NULL,      -- PHI: email, phone or postal address
    amount_due          NUMERIC(12, 2) NOT NULL,
    due_date            DATE NULL,
    statement_lines     TEXT NOT NULL,      -- JSON
    policy_reference    TEXT NULL,
    subject             TEXT NULL,
    body                TEXT NOT NULL,      -- PHI
    template_id         TEXT NOT NULL,
    template_version    INTEGER NOT NULL,
    status              TEXT NOT NULL,      -- pending | sending | sent | delivered | failed | bounced
    attempts            INTEGER NOT NULL DEFAULT 0,
    next_attempt_at     TIMESTAMPTZ NULL,
    lease_owner         TEXT NULL,
    lease_until         TIMESTAMPTZ NULL,
    created_at          TIMESTAMPTZ NOT NULL,
    updated_at          TIMESTAMPTZ NOT NULL,
    sent_at             TIMESTAMPTZ NULL,
    provider_message_id TEXT NULL,
    last_error          TEXT NULL           -- status codes and error kinds only, never PHI
);
-- A sender's claim reads each kind (pending, lease expired) in (next_attempt_at, id) order and stops at its batch;
-- with id in the index, rows due at the same moment (one publish, one cadence day) need no sort either.
CREATE INDEX IF NOT EXISTS ix_outreach_outbox_due_order ON outreach_outbox (status, next_attempt_at, id);
DROP INDEX IF EXISTS ix_outreach_outbox_due;
CREATE INDEX IF NOT EXISTS ix_outreach_outbox_account ON outreach_outbox (facility, account_number, id);

-- Every delivery attempt and how it ended.
CREATE TABLE IF NOT EXISTS outreach_delivery_attempt (
    id                  BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    message_id          TEXT NOT NULL,
    attempt             INTEGER NOT NULL,
    transport           TEXT NOT NULL,
    sender              TEXT NOT NULL,
    started_at          TIMESTAMPTZ NOT NULL,
    finished_at         TIMESTAMPTZ NOT NULL,
    outcome             TEXT NOT NULL,      -- sent | retry | failed
    provider_message_id TEXT NULL,
    error               TEXT NULL
);
CREATE INDEX IF NOT EXISTS ix_outreach_attempt_message ON outreach_delivery_attempt (message_id, id);

-- What the sandbox transport "delivered": exactly one row per message.
CREATE TABLE IF NOT EXISTS outreach_sandbox_message (
    message_id     TEXT PRIMARY KEY,
    channel        TEXT NOT NULL,
    action         TEXT NOT NULL,
    facility       TEXT NOT NULL,
    account_number TEXT NOT NULL,
    recipient      TEXT NOT NULL,
    subject        TEXT NULL,
    body           TEXT NOT NULL,
    pdf            BYTEA NULL,
    delivered_at   TIMESTAMPTZ NOT NULL
);
CREATE INDEX IF NOT EXISTS ix_outreach_sandbox_recipient ON outreach_sandbox_message (recipient);
CREATE INDEX IF NOT EXISTS ix_outreach_sandbox_account ON outreach_sandbox_message (facility, account_number);

-- Supervisor-edited templates. Editing adds a version; the latest active version is used, else the default in code.
CREATE TABLE IF NOT EXISTS outreach_template (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    channel     TEXT NOT NULL,
    action      TEXT NOT NULL,
    version     INTEGER NOT NULL,
    subject     TEXT NULL,
    body        TEXT NOT NULL,
    active      BOOLEAN NOT NULL DEFAULT TRUE,
    created_at  TIMESTAMPTZ NOT NULL,
    created_by  TEXT NOT NULL,
    UNIQUE (channel, action, version)
);

-- Inbound events from vendors (delivery receipts), kept as received.
CREATE TABLE IF NOT EXISTS outreach_inbound_event (
    id                  BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind                TEXT NOT NULL,      -- receipt
    message_id          TEXT NOT NULL,
    status              TEXT NOT NULL,
    provider_message_id TEXT NULL,
    occurred_at         TIMESTAMPTZ NOT NULL,
    received_at         TIMESTAMPTZ NOT NULL,
    matched             BOOLEAN NOT NULL    -- true if the message is in the outbox
);
CREATE INDEX IF NOT EXISTS ix_outreach_inbound_message ON outreach_inbound_event (message_id, id);
