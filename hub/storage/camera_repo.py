"""The `cameras` table as the camera manager and the camera API use it.

Rows come back as `CameraRow`: the validated `Camera` model (with its secret
URL) and the `updated_at` stamp the manager compares to notice edits made by
another process (`gridhub camera add`, a second API instance). Writes never
echo the URL back; `CameraInfo` (in `site_repo`) is the public view.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg
from psycopg.rows import dict_row
from pydantic import SecretStr, ValidationError

from hub.config import Camera, Location
from hub.errors import ConfigError

Conn = psycopg.Connection[Any]
COLUMNS = """id, name, source_url, source_kind, lat, lon, grid_id, enabled, analysis_fps,
             zones, detectors, updated_at"""


@dataclass(frozen=True, slots=True)
class CameraRow:
    """A stored camera and when it last changed."""

    camera: Camera
    updated_at: datetime


def load_cameras(conn: Conn) -> tuple[list[CameraRow], dict[str, str]]:
    """Every stored camera, plus (id -> problem) for rows that no longer validate."""
    rows, problems = [], {}
    with conn.cursor(row_factory=dict_row) as cur:
        for row in cur.execute(f"SELECT {COLUMNS} FROM cameras ORDER BY id").fetchall():  # noqa: S608
            try:
                rows.append(CameraRow(_camera(row), row["updated_at"]))
            except ValidationError as exc:
                problems[row["id"]] = "; ".join(e["msg"] for e in exc.errors(include_url=False))
    return rows, problems


def get_camera(conn: Conn, camera_id: str) -> Camera | None:
    with conn.cursor(row_factory=dict_row) as cur:
        row = cur.execute(f"SELECT {COLUMNS} FROM cameras WHERE id = %s", [camera_id]).fetchone()  # noqa: S608
    return _camera(row) if row else None


def insert_camera(conn: Conn, camera: Camera, grid_id: str | None) -> bool:
    """Insert a new camera; False when the id is taken."""
    cur = conn.execute(
        """INSERT INTO cameras (id, name, source_url, source_kind, lat, lon, grid_id, enabled,
               analysis_fps, zones, detectors)
           VALUES (%(id)s, %(name)s, %(url)s, %(kind)s, %(lat)s, %(lon)s, %(grid_id)s,
               %(enabled)s, %(analysis_fps)s, %(zones)s, %(detectors)s)
           ON CONFLICT (id) DO NOTHING""",
        _params(camera, grid_id),
    )
    return cur.rowcount == 1


def update_camera(conn: Conn, camera: Camera, grid_id: str | None) -> bool:
    """Replace a stored camera's settings; False when there is no such camera."""
    cur = conn.execute(
        """UPDATE cameras SET name = %(name)s, source_url = %(url)s, source_kind = %(kind)s,
               lat = %(lat)s, lon = %(lon)s, grid_id = %(grid_id)s, enabled = %(enabled)s,
               analysis_fps = %(analysis_fps)s, zones = %(zones)s, detectors = %(detectors)s,
               updated_at = clock_timestamp()
           WHERE id = %(id)s""",
        _params(camera, grid_id),
    )
    return cur.rowcount == 1


def delete_camera(conn: Conn, camera_id: str) -> bool:
    return conn.execute("DELETE FROM cameras WHERE id = %s", [camera_id]).rowcount == 1


def _camera(row: dict[str, Any]) -> Camera:
    try:
        return Camera(
            id=row["id"],
            name=row["name"],
            url=SecretStr(row["source_url"]),
            source=row["source_kind"],
            location=Location(lat=row["lat"], lon=row["lon"]),
            grid=row["grid_id"],
            enabled=row["enabled"],
            analysis_fps=row["analysis_fps"],
            zones=row["zones"],
            detectors=row["detectors"],
        )
    except ValidationError:
        raise
    except (TypeError, KeyError) as exc:
        raise ConfigError(f"camera {row.get('id')}: unreadable row: {exc}") from None


def _params(camera: Camera, grid_id: str | None) -> dict[str, Any]:
    return {
        "id": camera.id,
        "name": camera.name,
        "url": camera.url.get_secret_value(),
        "kind": camera.source_kind,
        "lat": camera.location.lat,
        "lon": camera.location.lon,
        "grid_id": grid_id,
        "enabled": camera.enabled,
        "analysis_fps": camera.analysis_fps,
        "zones": json.dumps([z.model_dump() for z in camera.zones], ensure_ascii=False),
        "detectors": json.dumps([d.model_dump() for d in camera.detectors], ensure_ascii=False),
    }
