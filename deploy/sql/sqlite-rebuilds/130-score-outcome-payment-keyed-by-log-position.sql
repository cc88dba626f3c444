-- when: SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'score_outcome_payment' AND NOT EXISTS (SELECT 1 FROM pragma_table_info('score_outcome_payment') WHERE name = 'log_position')
-- score_outcome_payment as made before 2026-12-07 was keyed by event_id, whose index SQLite cannot drop: event ids
-- are hashes, so every payment went to a random page of it. The table is copied into one unique on the event's
-- position in the log, each row's position looked up in the event log by its event id, so the projection replaying
-- the log after the rebuild still finds the payments it has. Run once, at start, in the schema transaction.
CREATE TEMP TABLE score_payment_event_position AS SELECT event_id, position FROM account_event_log WHERE type = 'account.facts';
CREATE INDEX temp.ix_score_payment_event_position ON score_payment_event_position (event_id);
CREATE TABLE score_outcome_payment_rebuilt (
    event_id     TEXT NOT NULL,
    log_position INTEGER NULL UNIQUE,
    account_id   TEXT NOT NULL,
    cents        INTEGER NOT NULL,
    paid_at      TEXT NOT NULL
);
INSERT INTO score_outcome_payment_rebuilt (event_id, log_position, account_id, cents, paid_at)
SELECT s.event_id, (SELECT min(p.position) FROM score_payment_event_position p WHERE p.event_id = s.event_id), s.account_id, s.cents, s.paid_at
FROM score_outcome_payment s ORDER BY s.rowid;
DROP TABLE score_outcome_payment;
ALTER TABLE score_outcome_payment_rebuilt RENAME TO score_outcome_payment;
DROP TABLE temp.score_payment_event_position;
