"""The demo's camera scenes: rendered clips played by demo cameras, with their detectors.

`SCENES` lists them: a residential facade with a throw (高空抛物) for the facade
camera, and a fire lane a car parks in and leaves (消防通道占用) for each lane
camera. Rendering takes seconds to tens of seconds, so it happens in the
background once the hub is serving (one thread per scene), and only once per
data directory (the clips are kept under `demo-scenes/`). Each clip is rendered
by the evaluation's clip makers (`gridhub eval make-clips thrown-object`,
`gridhub eval make-clips fire-lane --generated`), each in a child process: rendering
is CPU-bound Python that would hold the hub's GIL for tens of seconds, and a demo
stopped during its first minute ends the child instead of waiting for it. The
clip's sidecar gives the zone (facade, lane) and, for the facade, the floor
calibration.

Then the camera is pointed at the clip (`file://`, looping at its native rate)
with its detector, exactly as an integrator would change it through the API,
and the camera manager starts it: each loop's throw or blocked lane becomes an
alert, the alert a case, and a simulated patrol answers the dispatch.
"""

from __future__ import annotations

import json
import logging
import subprocess
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import SecretStr

from hub.config import DetectorSpec, Zone
from hub.hub import Hub
from hub.storage.camera_repo import get_camera, update_camera

log = logging.getLogger(__name__)

FACADE_CAMERA = "CAM-QH-F01"
LANE_CAMERAS = {"CAM-QH-L01": 1, "CAM-LS-L01": 2}  # camera -> seed of its lane scene
RENDER_TIMEOUT_S = 600
# The demo's lane timing: short enough that a loop (53 s) alerts and clears.
LANE_DETECTOR = {"dwell_s": 10, "clear_s": 5, "cooldown_s": 10}


