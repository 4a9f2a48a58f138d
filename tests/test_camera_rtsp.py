"""Reading a real RTSP server (gst-rtsp-server): frames, a server restart, credentials."""

from __future__ import annotations

import logging
import time

import pytest

from hub.cameras.source import SourceOptions, make_source
from hub.cameras.worker import CameraWorker, WorkerParts, WorkerSettings
from hub.clock import SystemClock
from hub.errors import SourceOpenError
from hub.plugins import load_registry
from tests.camera_support import (
    RTSP_PASSWORD,
    CollectingSink,
    NullDetector,
    RtspServer,
    rtsp_server,  # noqa: F401  (fixture)
    wait_for,
)

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
