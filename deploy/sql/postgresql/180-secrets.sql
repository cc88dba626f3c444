-- Secrets the engine makes for itself on first use (e.g. the key that signs the opt-out links in emails), so every
-- process sharing the database signs and verifies alike. Set Collections:Links:SigningKey to manage the key yourself.
CREATE TABLE IF NOT EXISTS collections_secret (
    name       TEXT NOT NULL PRIMARY KEY,
    value      TEXT NOT NULL,
    created_at TEXT NOT NULL
);
