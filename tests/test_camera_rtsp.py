"""Reading a real RTSP server (gst-rtsp-server): frames, a server restart, credentials."""

from __future__ import annotations

import json
import logging
import time
import uuid
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from hub.api.app import create_app
from hub.cameras.source import make_source
from hub.cameras.worker import CameraWorker, WorkerParts, WorkerSettings
from hub.clock import SystemClock
from hub.errors import SourceOpenError
from hub.hub import Hub
from hub.plugins import load_registry
from hub.seams import SourceOptions
from tests.camera_support import (
    RTSP_PASSWORD,
    CollectingSink,
    NullDetector,
    RtspServer,
    rtsp_server,  # noqa: F401  (fixture)
    wait_for,
)
from tests.conftest import HubFactory, auth_headers
from tests.test_camera_api import StatusWatcher

REGISTRY = load_registry(["gridhub.sources"])
OPTIONS = SourceOptions(open_timeout_s=3.0, read_timeout_s=1.5)


def rtsp_worker(url: str) -> CameraWorker:
    source = make_source(REGISTRY, "rtsp", url, OPTIONS)
    parts = WorkerParts(
        "CAM-R", 5.0, source, [NullDetector()], CollectingSink(), None, SystemClock()
    )
    return CameraWorker(parts, WorkerSettings(backoff_initial_s=0.1, backoff_max_s=0.5))


@pytest.mark.slow
def test_reads_frames_over_rtsp(rtsp_server: RtspServer) -> None:  # noqa: F811
    source = make_source(REGISTRY, "rtsp", rtsp_server.url, OPTIONS)
    info = source.open()
    assert (info.kind, info.codec, info.width, info.height) == ("rtsp", "h264", 320, 240)
    captures = [source.read() for _ in range(25)]
    source.close()
    assert captures[-1].to_bgr(None).shape == (240, 320, 3)
    assert 0.6 <= captures[-1].mono - captures[0].mono <= 1.6  # a live 25 fps stream


@pytest.mark.slow
def test_wrong_password_is_a_clear_error_without_the_password(
    rtsp_server: RtspServer,  # noqa: F811
) -> None:
    url = rtsp_server.url.replace(RTSP_PASSWORD, "not-the-password")
    with pytest.raises(SourceOpenError, match="401") as failed:
        make_source(REGISTRY, "rtsp", url, OPTIONS).open()
    assert "not-the-password" not in str(failed.value)


@pytest.mark.slow
def test_server_restart_mid_stream_frames_flow_again_and_health_shows_the_gap(
    rtsp_server: RtspServer,  # noqa: F811
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    worker = rtsp_worker(rtsp_server.url)
    worker.start()
    try:
        assert wait_for(lambda: worker.snapshot().frames_analysed >= 5, 10)
        rtsp_server.stop()
        killed = time.monotonic()
        assert wait_for(lambda: worker.snapshot().state == "offline", 5)
        time.sleep(1.0)
        rtsp_server.start()
        restarted = time.monotonic()
        analysed = worker.snapshot().frames_analysed
        assert wait_for(lambda: worker.snapshot().frames_analysed > analysed, 5)
        back_after = time.monotonic() - restarted
        health = worker.snapshot()
    finally:
        worker.stop()
    assert back_after < 4.0
    assert health.online and health.outages == 1 and health.reconnects >= 1
    assert health.last_outage_s is not None
    assert 1.0 <= health.last_outage_s <= time.monotonic() - killed + 0.5
    assert RTSP_PASSWORD not in caplog.text
    assert RTSP_PASSWORD not in repr(health)
    assert "camera CAM-R offline" in caplog.text and "camera CAM-R online" in caplog.text


@pytest.mark.slow
@pytest.mark.postgres
@pytest.mark.mqtt
def test_server_killed_under_a_running_hub_opens_one_offline_case_and_comes_back(
    rtsp_server: RtspServer,  # noqa: F811
    hub_factory: HubFactory,
    demo_raw: dict[str, Any],
    tmp_path: Path,
    mqtt_url: str,
) -> None:
    """The same fault with the camera run by the hub's manager: the API's health and the
    retained MQTT status follow the outage, an outage longer than `offline_alert_s`
    opens one camera_offline case (not one per tick), and frames flow again."""
    camera_id = f"CAM-R-{uuid.uuid4().hex[:6]}"
    demo_raw["site"]["data_dir"] = str(tmp_path / "data")
    demo_raw["cameras"] = [
        {
            "id": camera_id,
            "name": "清河 北门",
            "url": rtsp_server.url,
            "location": {"lat": 30.2768, "lon": 120.1443},
            "analysis_fps": 5,
        }
    ]
    demo_raw["video"] = {"read_timeout_s": 1.5, "reconnect_max_s": 0.5, "offline_alert_s": 2.0}
    hub = hub_factory(raw=demo_raw)
    watcher = StatusWatcher(mqtt_url, f"gridhub/cameras/{camera_id}/status")
    try:
        with TestClient(create_app(hub)) as client:
            client.headers.update(auth_headers(hub, "operator"))

            def health() -> dict[str, Any]:
                reply: dict[str, Any] = client.get(f"/api/cameras/{camera_id}/health").json()
                return reply

            assert wait_for(lambda: health()["online"], 10) and watcher.wait_for(b"online")
            rtsp_server.stop()
            assert wait_for(lambda: health()["state"] == "offline", 5)
            assert watcher.wait_for(b"offline")
            assert wait_for(lambda: _offline_cases(hub, camera_id) == 1, 6)
            time.sleep(1.5)  # more manager ticks while still offline: still one case
            rtsp_server.start()
            frames = health()["frames_in"]
            assert wait_for(lambda: health()["online"] and health()["frames_in"] > frames, 8)
            assert watcher.wait_for(b"online")
            back = health()
            metrics = client.get("/metrics").text
    finally:
        watcher.close()
    assert back["outages"] == 1 and back["last_outage_s"] >= 2.0
    assert _offline_cases(hub, camera_id) == 1
    assert f'gridhub_camera_outages_total{{camera="{camera_id}"}} 1.0' in metrics
    assert RTSP_PASSWORD not in json.dumps(back)


def _offline_cases(hub: Hub, camera_id: str) -> int:
    with hub.pool.connection() as conn:
        row = conn.execute(
            "SELECT count(*) FROM cases WHERE kind = 'camera_offline' AND camera_id = %s",
            (camera_id,),
        ).fetchone()
    return int(row[0]) if row else 0
