-- A sender whose transport takes few messages at once on a channel (an SMTP relay that allows three connections)
-- claims each channel's due messages apart, up to the room its transport has left: each from the start of its own
-- range here, so a backlog of one channel is never walked to reach another's. Pending messages only: a message leaves
-- this index when it is claimed, and a sent one is never in it.
CREATE INDEX IF NOT EXISTS ix_outreach_outbox_pending_channel ON outreach_outbox (channel, next_attempt_at, id) WHERE status = 'pending';
