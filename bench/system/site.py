"""The system benchmark's site: a synthetic city, its cameras, and the RTSP server they watch.

The site is `bench.common.synthetic_city` with M patrols (grids of ~1 km, sized so
that patrols stand about ten to a square kilometre) and two scenario changes,
both so that each event measures one dispatch: every thrown-object and fire-lane
alert is dispatched at once (`auto_dispatch_confidence: 0`), and a repeat alert
joins a case only while it is open (`dedupe_window_s: 0`; the benchmark's
operator closes resolved cases).

Camera i is a fire-lane camera when `i % lane_every == 1` (the second, fifth,
...), a thrown-object camera otherwise. Cameras go into the `cameras` table
through `hub.storage.camera_repo`, as the API and `gridhub camera add` put them,
and the hub's camera manager starts them; each watches its own RTSP mount
(`/CAMnnn`), which plays the kind's clip from its own offset, so throws of
different cameras do not coincide.
"""

from __future__ import annotations

import json
import math
import random
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from psycopg_pool import ConnectionPool

from bench.common import random_point, synthetic_city
from bench.system.clips import StreamFile, Streams
from hub.config import Camera, Scenario, SiteConfig
from hub.geo import GridIndex
from hub.storage.camera_repo import delete_camera, insert_camera

SYSTEM_PYTHON = "/usr/bin/python3"
SERVER = Path(__file__).with_name("clip_server.py")
THROWN_FPS = 25.0
LANE_FPS = 1.0
LANE_DWELL_S, LANE_CLEAR_S = 20.0, 5.0  # as the fire-lane evaluation


def city_side(patrols: int) -> int:
    """Grids per side: about ten patrols per km², at least 2x2, at most 20x20."""
    return min(20, max(2, round(math.sqrt(patrols / 10))))


def bench_site(patrols: int, data_dir: Path) -> SiteConfig:
    city = synthetic_city(city_side(patrols), patrols)
    scenarios = {
        **city.scenarios,
        "thrown_object": Scenario(title="高空抛物", severity=3, auto_dispatch_confidence=0.0,
                                  dedupe_window_s=0),
        "fire_lane": Scenario(title="消防通道占用", severity=2, auto_dispatch_confidence=0.0,
                              dedupe_window_s=0),
    }  # fmt: skip
    info = city.site.model_copy(update={"data_dir": data_dir})
    return city.model_copy(update={"scenarios": scenarios, "site": info})


def camera_id(index: int) -> str:
    return f"CAM{index:03d}"


def is_lane(index: int, lane_every: int) -> bool:
    return lane_every > 0 and index % lane_every == 1


@dataclass(frozen=True, slots=True)
class CameraPlan:
    """Which cameras there are and where their streams are."""

    streams: Streams
    lane_every: int
    port: int
    side: int

    def camera(self, index: int, rng: random.Random) -> Camera:
        lat, lon = random_point(rng, self.side)
        base = {"id": camera_id(index), "name": f"bench camera {index}",
                "url": f"rtsp://127.0.0.1:{self.port}/{camera_id(index)}",
                "location": {"lat": lat, "lon": lon}}  # fmt: skip
        if is_lane(index, self.lane_every):
            return Camera.model_validate({**base, **self._lane()})
        return Camera.model_validate({**base, **self._thrown()})

    def _thrown(self) -> dict[str, Any]:
        scene = self.streams.thrown.settings
        facade = [[min(max(x, 0.0), 1.0), min(max(y, 0.0), 1.0)] for x, y in scene["facade"]]
        return {"analysis_fps": THROWN_FPS,
                "zones": [{"id": "facade", "kind": "polygon", "points": facade}],
                "detectors": [{"kind": "thrown_object", "zones": ["facade"],
                               "floors": scene["calibration"]}]}  # fmt: skip

    def _lane(self) -> dict[str, Any]:
        detector: dict[str, Any] = {"kind": "fire_lane", "zones": ["lane"],
                                    "dwell_s": LANE_DWELL_S, "clear_s": LANE_CLEAR_S}  # fmt: skip
        if self.streams.lane_model is not None:
            detector |= {"model": {"weights": str(self.streams.lane_model), "imgsz": 640,
                                   "threads": 1},
                         "vehicle_classes": [], "person_classes": ["Normal", "Fall"]}  # fmt: skip
        assert self.streams.lane is not None
        lane = self.streams.lane.settings["lane"]
        return {"analysis_fps": LANE_FPS,
                "zones": [{"id": "lane", "kind": "polygon", "points": lane}],
                "detectors": [detector]}  # fmt: skip

    def stream_of(self, index: int) -> StreamFile:
        lane = self.streams.lane
        return lane if lane is not None and is_lane(index, self.lane_every) else self.streams.thrown

    def kind_of(self, index: int) -> str:
        return "fire_lane" if is_lane(index, self.lane_every) else "thrown_object"


class CameraTable:
    """Adds and removes bench cameras in the hub's `cameras` table."""

    def __init__(self, pool: ConnectionPool, plan: CameraPlan, grids: GridIndex) -> None:
        self.pool, self.plan, self.grids = pool, plan, grids
        self.count = 0
        self._rng = random.Random(11)

    def add(self) -> Camera:
        camera = self.plan.camera(self.count, self._rng)
        where = camera.location
        with self.pool.connection() as conn:
            insert_camera(conn, camera, self.grids.locate(where.lat, where.lon))
        self.count += 1
        return camera

    def remove_last(self) -> None:
        self.count -= 1
        with self.pool.connection() as conn:
            delete_camera(conn, camera_id(self.count))


class ClipServer:
    """bench/system/clip_server.py in a subprocess: one mount per possible camera."""

    def __init__(self, plan: CameraPlan, cameras: int, stats: Path) -> None:
        self.stats = stats
        mounts = []
        for index in range(cameras):
            stream = plan.stream_of(index)
            # Throws a second and a half apart; each lane from its start (empty for 16 s,
            # which its detector needs to learn the empty lane).
            lane = plan.kind_of(index) == "fire_lane"
            offset = 0 if lane else (index * 37) % stream.frames
            mounts += ["--mount", f"/{camera_id(index)}={stream.path}@{offset}"]
        self.process = subprocess.Popen(
            [SYSTEM_PYTHON, str(SERVER), "--port", str(plan.port), "--stats", str(stats), *mounts],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )  # fmt: skip
        assert self.process.stdout is not None
        line = self.process.stdout.readline().strip()
        if line != "READY":
            self.stop()
            raise SystemExit(f"the RTSP server did not start: {line or 'no output'}")

    def sent(self) -> tuple[float, dict[str, int]]:
        """(when, frames sent per camera id) as the server last wrote them."""
        for _ in range(20):
            try:
                data = json.loads(self.stats.read_text())
                return data["mono"], {k.lstrip("/"): v["sent"] for k, v in data["mounts"].items()}
            except (OSError, ValueError, KeyError):
                time.sleep(0.1)
        raise SystemExit(f"the RTSP server wrote no statistics to {self.stats}")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(5)
        if self.process.stdout:
            self.process.stdout.close()
