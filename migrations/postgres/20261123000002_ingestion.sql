-- Ingestion: the campaign row is the durable job. A process claims it with a lease, stores rows in batches and
-- records the last stored row in the same transaction, so a crash resumes after that row without duplicates.
ALTER TABLE campaigns ADD COLUMN options          JSONB;
ALTER TABLE campaigns ADD COLUMN source           JSONB;
ALTER TABLE campaigns ADD COLUMN idempotency_key  TEXT;
ALTER TABLE campaigns ADD COLUMN ingested_rows    BIGINT NOT NULL DEFAULT 0;
ALTER TABLE campaigns ADD COLUMN ingest_owner     TEXT;
ALTER TABLE campaigns ADD COLUMN ingest_lease_until TIMESTAMPTZ;
CREATE UNIQUE INDEX campaigns_by_idempotency_key ON campaigns (app_id, idempotency_key)
    WHERE idempotency_key IS NOT NULL;
CREATE INDEX campaigns_ingesting ON campaigns (status) WHERE status = 'ingesting';

-- The uploaded file, in chunks, until its ingestion ends: every process can read it, whichever took the upload.
CREATE TABLE uploads (
    campaign_id  UUID NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
    seq          BIGINT NOT NULL,
    data         BYTEA NOT NULL,
    PRIMARY KEY (campaign_id, seq)
);

-- Accounts may name the language rows without a languageCode take, and the country of national numbers.
ALTER TABLE accounts ADD COLUMN default_language TEXT;
ALTER TABLE accounts ADD COLUMN default_region   TEXT;

-- Opted-out numbers, per app.
CREATE TABLE optouts (
    app_id      UUID NOT NULL REFERENCES apps (id) ON DELETE CASCADE,
    phone       TEXT NOT NULL,
    source      TEXT NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (app_id, phone)
);
