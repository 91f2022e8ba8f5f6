-- Sends per campaign per second, added by every process's recorder: the progress endpoint reads the campaign's
-- current rate from the last seconds without counting messages. Rows older than a few minutes are deleted.
CREATE TABLE campaign_sends (
    campaign_id  BLOB NOT NULL,
    second       INTEGER NOT NULL,
    sent         INTEGER NOT NULL,
    PRIMARY KEY (campaign_id, second)
);
