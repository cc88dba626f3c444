-- Payment-likelihood scoring: the registered model versions (the model file itself, its evaluation report and
-- chart) and, per account and model version, the score it gave and what the account paid afterwards, so the data
-- team can compare champion and challenger on real outcomes. Safe to run again: nothing is dropped.

CREATE TABLE IF NOT EXISTS scoring_model (
    version        TEXT PRIMARY KEY,
    kind           TEXT NOT NULL,          -- bootstrap | trained
    registered_at  TIMESTAMPTZ NOT NULL,
    registered_by  TEXT NOT NULL,
    notes          TEXT NULL,
    report         TEXT NOT NULL,          -- the evaluation report as JSON (no PHI)
    chart          BYTEA NULL,             -- calibration and lift chart (PNG)
    model          BYTEA NOT NULL,         -- the model file as `collections model train` writes it
    model_sha256   TEXT NOT NULL
);

CREATE TABLE IF NOT EXISTS score_outcome (
    account_id             TEXT NOT NULL,   -- facility/accountNumber
    model_version          TEXT NOT NULL,
    challenger             BOOLEAN NOT NULL,
    scored_at              TIMESTAMPTZ NOT NULL,
    probability            DOUBLE PRECISION NOT NULL,
    patient_balance_cents  BIGINT NOT NULL,
    collected_cents        BIGINT NOT NULL DEFAULT 0,
    window_ends_at         TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (account_id, model_version)
);
CREATE INDEX IF NOT EXISTS ix_score_outcome_version ON score_outcome (model_version);

-- Patient payments counted toward score outcomes, one row per payment event (the scoring-outcome projection applies
-- each event once, whatever it replays: unique on the event's position in the log, which grows, so each new key goes
-- at the index's right edge); collected_cents above is left at 0 and the sum is taken from here.
CREATE TABLE IF NOT EXISTS score_outcome_payment (
    event_id     TEXT NOT NULL,
    log_position BIGINT NULL,       -- NULL on rows written before 2026-12-07
    account_id   TEXT NOT NULL,
    cents        BIGINT NOT NULL,
    paid_at      TIMESTAMPTZ NOT NULL
);
-- Databases made before 2026-12-07 get the column here and keep their primary key on event_id (a hash: each payment
-- went to a random page of it), which the insert no longer names and which still catches a repeat of a row written
-- without a position. A later release fills in those positions and drops it (docs/operations.md). The column is looked
-- up first, so only the first start alters the table (holding its exclusive lock until the schema transaction commits).
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM information_schema.columns WHERE table_name = 'score_outcome_payment' AND column_name = 'log_position'
                   AND table_schema = current_schema()) THEN
        ALTER TABLE score_outcome_payment ADD COLUMN log_position BIGINT NULL;
    END IF;
END $$;
CREATE UNIQUE INDEX IF NOT EXISTS ux_score_outcome_payment_log_position ON score_outcome_payment (log_position) WHERE log_position IS NOT NULL;
CREATE INDEX IF NOT EXISTS ix_score_outcome_payment_account ON score_outcome_payment (account_id, paid_at);
