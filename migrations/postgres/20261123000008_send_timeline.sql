-- campaign_sends rows are now kept for days (`send_timeline_retention_days`) to draw each campaign's sends over
-- time; the periodic purge by age needs its own index rather than a scan of the whole table.
CREATE INDEX campaign_sends_by_second ON campaign_sends (second);
