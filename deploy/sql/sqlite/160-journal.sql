-- The account journal: each account command commits its new state, its new ledger entries, its audit records and the
-- events it raised in one transaction (src/Persistence/AccountJournal.cs). Projections read account_event_log in
-- commit order (SQLite has one writer at a time, so position order is commit order) and keep their checkpoints in
-- projection_checkpoint. Safe to run again: nothing is dropped.

-- One row per account: its state without the ledger (Orleans' binary serializer), and the version it was written at.
CREATE TABLE IF NOT EXISTS account_stream (
    account_id  TEXT NOT NULL PRIMARY KEY,
    version     INTEGER NOT NULL,
    entry_count INTEGER NOT NULL,
    snapshot    BLOB NOT NULL,
    updated_at  TEXT NOT NULL
);

-- The append-only ledger: one row per entry, never rewritten.
CREATE TABLE IF NOT EXISTS account_ledger (
    account_id TEXT NOT NULL,
    seq        INTEGER NOT NULL,
    entry      BLOB NOT NULL,
    PRIMARY KEY (account_id, seq)
) WITHOUT ROWID;

-- Every event an account command raised, committed with it; read by the projections in position order. event_id is
-- unique by construction (an event is written only by the commit that moved its account's version) and is not indexed:
-- an index of hashed ids put one more random page in every commit. A database made with that index is rebuilt without
-- it once, at start (deploy/sql/sqlite-rebuilds/).
CREATE TABLE IF NOT EXISTS account_event_log (
    position    INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id  TEXT NOT NULL,
    event_id    TEXT NOT NULL,
    type        TEXT NOT NULL,
    occurred_at TEXT NOT NULL,
    payload     BLOB NOT NULL
);

CREATE TABLE IF NOT EXISTS projection_checkpoint (
    name        TEXT NOT NULL PRIMARY KEY,
    tx          INTEGER NOT NULL DEFAULT 0,   -- unused on SQLite (position order is commit order)
    position    INTEGER NOT NULL DEFAULT 0,
    owner       TEXT NULL,
    lease_until TEXT NULL,
    updated_at  TEXT NULL
);
