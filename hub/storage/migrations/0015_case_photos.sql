-- Photos a patrol (or an operator) adds to a case as evidence: the file lies under
-- DATA_DIR/evidence/photos/, re-encoded as JPEG with its EXIF orientation applied.
CREATE TABLE IF NOT EXISTS case_photos (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    case_id     bigint NOT NULL REFERENCES cases (id),
    path        text NOT NULL,
    bytes       integer NOT NULL CHECK (bytes > 0),
    width       integer NOT NULL,
    height      integer NOT NULL,
    uploaded_by text NOT NULL,
    note        text,
    at          timestamptz NOT NULL
);
CREATE INDEX IF NOT EXISTS case_photos_case_idx ON case_photos (case_id, id);
