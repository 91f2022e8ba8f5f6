-- Ingestion: the campaign row is the durable job. A process claims it with a lease, stores rows in batches and
-- records the last stored row in the same transaction, so a crash resumes after that row without duplicates.
ALTER TABLE campaigns ADD COLUMN options          TEXT;
ALTER TABLE campaigns ADD COLUMN source           TEXT;
ALTER TABLE campaigns ADD COLUMN idempotency_key  TEXT;
ALTER TABLE campaigns ADD COLUMN ingested_rows    INTEGER NOT NULL DEFAULT 0;
ALTER TABLE campaigns ADD COLUMN ingest_owner     TEXT;
ALTER TABLE campaigns ADD COLUMN ingest_lease_until TEXT;
CREATE UNIQUE INDEX campaigns_by_idempotency_key ON campaigns (app_id, idempotency_key)
    WHERE idempotency_key IS NOT NULL;
CREATE INDEX campaigns_ingesting ON campaigns (status) WHERE status = 'ingesting';

-- The uploaded file, in chunks, until its ingestion ends: every process can read it, whichever took the upload.
CREATE TABLE uploads (
    campaign_id  BLOB NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
    seq          INTEGER NOT NULL,
    data         BLOB NOT NULL,
    PRIMARY KEY (campaign_id, seq)
);

-- Accounts may name the language rows without a languageCode take, and the country of national numbers.
ALTER TABLE accounts ADD COLUMN default_language TEXT;
ALTER TABLE accounts ADD COLUMN default_region   TEXT;

-- Opted-out numbers, per app.
CREATE TABLE optouts (
    app_id      BLOB NOT NULL REFERENCES apps (id) ON DELETE CASCADE,
    phone       TEXT NOT NULL,
    source      TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    PRIMARY KEY (app_id, phone)
);
