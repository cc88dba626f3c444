-- when: SELECT 1 FROM sqlite_master WHERE type = 'index' AND name = 'sqlite_autoindex_account_event_log_1'
-- account_event_log as made before 2026-12-07 carried UNIQUE on event_id, whose index SQLite cannot drop: the table
-- is copied into one without it, every row at its position, and the position counter carried over, so projection
-- checkpoints stay valid and no position is ever given twice. Run once, at start, in the schema transaction.
CREATE TABLE account_event_log_rebuilt (
    position    INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id  TEXT NOT NULL,
    event_id    TEXT NOT NULL,
    type        TEXT NOT NULL,
    occurred_at TEXT NOT NULL,
    payload     BLOB NOT NULL
);
INSERT INTO account_event_log_rebuilt (position, account_id, event_id, type, occurred_at, payload)
SELECT position, account_id, event_id, type, occurred_at, payload FROM account_event_log ORDER BY position;
INSERT INTO sqlite_sequence (name, seq)
SELECT 'account_event_log_rebuilt', 0 WHERE NOT EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = 'account_event_log_rebuilt');
UPDATE sqlite_sequence
SET seq = max(seq, coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'account_event_log'), 0))
WHERE name = 'account_event_log_rebuilt';
DROP TABLE account_event_log;
ALTER TABLE account_event_log_rebuilt RENAME TO account_event_log;
