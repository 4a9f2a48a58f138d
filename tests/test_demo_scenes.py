"""The demo's camera scenes end to end: a rendered clip through a file source, the camera
worker and the scene's detector, to a case in the right grid.

The scenes are rendered once for the module (the facade takes tens of seconds on a busy
machine) and played by a hub per test.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from demo.scenes import FACADE_CAMERA, SCENES, install_scene, render_lane_scene, render_scene
from tests.conftest import HubFactory, wait_until

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def scenes_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("demo-scenes")


def _cases(hub: Any, kind: str) -> list[tuple[Any, ...]]:
    with hub.pool.connection() as conn:
        rows: list[tuple[Any, ...]] = conn.execute(
            "SELECT id, grid_id, camera_id, details FROM cases WHERE kind = %s ORDER BY id",
            (kind,),
        ).fetchall()
    return rows


def _case_actions(hub: Any, case_id: int) -> list[str]:
    with hub.pool.connection() as conn:
        rows = conn.execute(
            "SELECT action FROM case_events WHERE case_id = %s ORDER BY id", (case_id,)
        ).fetchall()
    return [str(r[0]) for r in rows]


def _scene(camera_id: str) -> Any:
    return next(scene for scene in SCENES if scene.camera_id == camera_id)


def test_rendered_throw_becomes_a_case(
    hub_factory: HubFactory, demo_raw: dict[str, Any], tmp_path: Path, scenes_dir: Path
) -> None:
    demo_raw["site"]["data_dir"] = str(tmp_path / "data")
    hub = hub_factory(raw=demo_raw)
    sidecar = render_scene(scenes_dir)
    assert render_scene(scenes_dir) == sidecar  # rendered once, then reused
    install_scene(hub, _scene(FACADE_CAMERA), sidecar)
    health = {h.camera_id: h for h in hub.cameras.healths()}
    assert FACADE_CAMERA in health

    wait_until(lambda: _cases(hub, "thrown_object"), timeout=60)  # the clip loops every 6 s
    _, grid, camera, details = _cases(hub, "thrown_object")[0]
    assert (grid, camera) == ("WT-QH-01-A", FACADE_CAMERA)
    assert isinstance(details.get("floor"), int)


def test_rendered_lane_is_blocked_then_cleared_on_one_case(
    hub_factory: HubFactory, demo_raw: dict[str, Any], tmp_path: Path, scenes_dir: Path
) -> None:
    """The lane camera sees the car park (one fire_lane case) and leave (noted on it)."""
    demo_raw["site"]["data_dir"] = str(tmp_path / "data")
    hub = hub_factory(raw=demo_raw)
    sidecar = render_lane_scene(scenes_dir, seed=1)
    mtime = sidecar.stat().st_mtime_ns
    assert render_lane_scene(scenes_dir, seed=1) == sidecar
    assert sidecar.stat().st_mtime_ns == mtime  # not rendered again
    install_scene(hub, _scene("CAM-QH-L01"), sidecar)

    # Warm-up 10 s, car parked at 15 s, dwell 10 s: the alert ~25 s after the camera starts;
    # the car leaves at 41 s, clear 5 s: the clearing ~46 s. Both on the first loop.
    wait_until(lambda: _cases(hub, "fire_lane"), timeout=50, step=0.5)
    case_id, grid, camera, details = _cases(hub, "fire_lane")[0]
    assert (grid, camera, details["region"]) == ("WT-QH-02", "CAM-QH-L01", "lane")
    assert details["blocked_s"] >= 10
    wait_until(lambda: "alert" in _case_actions(hub, case_id), timeout=40, step=0.5)
    with hub.pool.connection() as conn:
        rows = conn.execute(
            "SELECT kind, cleared FROM alerts WHERE camera_id = 'CAM-QH-L01' ORDER BY ts"
        ).fetchall()
    kinds = [(str(kind), bool(cleared)) for kind, cleared in rows]
    assert kinds == [("fire_lane", False), ("fire_lane", True)]
    assert len(_cases(hub, "fire_lane")) == 1
