-- Acknowledge MQTT messages after commit (issue #14): the broker redelivers whatever
-- the hub had not committed when it died, so a message may arrive twice and must be
-- stored once. Unique indexes hold the time column, as hypertables require.
--
-- A patrol fix is identified by its patrol and its time.
-- A sensor's alert (and a spooled camera alert) by `source_ref` and its time: the
-- sensor, and alarm or clearing; the spool's id for a camera alert.
ALTER TABLE alerts ADD COLUMN IF NOT EXISTS source_ref text;

-- `case_id` finds a case's alerts (a scan of the table without it).
CREATE INDEX IF NOT EXISTS alerts_case_id_idx ON alerts (case_id);

-- Older histories may hold a fix twice (OwnTracks retained fixes were stored again at
-- each reconnect): keep one. Both copies share a time, hence a chunk on TimescaleDB.
-- A TimescaleDB that cannot change compressed chunks or index them uniquely keeps the
-- old index and stores a redelivered fix twice; the migration still succeeds.
DO $$
BEGIN
    DELETE FROM patrol_positions a USING patrol_positions b
    WHERE a.patrol_id = b.patrol_id AND a.ts = b.ts AND a.ctid > b.ctid
      AND a.tableoid = b.tableoid;
    CREATE UNIQUE INDEX patrol_positions_patrol_ts_key ON patrol_positions (patrol_id, ts DESC);
    DROP INDEX IF EXISTS patrol_positions_patrol_ts_idx;
    CREATE UNIQUE INDEX alerts_source_ref_ts_key ON alerts (source_ref, ts)
        WHERE source_ref IS NOT NULL;
EXCEPTION WHEN feature_not_supported OR object_not_in_prerequisite_state THEN
    RAISE NOTICE 'redelivered messages may be stored twice on this TimescaleDB: %', SQLERRM;
END
$$;
