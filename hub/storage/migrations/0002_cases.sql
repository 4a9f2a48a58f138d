-- Grid cases (网格事件), their append-only audit log, and the dispatch outbox.

CREATE TABLE cases (
    id                bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind              text NOT NULL,
    state             text NOT NULL CHECK (state IN ('reported', 'accepted', 'dispatched',
                          'arrived', 'resolved', 'closed', 'evaluated', 'rejected', 'escalated')),
    severity          smallint NOT NULL DEFAULT 2 CHECK (severity BETWEEN 1 AND 4),
    grid_id           text REFERENCES grids (id),
    camera_id         text,
    sensor_id         text,
    lat               double precision,
    lon               double precision,
    title             text NOT NULL,
    details           jsonb NOT NULL DEFAULT '{}',
    dedupe_key        text,
    escalation_level  smallint NOT NULL DEFAULT 0,
    opened_at         timestamptz NOT NULL,
    updated_at        timestamptz NOT NULL,
    accept_deadline   timestamptz,
    arrive_deadline   timestamptz
);
CREATE INDEX cases_state_idx ON cases (state, opened_at DESC);
CREATE INDEX cases_grid_idx ON cases (grid_id, opened_at DESC);
-- At most one open case per de-duplication key.
CREATE UNIQUE INDEX cases_open_dedupe_idx ON cases (dedupe_key)
    WHERE dedupe_key IS NOT NULL
      AND state NOT IN ('closed', 'evaluated', 'rejected');

CREATE TABLE case_events (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    case_id     bigint NOT NULL REFERENCES cases (id),
    at          timestamptz NOT NULL,
    actor       text NOT NULL,
    action      text NOT NULL,
    from_state  text,
    to_state    text NOT NULL,
    note        text
);
CREATE INDEX case_events_case_idx ON case_events (case_id, id);

-- The audit log is append-only: the database itself refuses edits and deletions.
CREATE FUNCTION case_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'case_events is append-only (% refused)', TG_OP;
END;
$$;
CREATE TRIGGER case_events_no_update BEFORE UPDATE OR DELETE ON case_events
    FOR EACH ROW EXECUTE FUNCTION case_events_append_only();
CREATE TRIGGER case_events_no_truncate BEFORE TRUNCATE ON case_events
    FOR EACH STATEMENT EXECUTE FUNCTION case_events_append_only();

CREATE TABLE dispatches (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    case_id       bigint NOT NULL REFERENCES cases (id),
    patrol_id     text NOT NULL REFERENCES patrols (id),
    attempt       smallint NOT NULL,
    state         text NOT NULL CHECK (state IN ('pending', 'sent', 'accepted', 'declined',
                      'expired', 'arrived', 'resolved', 'cancelled')),
    payload       jsonb NOT NULL,
    created_at    timestamptz NOT NULL,
    published_at  timestamptz,
    deadline      timestamptz NOT NULL,
    answered_at   timestamptz,
    UNIQUE (case_id, attempt)
);
-- The outbox: dispatches waiting to be (re)published.
CREATE INDEX dispatches_outbox_idx ON dispatches (created_at) WHERE state IN ('pending', 'sent');
-- Nothing is dispatched twice: one live dispatch per case.
CREATE UNIQUE INDEX dispatches_one_live_idx ON dispatches (case_id)
    WHERE state IN ('pending', 'sent', 'accepted', 'arrived');
