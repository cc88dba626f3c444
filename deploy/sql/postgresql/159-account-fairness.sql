-- Each account's figures for the fairness report: its guarantor's language (ISO 639-1) and the median-income band of
-- their ZIP code area (a band such as "$40k-60k" or "unknown", never the ZIP), its current score, and the outreach it
-- has had (contacts beyond statements, and agents' outbound calls). Written with the account's KPI row by the KPI
-- projection; rebuilt with it from the event log. The report shows groups only, and no figures for small groups.
-- Safe to run again: nothing is dropped. Runs inside one transaction.

CREATE TABLE IF NOT EXISTS account_fairness (
    facility          TEXT NOT NULL,
    account_number    TEXT NOT NULL,
    language          TEXT NOT NULL,
    income_band       TEXT NOT NULL,
    score             DOUBLE PRECISION,
    outreach_contacts INTEGER NOT NULL,
    calls             INTEGER NOT NULL,
    PRIMARY KEY (facility, account_number)
);
