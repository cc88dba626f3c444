-- Supervisors' KPI trends: the portfolio's figures per facility (and '*' for all) per day, as JSON (the same figures
-- GET /api/kpis answers). Today's row is rewritten through the day from the KPI projection's current totals; earlier
-- rows are the day's last. source says who wrote it: 'live', or 'backfill' (rebuilt from the ledgers' history, never
-- over a live row). No patient data. Safe to run again: nothing is dropped. Runs inside one transaction.

CREATE TABLE IF NOT EXISTS kpi_daily (
    facility   TEXT NOT NULL,          -- facility code, or '*' for every facility
    day        DATE NOT NULL,          -- UTC
    figures    TEXT NOT NULL,          -- JSON
    source     TEXT NOT NULL,          -- live | backfill
    written_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (facility, day)
);
