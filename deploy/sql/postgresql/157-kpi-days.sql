-- What each account adds to the supervisors' daily figures: cash by channel, agency placements and recalls, paid in
-- full (count = days from the first statement), a credit balance's refund deadline, and each agent's work (calls,
-- contacts, promises made and kept, plans, dollars collected after a contact, handle seconds). Written with the
-- account's KPI row (replaced whole when its facts change) by the KPI projection; rebuilt with it from the event log.
-- Subject: the payment channel or the agent's key id (never a name); empty when none. Amounts in hundredths
-- (cents; for handle time, hundredths of a second). Safe to run again: nothing is dropped. Runs inside one transaction.

CREATE TABLE IF NOT EXISTS account_kpi_day (
    facility       TEXT NOT NULL,
    account_number TEXT NOT NULL,
    measure        TEXT NOT NULL,        -- cash | placed | recalled | paidInFull | refundDue | agentCalls | ...
    day            DATE NOT NULL,        -- UTC
    subject        TEXT NOT NULL,
    amount_cents   BIGINT NOT NULL,
    quantity       INTEGER NOT NULL,     -- how many (for paidInFull: days from the first statement)
    PRIMARY KEY (facility, account_number, measure, day, subject)
);
CREATE INDEX IF NOT EXISTS ix_account_kpi_day_measure ON account_kpi_day (measure, day);
