-- when: SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'webhook_delivery' AND NOT EXISTS (SELECT 1 FROM pragma_table_info('webhook_delivery') WHERE name = 'log_position')
-- webhook_delivery as made before 2026-12-07 was unique on (event_id, subscription_id), whose index SQLite cannot
-- drop: event ids are hashes, so every delivery went to a random page of it. The table is copied into one unique on
-- (subscription_id, log_position), every row with its id (receivers saw it in X-Collections-Delivery; the attempts'
-- log points at it) and the id counter carried over. Each row's log position is looked up in the event log by its
-- event id, so a projection rebuild that offers the log again still finds the deliveries already made. Run once, at
-- start, in the schema transaction.
CREATE TEMP TABLE webhook_event_position AS SELECT event_id, position FROM account_event_log WHERE type <> 'account.facts';
CREATE INDEX temp.ix_webhook_event_position ON webhook_event_position (event_id);
CREATE TABLE webhook_delivery_rebuilt (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    event_id         TEXT NOT NULL,
    subscription_id  TEXT NOT NULL,
    log_position     INTEGER NULL,
    event_type       TEXT NOT NULL,
    facility         TEXT NOT NULL,
    account_number   TEXT NOT NULL,
    payload          TEXT NOT NULL,
    status           TEXT NOT NULL,
    attempts         INTEGER NOT NULL DEFAULT 0,
    next_attempt_at  TEXT NULL,
    lease_owner      TEXT NULL,
    lease_until      TEXT NULL,
    created_at       TEXT NOT NULL,
    updated_at       TEXT NOT NULL,
    delivered_at     TEXT NULL,
    last_status_code INTEGER NULL,
    last_error       TEXT NULL,
    UNIQUE (subscription_id, log_position)
);
INSERT INTO webhook_delivery_rebuilt (id, event_id, subscription_id, log_position, event_type, facility, account_number, payload, status,
                                      attempts, next_attempt_at, lease_owner, lease_until, created_at, updated_at, delivered_at,
                                      last_status_code, last_error)
SELECT d.id, d.event_id, d.subscription_id, (SELECT min(p.position) FROM webhook_event_position p WHERE p.event_id = d.event_id),
       d.event_type, d.facility, d.account_number, d.payload, d.status, d.attempts, d.next_attempt_at, d.lease_owner, d.lease_until,
       d.created_at, d.updated_at, d.delivered_at, d.last_status_code, d.last_error
FROM webhook_delivery d ORDER BY d.id;
INSERT INTO sqlite_sequence (name, seq)
SELECT 'webhook_delivery_rebuilt', 0 WHERE NOT EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = 'webhook_delivery_rebuilt');
UPDATE sqlite_sequence
SET seq = max(seq, coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'webhook_delivery'), 0))
WHERE name = 'webhook_delivery_rebuilt';
DROP TABLE webhook_delivery;
ALTER TABLE webhook_delivery_rebuilt RENAME TO webhook_delivery;
DROP TABLE temp.webhook_event_position;
