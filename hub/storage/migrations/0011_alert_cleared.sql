-- A clearing alert (the fire lane is free again, a sensor reads normal again) was
-- stored as its kind with a `_cleared` suffix. It keeps its real kind now and says
-- what it is in `cleared`. A constant default with NOT NULL is a catalog-only change
-- on PostgreSQL, and TimescaleDB (2.6 on) allows it on a compressed hypertable.
ALTER TABLE alerts ADD COLUMN cleared boolean NOT NULL DEFAULT false;

-- Earlier rows: split the suffix off. TimescaleDB before 2.11 cannot update rows in
-- compressed chunks; there the old rows keep the suffixed kind, which reads the same
-- (hub/storage/alert_repo.py: the label of a row is kind + `_cleared` when cleared),
-- so the migration goes on rather than leave the hub unable to start.
DO $$
BEGIN
    UPDATE alerts SET kind = left(kind, -length('_cleared')), cleared = true
    WHERE kind LIKE '%\_cleared' AND NOT cleared;
EXCEPTION WHEN feature_not_supported OR object_not_in_prerequisite_state THEN
    RAISE NOTICE 'alerts in compressed chunks keep their <kind>_cleared form: %', SQLERRM;
END
$$;
