-- 待上传队列: what the sync pass asks of the outbox every round, answered without reading every
-- queued change. Counting the changes still to send, or finding the roster's among them, read
-- every row to its `quarantined` column, which lies past the change's bytes (on overflow pages
-- for a large change): a 10,000-change upload read the whole queue again every round.
CREATE INDEX outbox_waiting ON outbox (quarantined, kind);
