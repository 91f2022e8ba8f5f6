-- SQLite cannot drop a constraint: the table is rebuilt without its foreign keys (see the PostgreSQL file for why).
CREATE TABLE messages_new (
    id                   BLOB PRIMARY KEY,
    app_id               BLOB NOT NULL,
    campaign_id          BLOB,
    account_id           BLOB NOT NULL,
    row_number           INTEGER,
    phone                TEXT NOT NULL,
    template_name        TEXT NOT NULL,
    language             TEXT NOT NULL,
    params               TEXT NOT NULL,
    rendered_text        TEXT,
    flag                 TEXT,
    status               TEXT NOT NULL,
    provider_message_id  TEXT,
    error_code           TEXT,
    error_message        TEXT,
    attempts             INTEGER NOT NULL DEFAULT 0,
    created_at           TEXT NOT NULL,
    updated_at           TEXT NOT NULL,
    sent_at              TEXT,
    delivered_at         TEXT,
    read_at              TEXT,
    failed_at            TEXT
);
INSERT INTO messages_new SELECT id, app_id, campaign_id, account_id, row_number, phone, template_name, language, params,
    rendered_text, flag, status, provider_message_id, error_code, error_message, attempts, created_at, updated_at, sent_at,
    delivered_at, read_at, failed_at FROM messages;
DROP TABLE messages;
ALTER TABLE messages_new RENAME TO messages;
CREATE INDEX messages_by_campaign ON messages (campaign_id, id);
CREATE INDEX messages_by_campaign_status ON messages (campaign_id, status, id);
CREATE UNIQUE INDEX messages_by_provider_id ON messages (account_id, provider_message_id)
    WHERE provider_message_id IS NOT NULL;
