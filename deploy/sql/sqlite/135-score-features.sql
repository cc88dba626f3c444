-- The features each model version's first score of an account was computed from (the engine's feature order,
-- comma-separated numbers, NaN for a missing value), for the data team's per-feature drift between the training
-- rows and the live accounts. A projection of the accounts' committed facts, keyed like score_outcome, so a replay
-- adds nothing. Numbers only, keyed by account id. Safe to run again: nothing is dropped.

CREATE TABLE IF NOT EXISTS score_features (
    account_id     TEXT NOT NULL,   -- facility/accountNumber
    model_version  TEXT NOT NULL,
    features       TEXT NOT NULL,
    PRIMARY KEY (account_id, model_version)
);
CREATE INDEX IF NOT EXISTS ix_score_features_version ON score_features (model_version);
