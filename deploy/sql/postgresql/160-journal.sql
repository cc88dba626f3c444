-- The account journal: each account command commits its new state, its new ledger entries, its audit records and the
-- events it raised in one transaction (src/Persistence/AccountJournal.cs). Projections read account_event_log in
-- commit order: a sequence is not commit order under concurrent writers, so each row carries the id of the
-- transaction that wrote it (xid8) and readers take only rows of transactions older than the oldest still running,
-- ordered by (tx, position). Checkpoints live in projection_checkpoint. Safe to run again: the one thing dropped is
-- a constraint no release since 2026-12-07 names (below).

CREATE TABLE IF NOT EXISTS account_stream (
    account_id  TEXT NOT NULL PRIMARY KEY,
    version     BIGINT NOT NULL,
    entry_count INTEGER NOT NULL,
    snapshot    BYTEA NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL,
    commit_token TEXT NULL   -- the commit that last wrote the row: the rest of that commit is written only if it did
);

ALTER TABLE account_stream ADD COLUMN IF NOT EXISTS commit_token TEXT NULL;

CREATE TABLE IF NOT EXISTS account_ledger (
    account_id TEXT NOT NULL,
    seq        INTEGER NOT NULL,
    entry      BYTEA NOT NULL,
    PRIMARY KEY (account_id, seq)
);

CREATE TABLE IF NOT EXISTS account_event_log (
    position    BIGSERIAL PRIMARY KEY,
    tx          XID8 NOT NULL DEFAULT pg_current_xact_id(),
    account_id  TEXT NOT NULL,
    event_id    TEXT NOT NULL,
    type        TEXT NOT NULL,
    occurred_at TIMESTAMPTZ NOT NULL,
    payload     BYTEA NOT NULL
);
-- event_id is unique by construction (an event goes in only with the commit that moved its account's version). Its
-- UNIQUE put a random page of a hashed index in every commit; the release of 2026-12-07 stopped naming it in its
-- inserts (a0797b8), and this one drops it (a constraint goes in two releases: docs/operations.md, "Rolling
-- upgrades"). Looked up first, so a start after the drop does not take the exclusive lock the drop needs.
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_constraint WHERE conname = 'account_event_log_event_id_key' AND conrelid = 'account_event_log'::regclass) THEN
        ALTER TABLE account_event_log DROP CONSTRAINT account_event_log_event_id_key;
    END IF;
END $$;
CREATE INDEX IF NOT EXISTS ix_account_event_log_commit_order ON account_event_log (tx, position);

CREATE TABLE IF NOT EXISTS projection_checkpoint (
    name        TEXT NOT NULL PRIMARY KEY,
    tx          BIGINT NOT NULL DEFAULT 0,
    position    BIGINT NOT NULL DEFAULT 0,
    owner       TEXT NULL,
    lease_until TIMESTAMPTZ NULL,
    updated_at  TIMESTAMPTZ NULL
);
