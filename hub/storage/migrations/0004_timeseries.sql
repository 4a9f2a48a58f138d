-- Time series. Plain tables with time indexes here; `hub.storage.timescale` turns
-- them into hypertables where the timescaledb extension is available. No primary
-- keys or unique indexes without the time column: hypertables require it.

CREATE TABLE patrol_positions (
    patrol_id    text NOT NULL,
    ts           timestamptz NOT NULL,
    lat          double precision NOT NULL,
    lon          double precision NOT NULL,
    accuracy_m   real,
    speed_mps    real,
    heading_deg  real,
    battery_pct  real,
    source       text NOT NULL DEFAULT 'native'
);
CREATE INDEX patrol_positions_patrol_ts_idx ON patrol_positions (patrol_id, ts DESC);
CREATE INDEX patrol_positions_ts_idx ON patrol_positions (ts DESC);

CREATE TABLE alerts (
    id            bigint GENERATED ALWAYS AS IDENTITY,
    ts            timestamptz NOT NULL,
    kind          text NOT NULL,
    camera_id     text,
    sensor_id     text,
    confidence    real,
    case_id       bigint,
    details       jsonb NOT NULL DEFAULT '{}',
    PRIMARY KEY (id, ts)
);
CREATE INDEX alerts_ts_idx ON alerts (ts DESC);
CREATE INDEX alerts_camera_ts_idx ON alerts (camera_id, ts DESC);

CREATE TABLE camera_health (
    camera_id         text NOT NULL,
    ts                timestamptz NOT NULL,
    online            boolean NOT NULL,
    fps_in            real,
    fps_out           real,
    dropped_frames    bigint,
    last_frame_age_s  real
);
CREATE INDEX camera_health_camera_ts_idx ON camera_health (camera_id, ts DESC);
