-- Supervisors' portfolio KPIs: one row per account with what it contributes (balances, aging basis, patient
-- responsibility and payments, promises, placement) and its gross charges by effective date. Each account grain
-- keeps its rows current at the end of every cadence run (group commit); GET /api/kpis sums them.
-- Amounts are integer cents; balances are signed. Safe to run again: nothing is dropped.

CREATE TABLE IF NOT EXISTS account_kpi (
    facility                     TEXT NOT NULL,
    account_number               TEXT NOT NULL,
    patient_balance_cents        INTEGER NOT NULL,   -- signed: negative when the patient paid more than their share
    insurance_balance_cents      INTEGER NOT NULL,   -- signed
    credit_balance_cents         INTEGER NOT NULL,   -- owed back when the whole balance is negative; 0 otherwise
    aging_basis_date             TEXT NULL,          -- yyyy-MM-dd: first patient statement, else earliest service date, else opening
    patient_responsibility_cents INTEGER NOT NULL,   -- patient charges + transfers to the patient - transfers back
    patient_paid_cents           INTEGER NOT NULL,   -- patient payments - refunds to the patient
    promises_kept                INTEGER NOT NULL,
    promises_broken              INTEGER NOT NULL,
    placed_with_agency           INTEGER NOT NULL,   -- 1: placed and not recalled
    updated_at                   TEXT NOT NULL,
    PRIMARY KEY (facility, account_number)
);

CREATE TABLE IF NOT EXISTS account_kpi_charge (
    facility       TEXT NOT NULL,
    account_number TEXT NOT NULL,
    effective_date TEXT NOT NULL,        -- yyyy-MM-dd
    amount_cents   INTEGER NOT NULL,     -- gross charges that day, reversed charges left out
    PRIMARY KEY (facility, account_number, effective_date)
);
CREATE INDEX IF NOT EXISTS ix_account_kpi_charge_date ON account_kpi_charge (facility, effective_date);
