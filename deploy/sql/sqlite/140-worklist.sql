-- Agents' worklists: each queue's entries, its leases, and the outcomes agents recorded. The queue grain holds the
-- index in memory and writes through to these tables (group commit); on activation it reads its rows back.
-- Amounts are integer cents. Safe to run again: nothing is dropped.

CREATE TABLE IF NOT EXISTS worklist_entry (
    queue_id                TEXT NOT NULL,
    facility                TEXT NOT NULL,
    account_number          TEXT NOT NULL,
    guarantor_id            TEXT NOT NULL,
    patient_balance_cents   INTEGER NOT NULL,
    probability             REAL NULL,          -- null: not scored yet
    expected_recovery_cents INTEGER NOT NULL,
    oldest_balance_date     TEXT NULL,          -- yyyy-MM-dd
    callable_from           TEXT NULL,          -- the gate's not-before
    retry_after             TEXT NULL,          -- the queue's wait after an unanswered call
    model_version           TEXT NULL,
    updated_at              TEXT NOT NULL,
    PRIMARY KEY (queue_id, facility, account_number)
);

CREATE TABLE IF NOT EXISTS worklist_lease (
    queue_id       TEXT NOT NULL,
    facility       TEXT NOT NULL,
    account_number TEXT NOT NULL,
    agent          TEXT NOT NULL,      -- API key id
    leased_at      TEXT NOT NULL,
    expires_at     TEXT NOT NULL,
    PRIMARY KEY (queue_id, facility, account_number)
);

CREATE TABLE IF NOT EXISTS worklist_outcome (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    queue_id        TEXT NOT NULL,
    facility        TEXT NOT NULL,
    account_number  TEXT NOT NULL,
    agent           TEXT NOT NULL,
    outcome         TEXT NOT NULL,      -- noAnswer | leftMessage | rightPartyContact | wrongNumber | promiseToPay | dispute | ...
    recorded_at     TEXT NOT NULL,
    idempotency_key TEXT NULL
);
CREATE INDEX IF NOT EXISTS ix_worklist_outcome_queue ON worklist_outcome (queue_id, recorded_at);
