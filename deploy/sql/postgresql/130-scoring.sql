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
-- each event once, whatever it replays); collected_cents above is left at 0 and the sum is taken from here.
CREATE TABLE IF NOT EXISTS score_outcome_payment (
    event_id    TEXT NOT NULL PRIMARY KEY,
    account_id  TEXT NOT NULL,
    cents       BIGINT NOT NULL,
    paid_at     TIMESTAMPTZ NOT NULL
);
CREATE INDEX IF NOT EXISTS ix_score_outcome_payment_account ON score_outcome_payment (account_id, paid_at);
