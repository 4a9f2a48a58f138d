"""A camera wall's load: many clients asking for resized snapshots and previews at once.

Two clients looping resized snapshots once killed `gridhub run` with a segfault in
libswscale: every thread that converted the same decoded frame shared its one
scaler, which PyAV reconfigures and runs without the GIL. These tests hammer the
conversion directly, and a real hub over HTTP (uvicorn, RTSP, PostgreSQL, MQTT)
while its camera's server is killed and restarted. A crash ends the test run; a
hang fails the deadlines.
"""

from __future__ import annotations

import itertools
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from hub.cameras.source import make_source
from hub.plugins import load_registry
from hub.seams import Capture, SourceOptions
from tests.browser import serve_hub
from tests.camera_support import (
    RtspServer,
    rtsp_server,  # noqa: F401  (fixture)
    wait_for,
)
from tests.conftest import HubFactory, auth_headers

REGISTRY = load_registry(["gridhub.sources"])
WIDTHS = (96, 128, 160, 200, 256, None)  # the RTSP test picture is 320 px wide


def hammer(work: Callable[[int], None], threads: int, seconds: float) -> list[BaseException]:
    """Run `work(i)` in a loop on `threads` threads for `seconds`; the errors they raised."""
    errors: list[BaseException] = []
    stop = time.monotonic() + seconds

    def loop(thread: int) -> None:
        for i in itertools.count(thread):
            if time.monotonic() > stop:
                return
            try:
                work(i)
            except BaseException as exc:  # collected and asserted on by the caller
                errors.append(exc)
                return

    workers = [threading.Thread(target=loop, args=(n,), daemon=True) for n in range(threads)]
    for worker in workers:
        worker.start()
    deadline = stop + 20
    for worker in workers:
        worker.join(max(0.0, deadline - time.monotonic()))
    assert not any(worker.is_alive() for worker in workers), "a converting thread hung"
    return errors


@pytest.mark.slow
def test_one_frame_converted_by_many_threads_at_many_sizes(
    rtsp_server: RtspServer,  # noqa: F811
) -> None:
    source = make_source(REGISTRY, "rtsp", rtsp_server.url, SourceOptions(open_timeout_s=3.0))
    source.open()
    latest: list[Capture] = [source.read()]
    reading = threading.Event()
    reading.set()

    def read() -> None:
        while reading.is_set():
            latest[0] = source.read()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()

    def convert(i: int) -> None:
        width = WIDTHS[i % len(WIDTHS)]
        image = latest[0].to_bgr(width)
        assert image.shape[1] == (width or 320) and image.shape[2] == 3

    try:
        errors = hammer(convert, threads=8, seconds=4.0)
    finally:
        reading.clear()
        reader.join(5)
        source.close()
    assert errors == []


@pytest.mark.slow
@pytest.mark.postgres
@pytest.mark.mqtt
def test_a_camera_wall_hammering_a_hub_while_its_camera_reconnects(
    rtsp_server: RtspServer,  # noqa: F811
    hub_factory: HubFactory,
    demo_raw: dict[str, Any],
    tmp_path: Path,
) -> None:
    camera_id = f"CAM-W-{uuid.uuid4().hex[:6]}"
    demo_raw["site"]["data_dir"] = str(tmp_path / "data")
    demo_raw["cameras"] = [
        {"id": camera_id, "name": "墙", "url": rtsp_server.url, "analysis_fps": 10,
         "location": {"lat": 30.2768, "lon": 120.1443}}
    ]  # fmt: skip
    demo_raw["video"] = {"read_timeout_s": 1.0, "reconnect_max_s": 0.3, "evidence_width": 200}
    hub = hub_factory(raw=demo_raw)
    headers = auth_headers(hub, "operator")
    with serve_hub(hub) as base, httpx.Client(base_url=base, headers=headers, timeout=5) as http:
        camera = f"/api/cameras/{camera_id}"
        assert wait_for(lambda: http.get(f"{camera}/snapshot.jpg").status_code == 200, 10)
        statuses: list[int] = []

        def snapshot(i: int) -> None:
            width = WIDTHS[i % len(WIDTHS)]
            query = f"?width={width}" if width else ""
            statuses.append(http.get(f"{camera}/snapshot.jpg{query}").status_code)

        def preview(i: int) -> None:
            width = (128, 256)[i % 2]
            url = f"{camera}/stream.mjpg?fps=25&width={width}&frames=10"
            with http.stream("GET", url, timeout=10) as reply:
                statuses.append(reply.status_code)
                for _ in reply.iter_bytes():
                    pass

        def restart_camera() -> None:
            time.sleep(2.0)
            rtsp_server.stop()
            time.sleep(1.5)
            rtsp_server.start()

        errors: list[BaseException] = []
        restarter = threading.Thread(target=restart_camera, daemon=True)
        snapshots = threading.Thread(target=lambda: errors.extend(hammer(snapshot, 8, 8.0)))
        restarter.start()
        snapshots.start()
        errors.extend(hammer(preview, 3, 8.0))
        snapshots.join(40)
        restarter.join(10)
        health = http.get("/api/health", timeout=2)
        assert wait_for(lambda: http.get(f"{camera}/snapshot.jpg").status_code == 200, 10)
    assert errors == []
    assert health.status_code == 200
    assert set(statuses) <= {200, 409} and statuses.count(200) > 50
