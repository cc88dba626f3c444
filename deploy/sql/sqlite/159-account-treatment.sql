-- Each account's control-group outcome for the uplift report: the policy it was assigned under, its group, the band of
-- the score it had then, what the patient owed then and has paid since, and the cadence steps it reached (taken, or
-- held back for a control account). Written with the account's KPI row by the KPI projection (replaced whole when its
-- facts change; removed when it has no assignment); rebuilt with it from the event log. No person is named: the key is
-- the account, the rest are group figures. Safe to run again: nothing is dropped.

CREATE TABLE IF NOT EXISTS account_treatment (
    facility        TEXT NOT NULL,
    account_number  TEXT NOT NULL,
    policy_id       TEXT NOT NULL,
    control         INTEGER NOT NULL,
    control_share   REAL NOT NULL,             -- the chance of control under the assigning policy (0: no experiment)
    assigned_on     TEXT NOT NULL,             -- UTC day of the assignment
    score_band      TEXT,                      -- 0.0-0.2 ... 0.8-1.0; null when unscored then
    owed_cents      INTEGER NOT NULL,          -- the patient's balance when assigned
    collected_cents INTEGER NOT NULL,          -- net patient payments since (payments less refunds, reversed ones left out)
    steps           TEXT NOT NULL,             -- the step ids reached since, as a JSON array of strings
    PRIMARY KEY (facility, account_number)
);
CREATE INDEX IF NOT EXISTS ix_account_treatment_policy ON account_treatment (policy_id);
