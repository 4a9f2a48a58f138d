"""The demo's camera scene: a rendered facade with a throw, played by a demo camera.

Rendering a scene takes ten-odd seconds, so it happens in the background once
the hub is serving, and only once per data directory (the clips are kept under
`demo-scenes/`). The clip is rendered by the `thrown_object` plugin's own clip
maker (`gridhub eval make-clips thrown-object`, run as a command: the hub never
imports a detector); its sidecar gives the facade zone and floor calibration.
Then the facade camera is pointed at the clip (`file://`, looping at its native
rate) with a `thrown_object` detector, exactly as an integrator would change it
through the API, and the camera manager starts it: each loop's throw becomes an
alert, the open case collects them, and a simulated patrol answers the dispatch.
"""

from __future__ import annotations

import json
import logging
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

from pydantic import SecretStr

from hub.config import DetectorSpec, Zone
from hub.hub import Hub
from hub.storage.camera_repo import get_camera, update_camera

log = logging.getLogger(__name__)

FACADE_CAMERA = "CAM-QH-F01"
RENDER_TIMEOUT_S = 600


def render_scene(out: Path, seed: int = 7) -> Path:
    """A sidecar of a rendered clip with a qualifying throw, rendering it if needed."""
    found = _scene_in(out)
    if found is not None:
        return found
    command = [sys.executable, "-m", "hub.cli", "eval", "make-clips", "thrown-object",
               "--out", str(out), "--count", "3", "--seed", str(seed)]  # fmt: skip
    subprocess.run(command, check=True, capture_output=True, timeout=RENDER_TIMEOUT_S)
    found = _scene_in(out)
    if found is None:
        raise RuntimeError(f"no clip with a throw among those rendered in {out}")
    return found


def _scene_in(out: Path) -> Path | None:
    for sidecar in sorted(out.glob("clip_*.json")):
        data = json.loads(sidecar.read_text())
        if any(e.get("qualifying") for e in data.get("events", [])):
            return sidecar
    return None


def install_scene(hub: Hub, sidecar: Path, camera_id: str = FACADE_CAMERA) -> None:
    """Point the camera at the scene's clip, with a thrown_object detector for its facade."""
    scene: dict[str, Any] = json.loads(sidecar.read_text())
    clip = (sidecar.parent / scene["clip"]).resolve()
    facade = [(min(max(x, 0.0), 1.0), min(max(y, 0.0), 1.0)) for x, y in scene["facade"]]
    with hub.pool.connection() as conn:
        camera = get_camera(conn, camera_id)
        if camera is None:
            raise RuntimeError(f"the demo site has no camera {camera_id}")
        detector = DetectorSpec.model_validate(
            {"kind": "thrown_object", "zones": ["facade"], "floors": scene["calibration"]}
        )
        changed = camera.model_copy(update={
            "url": SecretStr(f"file://{clip}"), "source": None, "enabled": True,
            "analysis_fps": float(scene["fps"]),
            "zones": [Zone(id="facade", kind="polygon", points=facade, label="立面")],
            "detectors": [detector],
        })  # fmt: skip
        where = camera.location
        update_camera(conn, changed, camera.grid or hub.grids.locate(where.lat, where.lon))
    hub.cameras.reconcile()
    log.info("demo camera %s plays a rendered facade scene (%s)", camera_id, clip.name)


class DemoScenes:
    """Renders and installs the demo's scene in a background thread."""

    def __init__(self, hub: Hub) -> None:
        self._hub = hub
        self._thread = threading.Thread(target=self._run, name="demo-scenes", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        pass  # a daemon thread; a render still running dies with the process

    def _run(self) -> None:
        try:
            log.info("rendering the demo's camera scene (once; about 20 s)")
            sidecar = render_scene(self._hub.site.site.data_dir / "demo-scenes")
            install_scene(self._hub, sidecar)
        except Exception:
            log.exception("the demo's camera scene could not be prepared; cameras stay off")
