-- Outbound callbacks: an app's URL and signing secret, and a durable outbox of events to POST there.
ALTER TABLE apps ADD COLUMN callback_url TEXT;
ALTER TABLE apps ADD COLUMN callback_secret TEXT;

-- One row per event. `next_at` is when it may be (re)tried; NULL once delivered or given up. A claim moves
-- `next_at` past a lease, so no other process takes the row while it is being delivered.
CREATE TABLE callbacks (
    id            BLOB PRIMARY KEY,
    app_id        BLOB NOT NULL REFERENCES apps (id) ON DELETE CASCADE,
    event         TEXT NOT NULL,
    attempts      INTEGER NOT NULL DEFAULT 0,
    next_at       TEXT,
    created_at    TEXT NOT NULL,
    delivered_at  TEXT,
    last_error    TEXT
);
CREATE INDEX callbacks_due ON callbacks (next_at) WHERE next_at IS NOT NULL;
CREATE INDEX callbacks_by_time ON callbacks (created_at);

-- A reply without context is matched to the last message the account sent to that number. Partial: rows enter it
-- when they are sent, not when a campaign is stored.
CREATE INDEX messages_sent_by_phone ON messages (account_id, phone, sent_at) WHERE sent_at IS NOT NULL;
