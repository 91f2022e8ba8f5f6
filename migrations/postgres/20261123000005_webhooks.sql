-- Provider webhooks as received, for audit; deleted after the retention period.
CREATE TABLE webhook_events (
    id           BIGSERIAL PRIMARY KEY,
    account_id   UUID NOT NULL,
    provider     TEXT NOT NULL,
    received_at  TIMESTAMPTZ NOT NULL,
    outcome      TEXT NOT NULL,
    body         TEXT NOT NULL
);
CREATE INDEX webhook_events_by_time ON webhook_events (received_at);
