-- Payment-likelihood scoring: the registered model versions (the model file itself, its evaluation report and
-- chart) and, per account and model version, the score it gave and what the account paid afterwards, so the data
-- team can compare champion and challenger on real outcomes. Safe to run again: nothing is dropped.

CREATE TABLE IF NOT EXISTS scoring_model (
    version        TEXT PRIMARY KEY,
    kind           TEXT NOT NULL,          -- bootstrap | trained
    registered_at  TEXT NOT NULL,
    registered_by  TEXT NOT NULL,
    notes          TEXT NULL,
    report         TEXT NOT NULL,          -- the evaluation report as JSON (no PHI)
    chart          BLOB NULL,              -- calibration and lift chart (PNG)
    model          BLOB NOT NULL,          -- the model file as `collections model train` writes it
    model_sha256   TEXT NOT NULL
);

CREATE TABLE IF NOT EXISTS score_outcome (
    account_id             TEXT NOT NULL,   -- facility/accountNumber
    model_version          TEXT NOT NULL,
    challenger             INTEGER NOT NULL,
    scored_at              TEXT NOT NULL,
    probability            REAL NOT NULL,
    patient_balance_cents  INTEGER NOT NULL,
    collected_cents        INTEGER NOT NULL DEFAULT 0,
    window_ends_at         TEXT NOT NULL,
    PRIMARY KEY (account_id, model_version)
);
CREATE INDEX IF NOT EXISTS ix_score_outcome_version ON score_outcome (model_version);

-- Patient payments counted toward score outcomes, one row per payment event (the scoring-outcome projection applies
-- each event once, whatever it replays); collected_cents above is left at 0 and the sum is taken from here.
-- Unique on the event's position in the log, which grows, so each new key goes at the index's right edge (a table
-- keyed by event_id, a hash, as made before 2026-12-07, is rebuilt once at start: deploy/sql/sqlite-rebuilds/).
CREATE TABLE IF NOT EXISTS score_outcome_payment (
    event_id     TEXT NOT NULL,
    log_position INTEGER NULL UNIQUE,
    account_id   TEXT NOT NULL,
    cents        INTEGER NOT NULL,
    paid_at      TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS ix_score_outcome_payment_account ON score_outcome_payment (account_id, paid_at);
