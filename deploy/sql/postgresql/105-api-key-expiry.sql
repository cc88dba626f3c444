-- When an API key stops working; a key without a row here does not expire. A table of its own, so that the scripts
-- stay idempotent on every database (SQLite cannot add a column only where it is missing).
CREATE TABLE IF NOT EXISTS collections_api_key_expiry (
    key_id     TEXT PRIMARY KEY REFERENCES collections_api_key (key_id),
    expires_at TIMESTAMPTZ NOT NULL
);
