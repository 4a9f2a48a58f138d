-- Case search (GET /api/search/cases): each filter of the history view has an index that
-- also gives the newest-first order (id DESC), so a page of a 10,000+-case history is an
-- index range scan, not a sort of the table.
CREATE INDEX IF NOT EXISTS cases_state_id_idx ON cases (state, id DESC);
CREATE INDEX IF NOT EXISTS cases_kind_id_idx ON cases (kind, id DESC);
CREATE INDEX IF NOT EXISTS cases_grid_id_idx ON cases (grid_id, id DESC);
CREATE INDEX IF NOT EXISTS cases_camera_id_idx ON cases (camera_id, id DESC);
CREATE INDEX IF NOT EXISTS cases_opened_at_idx ON cases (opened_at);
