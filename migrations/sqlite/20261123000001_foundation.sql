-- Apps (tenants) and their tokens. Tokens are stored only as SHA-256 hashes.
CREATE TABLE apps (
    id          BLOB PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE,
    created_at  TEXT NOT NULL
);

CREATE TABLE app_tokens (
    token_hash  TEXT PRIMARY KEY,
    app_id      BLOB NOT NULL REFERENCES apps (id) ON DELETE CASCADE,
    created_at  TEXT NOT NULL
);

CREATE TABLE accounts (
    id               BLOB PRIMARY KEY,
    app_id           BLOB NOT NULL REFERENCES apps (id) ON DELETE CASCADE,
    name             TEXT NOT NULL,
    provider         TEXT NOT NULL,
    sender           TEXT NOT NULL,
    credentials      TEXT NOT NULL,
    rate_per_second  INTEGER NOT NULL,
    concurrency      INTEGER NOT NULL,
    daily_cap        INTEGER,
    base_url         TEXT,
    created_at       TEXT NOT NULL,
    updated_at       TEXT NOT NULL,
    UNIQUE (app_id, name)
);

CREATE TABLE templates (
    id          BLOB PRIMARY KEY,
    app_id      BLOB NOT NULL REFERENCES apps (id) ON DELETE CASCADE,
    account_id  BLOB NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    name        TEXT NOT NULL,
    language    TEXT NOT NULL,
    status      TEXT NOT NULL,
    definition  TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL,
    UNIQUE (account_id, name, language)
);

-- Progress counters live on the campaign row and change in the same transaction as the rows they count.
CREATE TABLE campaigns (
    id              BLOB PRIMARY KEY,
    app_id          BLOB NOT NULL REFERENCES apps (id) ON DELETE CASCADE,
    account_id      BLOB NOT NULL REFERENCES accounts (id) ON DELETE RESTRICT,
    name            TEXT NOT NULL,
    status          TEXT NOT NULL,
    template_name   TEXT,
    language        TEXT,
    scheduled_at    TEXT,
    started_at      TEXT,
    finished_at     TEXT,
    pause_reason    TEXT,
    failure_reason  TEXT,
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL,
    n_rows          INTEGER NOT NULL DEFAULT 0,
    n_accepted      INTEGER NOT NULL DEFAULT 0,
    n_rejected      INTEGER NOT NULL DEFAULT 0,
    n_pending       INTEGER NOT NULL DEFAULT 0,
    n_queued        INTEGER NOT NULL DEFAULT 0,
    n_sending       INTEGER NOT NULL DEFAULT 0,
    n_sent          INTEGER NOT NULL DEFAULT 0,
    n_delivered     INTEGER NOT NULL DEFAULT 0,
    n_read          INTEGER NOT NULL DEFAULT 0,
    n_failed        INTEGER NOT NULL DEFAULT 0,
    n_cancelled     INTEGER NOT NULL DEFAULT 0,
    n_suppressed    INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX campaigns_by_app ON campaigns (app_id, id);

CREATE TABLE messages (
    id                   BLOB PRIMARY KEY,
    app_id               BLOB NOT NULL REFERENCES apps (id) ON DELETE CASCADE,
    campaign_id          BLOB REFERENCES campaigns (id) ON DELETE CASCADE,
    account_id           BLOB NOT NULL REFERENCES accounts (id) ON DELETE RESTRICT,
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
CREATE INDEX messages_by_campaign ON messages (campaign_id, id);
CREATE INDEX messages_by_campaign_status ON messages (campaign_id, status, id);
CREATE UNIQUE INDEX messages_by_provider_id ON messages (account_id, provider_message_id)
    WHERE provider_message_id IS NOT NULL;

-- One rejection per input row: a re-run of an ingestion cannot store a row twice.
CREATE TABLE rejections (
    campaign_id  BLOB NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
    row_number   INTEGER NOT NULL,
    column_name  TEXT,
    code         TEXT NOT NULL,
    message      TEXT NOT NULL,
    PRIMARY KEY (campaign_id, row_number)
);
