-- Provider webhooks as received, for audit; deleted after the retention period.
CREATE TABLE webhook_events (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id   BLOB NOT NULL,
    provider     TEXT NOT NULL,
    received_at  TEXT NOT NULL,
    outcome      TEXT NOT NULL,
    body         TEXT NOT NULL
);
CREATE INDEX webhook_events_by_time ON webhook_events (received_at);
