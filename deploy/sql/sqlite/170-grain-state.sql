-- Grain state of the grains other than accounts (guarantors, registers, queues' definitions, the model registry ...),
-- written by GroupCommitGrainStorage: many grains' writes share one transaction. etag is the row's version; a write
-- names the version it read, and one that finds another is refused (Orleans' InconsistentStateException).
-- Rows written by Orleans' ADO.NET provider before (OrleansStorage) are read from there until the grain first writes.
CREATE TABLE IF NOT EXISTS grain_state (
    grain_id   TEXT NOT NULL,
    state_name TEXT NOT NULL,
    etag       INTEGER NOT NULL,
    payload    BLOB NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (grain_id, state_name)
);
