-- Apps (tenants) and their tokens. Tokens are stored only as SHA-256 hashes.
CREATE TABLE apps (
    id          UUID PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE,
    created_at  TIMESTAMPTZ NOT NULL
);

CREATE TABLE app_tokens (
    token_hash  TEXT PRIMARY KEY,
    app_id      UUID NOT NULL REFERENCES apps (id) ON DELETE CASCADE,
    created_at  TIMESTAMPTZ NOT NULL
);

CREATE TABLE accounts (
    id               UUID PRIMARY KEY,
    app_id           UUID NOT NULL REFERENCES apps (id) ON DELETE CASCADE,
    name             TEXT NOT NULL,
    provider         TEXT NOT NULL,
    sender           TEXT NOT NULL,
    credentials      TEXT NOT NULL,
    rate_per_second  BIGINT NOT NULL,
    concurrency      BIGINT NOT NULL,
    daily_cap        BIGINT,
    base_url         TEXT,
    created_at       TIMESTAMPTZ NOT NULL,
    updated_at       TIMESTAMPTZ NOT NULL,
    UNIQUE (app_id, name)
);

CREATE TABLE templates (
    id          UUID PRIMARY KEY,
    app_id      UUID NOT NULL REFERENCES apps (id) ON DELETE CASCADE,
    account_id  UUID NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    name        TEXT NOT NULL,
    language    TEXT NOT NULL,
    status      TEXT NOT NULL,
    definition  JSONB NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL,
    UNIQUE (account_id, name, language)
);

-- Progress counters live on the campaign row and change in the same transaction as the rows they count.
CREATE TABLE campaigns (
    id              UUID PRIMARY KEY,
    app_id          UUID NOT NULL REFERENCES apps (id) ON DELETE CASCADE,
    account_id      UUID NOT NULL REFERENCES accounts (id) ON DELETE RESTRICT,
    name            TEXT NOT NULL,
    status          TEXT NOT NULL,
    template_name   TEXT,
    language        TEXT,
    scheduled_at    TIMESTAMPTZ,
    started_at      TIMESTAMPTZ,
    finished_at     TIMESTAMPTZ,
    pause_reason    TEXT,
    failure_reason  TEXT,
    created_at      TIMESTAMPTZ NOT NULL,
    updated_at      TIMESTAMPTZ NOT NULL,
    n_rows          BIGINT NOT NULL DEFAULT 0,
    n_accepted      BIGINT NOT NULL DEFAULT 0,
    n_rejected      BIGINT NOT NULL DEFAULT 0,
    n_pending       BIGINT NOT NULL DEFAULT 0,
    n_queued        BIGINT NOT NULL DEFAULT 0,
    n_sending       BIGINT NOT NULL DEFAULT 0,
    n_sent          BIGINT NOT NULL DEFAULT 0,
    n_delivered     BIGINT NOT NULL DEFAULT 0,
    n_read          BIGINT NOT NULL DEFAULT 0,
    n_failed        BIGINT NOT NULL DEFAULT 0,
    n_cancelled     BIGINT NOT NULL DEFAULT 0,
    n_suppressed    BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX campaigns_by_app ON campaigns (app_id, id);

CREATE TABLE messages (
    id                   UUID PRIMARY KEY,
    app_id               UUID NOT NULL REFERENCES apps (id) ON DELETE CASCADE,
    campaign_id          UUID REFERENCES campaigns (id) ON DELETE CASCADE,
    account_id           UUID NOT NULL REFERENCES accounts (id) ON DELETE RESTRICT,
    row_number           BIGINT,
    phone                TEXT NOT NULL,
    template_name        TEXT NOT NULL,
    language             TEXT NOT NULL,
    params               JSONB NOT NULL,
    rendered_text        TEXT,
    flag                 TEXT,
    status               TEXT NOT NULL,
    provider_message_id  TEXT,
    error_code           TEXT,
    error_message        TEXT,
    attempts             BIGINT NOT NULL DEFAULT 0,
    created_at           TIMESTAMPTZ NOT NULL,
    updated_at           TIMESTAMPTZ NOT NULL,
    sent_at              TIMESTAMPTZ,
    delivered_at         TIMESTAMPTZ,
    read_at              TIMESTAMPTZ,
    failed_at            TIMESTAMPTZ
);
CREATE INDEX messages_by_campaign ON messages (campaign_id, id);
CREATE INDEX messages_by_campaign_status ON messages (campaign_id, status, id);
CREATE UNIQUE INDEX messages_by_provider_id ON messages (account_id, provider_message_id)
    WHERE provider_message_id IS NOT NULL;

-- One rejection per input row: a re-run of an ingestion cannot store a row twice.
CREATE TABLE rejections (
    campaign_id  UUID NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
    row_number   BIGINT NOT NULL,
    column_name  TEXT,
    code         TEXT NOT NULL,
    message      TEXT NOT NULL,
    PRIMARY KEY (campaign_id, row_number)
);