class ClipMaker:
    """Runs `gridhub eval make-clips ...` as commands; `stop()` ends those still running,
    so a demo stopped during its first minute leaves no renderer behind."""

    def __init__(self) -> None:
        self._running: set[subprocess.Popen[bytes]] = set()
        self._lock = threading.Lock()
        self._stopped = False

    def run(self, *args: str) -> None:
        command = [sys.executable, "-m", "hub.cli", "eval", "make-clips", *args]
        with self._lock:
            if self._stopped:
                raise RuntimeError("the demo is stopping")
            process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            self._running.add(process)
        try:
            _, errors = process.communicate(timeout=RENDER_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            process.kill()
            _, errors = process.communicate()
        finally:
            with self._lock:
                self._running.discard(process)
        if process.returncode != 0:
            tail = errors.decode(errors="replace")[-500:]
            raise RuntimeError(f"make-clips {args[0]} ended with {process.returncode}: {tail}")

    def stop(self) -> None:
        with self._lock:
            self._stopped = True
            running = list(self._running)
        for process in running:
            process.terminate()
        for process in running:
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                process.kill()


def render_scene(out: Path, make: ClipMaker | None = None, seed: int = 7) -> Path:
    """A sidecar of a rendered facade clip with a qualifying throw, rendering it if needed.

    The first clip of a set depends only on the seed, and seed 7's has a throw: one clip
    is rendered (10-odd seconds of CPU), three only if a changed generator gave none.
    """
    make = make or ClipMaker()
    for count in (1, 3):
        found = _facade_in(out)
        if found is not None:
            return found
        make.run("thrown-object", "--out", str(out), "--count", str(count), "--seed", str(seed))
    found = _facade_in(out)
    if found is None:
        raise RuntimeError(f"no clip with a throw among those rendered in {out}")
    return found


def _facade_in(out: Path) -> Path | None:
    for sidecar in sorted(out.glob("clip_*.json")):
        data = json.loads(sidecar.read_text())
        if any(e.get("qualifying") for e in data.get("events", [])):
            return sidecar
    return None


def render_lane_scene(out: Path, make: ClipMaker | None = None, seed: int = 1) -> Path:
    """The sidecar of a rendered lane scene (a car parks and leaves), rendering it if needed."""
    sidecar = out / f"lane-scene-{seed:03d}.json"
    if not sidecar.is_file():
        make = make or ClipMaker()
        make.run("fire-lane", "--generated", "--out", str(out), "--seeds", str(seed))
    if not sidecar.is_file():
        raise RuntimeError(f"the lane scene was not rendered into {out}")
    return sidecar


def _unit(points: list[list[float]]) -> list[tuple[float, float]]:
    return [(min(max(x, 0.0), 1.0), min(max(y, 0.0), 1.0)) for x, y in points]


def facade_changes(sidecar: Path) -> dict[str, Any]:
    """The facade camera's fields for the clip: the facade zone and a thrown_object detector."""
    scene: dict[str, Any] = json.loads(sidecar.read_text())
    detector = {"kind": "thrown_object", "zones": ["facade"], "floors": scene["calibration"]}
    return {
        "url": SecretStr(f"file://{(sidecar.parent / scene['clip']).resolve()}"),
        "analysis_fps": float(scene["fps"]),
        "zones": [Zone(id="facade", kind="polygon", points=_unit(scene["facade"]), label="立面")],
        "detectors": [DetectorSpec.model_validate(detector)],
    }


def lane_changes(sidecar: Path) -> dict[str, Any]:
    """A lane camera's fields for the clip: the lane zone and a fire_lane detector."""
    scene: dict[str, Any] = json.loads(sidecar.read_text())
    detector = {"kind": "fire_lane", "zones": ["lane"], **LANE_DETECTOR}
    return {
        "url": SecretStr(f"file://{(sidecar.parent / scene['video']).resolve()}"),
        "zones": [Zone(id="lane", kind="polygon", points=_unit(scene["lane"]), label="消防通道")],
        "detectors": [DetectorSpec.model_validate(detector)],
    }


@dataclass(frozen=True, slots=True)
class Scene:
    """One demo camera, how its clip is rendered, and how the camera changes to play it."""

    camera_id: str
    render: Callable[[Path, ClipMaker], Path]  # scenes folder -> sidecar
    changes: Callable[[Path], dict[str, Any]]  # sidecar -> camera fields


def _lane_scene(camera_id: str, seed: int) -> Scene:
    return Scene(camera_id, lambda out, make: render_lane_scene(out, make, seed), lane_changes)


SCENES = (
    Scene(FACADE_CAMERA, render_scene, facade_changes),
    *(_lane_scene(camera_id, seed) for camera_id, seed in LANE_CAMERAS.items()),
)


def install_scene(hub: Hub, scene: Scene, sidecar: Path) -> None:
    """Point the scene's camera at its clip, enabled, with the scene's zone and detector."""
    with hub.pool.connection() as conn:
        camera = get_camera(conn, scene.camera_id)
        if camera is None:
            raise RuntimeError(f"the demo site has no camera {scene.camera_id}")
        changes = {**scene.changes(sidecar), "source": None, "enabled": True}
        where = camera.location
        grid = camera.grid or hub.grids.locate(where.lat, where.lon)
        update_camera(conn, camera.model_copy(update=changes), grid)
    hub.cameras.reconcile()
    log.info("demo camera %s plays a rendered scene (%s)", scene.camera_id, sidecar.stem)


class DemoScenes:
    """Renders and installs the demo's scenes, each in its own background thread."""

    def __init__(self, hub: Hub, scenes: tuple[Scene, ...] = SCENES) -> None:
        self._hub = hub
        self._make = ClipMaker()
        self._stopping = threading.Event()
        self._threads = [
            threading.Thread(target=self._run, args=(scene,), name=f"scene-{scene.camera_id}",
                             daemon=True)
            for scene in scenes
        ]  # fmt: skip

    def start(self) -> None:
        log.info("preparing the demo's camera scenes (rendered the first time, about 20 s)")
        for thread in self._threads:
            thread.start()

    def stop(self) -> None:
        """End the renders still running; no scene is installed after this."""
        self._stopping.set()
        self._make.stop()

    def _run(self, scene: Scene) -> None:
        try:
            sidecar = scene.render(self._hub.site.site.data_dir / "demo-scenes", self._make)
            if not self._stopping.is_set():
                install_scene(self._hub, scene, sidecar)
        except Exception:
            if self._stopping.is_set():
                return  # a render ended by stop()
            log.exception("the scene of demo camera %s could not be prepared; it stays off",
                          scene.camera_id)  # fmt: skip
