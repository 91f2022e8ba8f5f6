-- Sending. Messages are claimed straight from this table: `owner` is the sender process holding a message
-- (`queued` = claimed, `sending` = its request is in flight), `not_before` holds back a retry or a message whose
-- send window is closed, `failure_kind` says whether `retry-failed` may try a failed message again.
ALTER TABLE messages ADD COLUMN owner TEXT;
ALTER TABLE messages ADD COLUMN not_before TEXT;
ALTER TABLE messages ADD COLUMN last_attempt_at TEXT;
ALTER TABLE messages ADD COLUMN failure_kind TEXT;
CREATE INDEX messages_owned ON messages (owner) WHERE owner IS NOT NULL;
-- Single sends (no campaign) are claimed per account.
CREATE INDEX messages_single ON messages (account_id, status, id) WHERE campaign_id IS NULL;

-- A campaign's own rate cap and send window; `next_send_at` paces it under its cap.
ALTER TABLE campaigns ADD COLUMN rate_cap INTEGER;
ALTER TABLE campaigns ADD COLUMN send_window TEXT;
ALTER TABLE campaigns ADD COLUMN next_send_at TEXT;
CREATE INDEX campaigns_active ON campaigns (status, scheduled_at) WHERE status IN ('scheduled', 'running');

-- The account's rate across every process: sends are reserved in time slots that never overlap (`next_send_at` is
-- the end of the last reservation), and counted per UTC day against the daily cap.
ALTER TABLE accounts ADD COLUMN next_send_at TEXT;
ALTER TABLE accounts ADD COLUMN day_start TEXT;
ALTER TABLE accounts ADD COLUMN day_sent INTEGER NOT NULL DEFAULT 0;

-- Sender processes and their heartbeats: the messages of a process that stopped beating are recovered.
CREATE TABLE senders (
    id            TEXT PRIMARY KEY,
    started_at    TEXT NOT NULL,
    heartbeat_at  TEXT NOT NULL
);
