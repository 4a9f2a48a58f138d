-- Dispatch rules the database enforces, whatever the code does: a patrol works on
-- one case at a time, so two hubs cannot hand the same patrol two cases at once.
CREATE UNIQUE INDEX dispatches_one_live_per_patrol_idx ON dispatches (patrol_id)
    WHERE state IN ('pending', 'sent', 'accepted', 'arrived');
-- Finding dispatches whose accept deadline has passed.
CREATE INDEX dispatches_deadline_idx ON dispatches (deadline) WHERE state IN ('pending', 'sent');
ALTER TABLE dispatches ADD COLUMN note text;
