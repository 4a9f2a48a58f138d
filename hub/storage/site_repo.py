"""The site tables: writing the site file into the database and reading it back.

`sync_site` upserts every grid, patrol, camera and sensor of the site file in one
transaction, so a restart with an edited file updates the database; rows the
file does not name (cameras added through the API) are left alone. Grids come
first so references hold; a camera or sensor with no grid gets the one that
holds its location.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg.rows import class_row

from hub.config import Camera, Grid, Patrol, Sensor, SiteConfig
from hub.geo import GridIndex, GridShape
from hub.model import CameraInfo, GridInfo, PatrolInfo, SensorInfo
from hub.storage import rows

Conn = psycopg.Connection[Any]


def grid_index(grids: list[GridInfo]) -> GridIndex:
    """A point-in-grid index over stored grids."""
    return GridIndex(GridShape(g.id, g.level, g.geometry) for g in grids)


def sync_site(conn: Conn, site: SiteConfig) -> None:
    """Upsert the site file's grids, patrols, cameras and sensors in one transaction."""
    index = GridIndex(GridShape(g.id, g.level, g.geometry.model_dump()) for g in site.grids)
    with conn.transaction():
        for grid in site.grids:
            _upsert_grid(conn, grid)
        for patrol in site.patrols:
            _upsert_patrol(conn, patrol)
        for camera in site.cameras:
            grid_id = camera.grid or index.locate(camera.location.lat, camera.location.lon)
            _upsert_camera(conn, camera, grid_id)
        for sensor in site.sensors:
            grid_id = sensor.grid or index.locate(sensor.location.lat, sensor.location.lon)
            _upsert_sensor(conn, sensor, grid_id)


def sync_patrols(conn: Conn, site: SiteConfig) -> None:
    """Upsert only the site file's grids and patrols (what a patrol user refers to)."""
    with conn.transaction():
        for grid in site.grids:
            _upsert_grid(conn, grid)
        for patrol in site.patrols:
            _upsert_patrol(conn, patrol)


def _upsert_grid(conn: Conn, grid: Grid) -> None:
    row = grid.model_dump(include={"id", "name", "level", "parent", "leader"})
    row["geometry"] = _json(grid.geometry.model_dump())
    conn.execute(
        """INSERT INTO grids (id, name, level, parent_id, geometry, leader)
           VALUES (%(id)s, %(name)s, %(level)s, %(parent)s, %(geometry)s, %(leader)s)
           ON CONFLICT (id) DO UPDATE SET name = excluded.name, level = excluded.level,
               parent_id = excluded.parent_id, geometry = excluded.geometry,
               leader = excluded.leader, updated_at = now()""",
        row,
    )


def _upsert_patrol(conn: Conn, patrol: Patrol) -> None:
    row = patrol.model_dump(include={"id", "name", "grid", "enabled", "phone"})
    row["ot_user"] = patrol.owntracks.user if patrol.owntracks else None
    row["ot_device"] = patrol.owntracks.device if patrol.owntracks else None
    conn.execute(
        """INSERT INTO patrols (id, name, grid_id, enabled, phone, owntracks_user,
               owntracks_device)
           VALUES (%(id)s, %(name)s, %(grid)s, %(enabled)s, %(phone)s, %(ot_user)s,
               %(ot_device)s)
           ON CONFLICT (id) DO UPDATE SET name = excluded.name, grid_id = excluded.grid_id,
               enabled = excluded.enabled, phone = excluded.phone,
               owntracks_user = excluded.owntracks_user,
               owntracks_device = excluded.owntracks_device, updated_at = now()""",
        row,
    )


def _upsert_camera(conn: Conn, camera: Camera, grid_id: str | None) -> None:
    row = camera.model_dump(include={"id", "name", "enabled", "analysis_fps"})
    row |= {
        "url": camera.url.get_secret_value(),
        "kind": camera.source_kind,
        "lat": camera.location.lat,
        "lon": camera.location.lon,
        "grid_id": grid_id,
        "zones": _json([z.model_dump() for z in camera.zones]),
        "detectors": _json([d.model_dump() for d in camera.detectors]),
    }
    conn.execute(
        """INSERT INTO cameras (id, name, source_url, source_kind, lat, lon, grid_id, enabled,
               analysis_fps, zones, detectors)
           VALUES (%(id)s, %(name)s, %(url)s, %(kind)s, %(lat)s, %(lon)s, %(grid_id)s,
               %(enabled)s, %(analysis_fps)s, %(zones)s, %(detectors)s)
           ON CONFLICT (id) DO UPDATE SET name = excluded.name,
               source_url = excluded.source_url, source_kind = excluded.source_kind,
               lat = excluded.lat, lon = excluded.lon, grid_id = excluded.grid_id,
               enabled = excluded.enabled, analysis_fps = excluded.analysis_fps,
               zones = excluded.zones, detectors = excluded.detectors, updated_at = now()
           -- untouched when equal: updated_at moving restarts the camera's worker
           WHERE (cameras.name, cameras.source_url, cameras.source_kind, cameras.lat,
                  cameras.lon, cameras.grid_id, cameras.enabled, cameras.analysis_fps,
                  cameras.zones, cameras.detectors)
               IS DISTINCT FROM (excluded.name, excluded.source_url, excluded.source_kind,
                  excluded.lat, excluded.lon, excluded.grid_id, excluded.enabled,
                  excluded.analysis_fps, excluded.zones, excluded.detectors)""",
        row,
    )


