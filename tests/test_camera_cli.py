"""`gridhub camera probe` on a real RTSP server and `gridhub camera add` into a real database."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import psycopg
import pytest

from hub.cameras import media
from tests.camera_support import (
    RTSP_PASSWORD,
    RtspServer,
    make_clip,
    rtsp_server,  # noqa: F401  (fixture)
)
from tests.conftest import free_port, write_site


def gridhub(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "hub.cli", *args], capture_output=True, text=True, timeout=60
    )


@pytest.mark.slow
def test_probe_an_rtsp_camera(rtsp_server: RtspServer, tmp_path: Path) -> None:  # noqa: F811
    snapshot = tmp_path / "first.jpg"
    result = gridhub(
        "camera", "probe", rtsp_server.url, "--snapshot", str(snapshot), "--seconds", "1"
    )
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert f"source:       rtsp rtsp://***@127.0.0.1:{rtsp_server.port}/cam" in out
    assert "codec:        h264" in out and "resolution:   320x240" in out
    assert "declared fps: 25.00" in out and "first frame:" in out and "measured fps:" in out
    picture = media.decode_jpeg(snapshot.read_bytes())
    assert picture is not None and picture.shape == (240, 320, 3)
    assert RTSP_PASSWORD not in out + result.stderr


def test_probe_a_file_and_an_unreachable_camera(tmp_path: Path) -> None:
    clip = make_clip(tmp_path / "c.mp4", seconds=1.0)
    ok = gridhub("camera", "probe", f"file://{clip}", "--seconds", "0.5")
    assert ok.returncode == 0, ok.stderr
    assert "resolution:   160x120" in ok.stdout
    down = gridhub(
        "camera", "probe", f"rtsp://u:Pw-123@127.0.0.1:{free_port()}/x", "--timeout", "2"
    )
    assert down.returncode == 2
    assert "gridhub: error: rtsp rtsp://***@127.0.0.1:" in down.stderr
    assert "Connection refused" in down.stderr
    assert "Pw-123" not in down.stderr and "Traceback" not in down.stderr


def test_camera_add_writes_the_database(
    tmp_path: Path, demo_raw: dict[str, Any], migrated_db: str, mqtt_url: str
) -> None:
    demo_raw["database"] = {"url": migrated_db}
    demo_raw["mqtt"] = {"url": mqtt_url}
    site = str(write_site(tmp_path, demo_raw))
    url = "rtsp://ops:Cli-S3cret@10.0.0.9/h264"
    args = ["camera", "add", "--config", site, "--id", "CAM-NEW", "--name", "新门岗",
            "--url", url, "--lat", "30.2725", "--lon", "120.1425"]  # fmt: skip
    added = gridhub(*args)
    assert added.returncode == 0, added.stderr
    assert "camera CAM-NEW added (rtsp rtsp://***@10.0.0.9/h264, grid " in added.stdout
    assert "Cli-S3cret" not in added.stdout + added.stderr
    again = gridhub(*args)
    assert again.returncode == 2 and "already exists" in again.stderr
    with psycopg.connect(migrated_db) as conn:
        row = conn.execute(
            "SELECT source_kind, grid_id FROM cameras WHERE id = 'CAM-NEW'"
        ).fetchone()
    assert row is not None and row[0] == "rtsp" and row[1]
    bad = gridhub(*args[:-4], "--lat", "91", "--lon", "0")
    assert bad.returncode == 2 and "location.lat" in bad.stderr
