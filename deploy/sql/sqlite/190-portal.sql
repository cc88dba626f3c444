-- Payment links in statements, emails and texts (the self-service page): a random, signed code per message that
-- names one guarantor and expires. The URL carries the code only, never a name or an account number.
CREATE TABLE IF NOT EXISTS portal_link (
    code         TEXT NOT NULL PRIMARY KEY,
    guarantor_id TEXT NOT NULL,
    message_id   TEXT NULL UNIQUE,
    created_at   BIGINT NOT NULL,   -- unix seconds
    expires_at   BIGINT NOT NULL    -- unix seconds
);
CREATE INDEX IF NOT EXISTS ix_portal_link_guarantor ON portal_link (guarantor_id);

-- A vendor's status callback names its own message id (Twilio's MessageSid): find the outbox message by it.
CREATE INDEX IF NOT EXISTS ix_outreach_outbox_provider ON outreach_outbox (provider_message_id);
