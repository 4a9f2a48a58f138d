"""Writing the site file into PostgreSQL and reading it back."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import psycopg

from hub.config import load_site
from hub.storage.site_repo import grid_index, list_cameras, list_grids, list_patrols, sync_site
from tests.conftest import DEMO_CONFIG, write_site


def test_sync_stores_the_whole_site(migrated_db: str) -> None:
    site = load_site(DEMO_CONFIG)
    with psycopg.connect(migrated_db) as conn:
        sync_site(conn, site)
        grids = list_grids(conn)
        patrols = list_patrols(conn)
        cameras = list_cameras(conn)
    assert [g.id for g in grids][:3] == ["WT", "WT-LS", "WT-QH"]
    assert {g.id for g in grids} == {g.id for g in site.grids}
    assert {p.id for p in patrols} == {p.id for p in site.patrols}
    by_id = {c.id: c for c in cameras}
    # No grid in the file: located from the camera's position.
    assert by_id["CAM-QH-F01"].grid_id == "WT-QH-01-A"
    assert by_id["CAM-LS-G01"].source_kind == "rtsp"
    assert by_id["CAM-QH-L01"].zones[0]["label"] == "消防通道"
    assert not hasattr(by_id["CAM-LS-G01"], "source_url")
    patrol = next(p for p in patrols if p.id == "P07")
    assert (patrol.owntracks_user, patrol.owntracks_device) == ("wg07", "phone")


def test_point_in_grid_from_stored_grids(migrated_db: str) -> None:
    with psycopg.connect(migrated_db) as conn:
        sync_site(conn, load_site(DEMO_CONFIG))
        index = grid_index(list_grids(conn))
    assert index.locate(30.2725, 120.1425) == "WT-QH-01-A"
    assert index.locate(30.2775, 120.1575) == "WT-LS-02"
    assert index.locate(31.0, 121.0) is None


def test_resync_updates_and_keeps_unlisted_rows(
    migrated_db: str, demo_raw: dict[str, Any], tmp_path: Path
) -> None:
    with psycopg.connect(migrated_db) as conn:
        sync_site(conn, load_site(DEMO_CONFIG))
        conn.execute(
            """INSERT INTO cameras (id, name, source_url, source_kind, lat, lon)
               VALUES ('API-CAM', 'added through the API', 'rtsp://x/y', 'rtsp', 30.27, 120.15)"""
        )
        conn.commit()
        demo_raw["patrols"][0]["name"] = "巡逻一组 (夜班)"
        demo_raw["patrols"][0]["enabled"] = False
        sync_site(conn, load_site(write_site(tmp_path, demo_raw)))
        patrol = next(p for p in list_patrols(conn) if p.id == "P01")
        camera_ids = {c.id for c in list_cameras(conn)}
    assert (patrol.name, patrol.enabled) == ("巡逻一组 (夜班)", False)
    assert "API-CAM" in camera_ids


def test_resync_of_an_unchanged_camera_leaves_it_untouched(
    migrated_db: str, tmp_path: Path, demo_raw: dict[str, Any]
) -> None:
    """Another hub instance starting with the same file must not restart every camera."""
    stamps = "SELECT id, updated_at FROM cameras ORDER BY id"
    with psycopg.connect(migrated_db) as conn:
        sync_site(conn, load_site(DEMO_CONFIG))
        before: dict[str, Any] = dict(conn.execute(stamps).fetchall())
        demo_raw["cameras"][0]["name"] = "改了名字"
        sync_site(conn, load_site(write_site(tmp_path, demo_raw)))
        after: dict[str, Any] = dict(conn.execute(stamps).fetchall())
    changed = demo_raw["cameras"][0]["id"]
    assert after[changed] > before[changed]
    assert {k: v for k, v in after.items() if k != changed} == {
        k: v for k, v in before.items() if k != changed
    }
