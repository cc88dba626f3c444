-- The compliance gate's decisions, one row each, for the supervisors' compliance view: what was asked (action,
-- channel), the verdict (allow, deny, defer) and the rule that decided it, per facility and day (UTC). A projection of
-- the accounts' committed facts, keyed by the event and the decision's place in it, so a replay adds nothing. No
-- patient data (no account or person). Safe to run again: nothing is dropped. Runs inside one transaction.

CREATE TABLE IF NOT EXISTS gate_decision (
    event_id  TEXT NOT NULL,
    seq       INTEGER NOT NULL,
    facility  TEXT NOT NULL,
    day       DATE NOT NULL,
    action    TEXT NOT NULL,
    channel   TEXT NULL,
    verdict   TEXT NOT NULL,      -- allow | deny | defer
    rule      TEXT NOT NULL,
    PRIMARY KEY (event_id, seq)
);
CREATE INDEX IF NOT EXISTS ix_gate_decision_day ON gate_decision (facility, day);
