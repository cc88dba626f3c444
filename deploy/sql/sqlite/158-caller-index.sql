-- How agents find someone calling in by last name and date of birth: each guarantor with an account, under a keyed
-- hash (HMAC with the engine's link key) of their date of birth and last name as the search compares it, so the
-- table holds no name or date. A projection of the accounts' committed facts (each names its guarantor), rebuilt from
-- the event log. Safe to run again: nothing is dropped.

CREATE TABLE IF NOT EXISTS caller_index (
    guarantor_id  TEXT NOT NULL PRIMARY KEY,
    search_key    TEXT NOT NULL          -- hex HMAC of "yyyy-MM-dd|lastnamekey"
);
CREATE INDEX IF NOT EXISTS ix_caller_index_key ON caller_index (search_key);
