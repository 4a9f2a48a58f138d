"""The demo's camera scene end to end: a rendered clip through a file source, the camera
worker and the thrown_object detector, to a case in the right grid."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from hub.demo_scenes import install_scene, render_scene
from tests.conftest import HubFactory, wait_until

pytestmark = pytest.mark.slow


def test_rendered_throw_becomes_a_case(
    hub_factory: HubFactory, demo_raw: dict[str, Any], tmp_path: Path
) -> None:
    demo_raw["site"]["data_dir"] = str(tmp_path / "data")
    hub = hub_factory(raw=demo_raw)
    sidecar = render_scene(tmp_path / "scenes")
    assert render_scene(tmp_path / "scenes") == sidecar  # rendered once, then reused
    install_scene(hub, sidecar)
    health = {h.camera_id: h for h in hub.cameras.healths()}
    assert "CAM-QH-F01" in health

    def case() -> Any:
        with hub.pool.connection() as conn:
            return conn.execute(
                "SELECT kind, grid_id, camera_id, details FROM cases WHERE kind = 'thrown_object'"
            ).fetchone()

    wait_until(lambda: case() is not None, timeout=60)  # the clip loops every 6 s
    kind, grid, camera, details = case()
    assert (kind, grid, camera) == ("thrown_object", "WT-QH-01-A", "CAM-QH-F01")
    assert isinstance(details.get("floor"), int)
    shutil.rmtree(tmp_path / "scenes", ignore_errors=True)
