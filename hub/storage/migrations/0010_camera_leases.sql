-- Several hub instances may share one database: each heartbeats here, and a camera
-- runs on the instance holding its lease (hub/cameras/leases.py). Times are the
-- database's own clock, so instances on hosts with skewed clocks agree on expiry.
CREATE TABLE hub_instances (
    instance_id   text PRIMARY KEY,
    host_key      text NOT NULL,          -- hostname + pid namespace: where `pid` means something
    pid           integer NOT NULL,
    started_at    timestamptz NOT NULL DEFAULT now(),
    heartbeat_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE camera_leases (
    camera_id    text PRIMARY KEY REFERENCES cameras (id) ON DELETE CASCADE,
    holder       text NOT NULL,
    acquired_at  timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz NOT NULL
);
CREATE INDEX camera_leases_holder ON camera_leases (holder);
