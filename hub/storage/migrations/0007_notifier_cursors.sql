-- Where each notifier has got to in the audit log, so a restart resumes delivery
-- instead of skipping or repeating events.
CREATE TABLE notifier_cursors (
    name           text PRIMARY KEY,
    last_event_id  bigint NOT NULL,
    updated_at     timestamptz NOT NULL DEFAULT now()
);
