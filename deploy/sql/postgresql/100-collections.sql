-- The engine's own tables (not Orleans'): the audit trail and API keys. Safe to run again: nothing is dropped.

-- Every read and change of a guarantor or account: who, what, when, from where. Append-only.
CREATE TABLE IF NOT EXISTS collections_audit_event (
    id             BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    occurred_at    TIMESTAMPTZ NOT NULL,
    actor          TEXT NOT NULL,      -- API key id or system process, never a person's name
    actor_role     TEXT NOT NULL,
    action         TEXT NOT NULL,      -- e.g. account.read, account.entry.post
    resource_type  TEXT NOT NULL,      -- guarantor | account | api-key
    resource_id    TEXT NOT NULL,
    outcome        TEXT NOT NULL,      -- ok | refused:<code> | denied
    client_address TEXT NULL,
    correlation_id TEXT NULL,
    detail         TEXT NULL           -- ids and amounts only, never PHI
);
CREATE INDEX IF NOT EXISTS ix_collections_audit_resource ON collections_audit_event (resource_type, resource_id, id);
CREATE INDEX IF NOT EXISTS ix_collections_audit_time ON collections_audit_event (occurred_at);

-- API keys: only a hash of the secret is kept.
CREATE TABLE IF NOT EXISTS collections_api_key (
    key_id      TEXT PRIMARY KEY,
    secret_hash TEXT NOT NULL,
    name        TEXT NOT NULL,
    role        TEXT NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL,
    created_by  TEXT NOT NULL,
    revoked_at  TIMESTAMPTZ NULL
);
