-- The site: grid hierarchy, patrols, cameras, sensors. Synced from the site file;
-- cameras may also be added through the API.

CREATE TABLE grids (
    id          text PRIMARY KEY,
    name        text NOT NULL,
    level       text NOT NULL CHECK (level IN ('street', 'community', 'grid', 'micro_grid')),
    parent_id   text REFERENCES grids (id) DEFERRABLE INITIALLY DEFERRED,
    geometry    jsonb NOT NULL,
    leader      text,
    updated_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX grids_parent_idx ON grids (parent_id);

CREATE TABLE patrols (
    id                text PRIMARY KEY,
    name              text NOT NULL,
    grid_id           text NOT NULL REFERENCES grids (id),
    enabled           boolean NOT NULL DEFAULT true,
    phone             text,
    owntracks_user    text,
    owntracks_device  text,
    duty_status       text NOT NULL DEFAULT 'off_duty'
                      CHECK (duty_status IN ('on_duty', 'off_duty', 'busy')),
    updated_at        timestamptz NOT NULL DEFAULT now(),
    UNIQUE (owntracks_user, owntracks_device)
);

CREATE TABLE cameras (
    id            text PRIMARY KEY,
    name          text NOT NULL,
    source_url    text NOT NULL,          -- may hold credentials: never returned by the API
    source_kind   text NOT NULL,
    lat           double precision NOT NULL,
    lon           double precision NOT NULL,
    grid_id       text REFERENCES grids (id),
    enabled       boolean NOT NULL DEFAULT true,
    analysis_fps  double precision NOT NULL DEFAULT 5,
    zones         jsonb NOT NULL DEFAULT '[]',
    detectors     jsonb NOT NULL DEFAULT '[]',
    updated_at    timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE sensors (
    id          text PRIMARY KEY,
    name        text NOT NULL,
    type        text NOT NULL,
    lat         double precision NOT NULL,
    lon         double precision NOT NULL,
    grid_id     text REFERENCES grids (id),
    threshold   double precision,
    debounce_s  double precision NOT NULL DEFAULT 0,
    updated_at  timestamptz NOT NULL DEFAULT now()
);