def _upsert_sensor(conn: Conn, sensor: Sensor, grid_id: str | None) -> None:
    row = sensor.model_dump(include={"id", "name", "type", "threshold", "debounce_s"})
    row |= {"lat": sensor.location.lat, "lon": sensor.location.lon, "grid_id": grid_id}
    conn.execute(
        """INSERT INTO sensors (id, name, type, lat, lon, grid_id, threshold, debounce_s)
           VALUES (%(id)s, %(name)s, %(type)s, %(lat)s, %(lon)s, %(grid_id)s, %(threshold)s,
               %(debounce_s)s)
           ON CONFLICT (id) DO UPDATE SET name = excluded.name, type = excluded.type,
               lat = excluded.lat, lon = excluded.lon, grid_id = excluded.grid_id,
               threshold = excluded.threshold, debounce_s = excluded.debounce_s,
               updated_at = now()""",
        row,
    )


def _json(value: object) -> str:
    return json.dumps(value, ensure_ascii=False)


def list_grids(conn: Conn) -> list[GridInfo]:
    """Every grid, streets first."""
    with conn.cursor(row_factory=class_row(GridInfo)) as cur:
        return cur.execute(
            """SELECT id, name, level, parent_id, geometry, leader FROM grids
               ORDER BY array_position(ARRAY['street','community','grid','micro_grid'], level),
                        id"""
        ).fetchall()


def grid_exists(conn: Conn, grid_id: str) -> bool:
    return rows.exists(conn, "SELECT 1 FROM grids WHERE id = %s", (grid_id,))


def patrol_grid(conn: Conn, patrol_id: str | None) -> str | None:
    """The grid a patrol belongs to (None for none, or no such patrol)."""
    grid = rows.scalar(conn, "SELECT grid_id FROM patrols WHERE id = %s", (patrol_id,))
    return None if grid is None else str(grid)


def list_patrols(conn: Conn) -> list[PatrolInfo]:
    """Every registered patrol."""
    with conn.cursor(row_factory=class_row(PatrolInfo)) as cur:
        return cur.execute(
            """SELECT id, name, grid_id, enabled, duty_status, owntracks_user, owntracks_device
               FROM patrols ORDER BY id"""
        ).fetchall()


def list_cameras(conn: Conn) -> list[CameraInfo]:
    """Every camera, without its source URL."""
    with conn.cursor(row_factory=class_row(CameraInfo)) as cur:
        return cur.execute(
            """SELECT id, name, source_kind, lat, lon, grid_id, enabled, analysis_fps, zones,
                      detectors
               FROM cameras ORDER BY id"""
        ).fetchall()


def list_sensors(conn: Conn) -> list[SensorInfo]:
    """Every registered sensor."""
    with conn.cursor(row_factory=class_row(SensorInfo)) as cur:
        return cur.execute(
            "SELECT id, name, type, lat, lon, grid_id FROM sensors ORDER BY id"
        ).fetchall()


@dataclass(frozen=True, slots=True)
class Place:
    """Where a camera or sensor stands, and the grid it belongs to."""

    lat: float
    lon: float
    grid_id: str | None


def camera_place(conn: Conn, camera_id: str) -> Place | None:
    """A stored camera's place, or None for an unknown camera."""
    return rows.one(
        conn, Place, "SELECT lat, lon, grid_id FROM cameras WHERE id = %s", (camera_id,)
    )


def sensor_place(conn: Conn, sensor_id: str) -> Place | None:
    """A registered sensor's place, or None for an unknown sensor."""
    return rows.one(
        conn, Place, "SELECT lat, lon, grid_id FROM sensors WHERE id = %s", (sensor_id,)
    )
