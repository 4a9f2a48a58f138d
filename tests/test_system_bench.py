"""The system benchmark runs end to end: one camera, five patrols, a latency reported.

Not timed: it checks that every part of bench/system works together (RTSP
server, hub process, patrol devices, operator, readings, latency query) on a
small frame size and a short window, and that what it reports adds up.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

import bench.common
from bench.system import run as system
from tests.camera_support import gst_rtsp_available
from tests.conftest import _unavailable


@pytest.mark.slow
@pytest.mark.postgres
def test_the_system_bench_runs_end_to_end_and_reports_a_latency(
    pg_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    problem = gst_rtsp_available()
    if problem:
        _unavailable(f"gst-rtsp-server is not installed ({problem}); run ./scripts/bootstrap")
    if shutil.which("mosquitto") is None:
        _unavailable("mosquitto is not installed")
    monkeypatch.setattr(bench.common, "DATABASE_URL", pg_url)
    out = tmp_path / "figures.json"
    system.main(["--size", "640x360", "--cameras", "1", "--patrols", "5", "--duration", "12",
                 "--settle", "0", "--profile-seconds", "0", "--json", str(out)])  # fmt: skip
    figures = json.loads(out.read_text())
    assert (figures["cameras"], figures["patrols"]) == (1, 5)
    assert figures["window"]["fixes_per_s"] > 0
    events = figures["latency_ms"]
    assert events, "no throw reached a patrol"
    for event in events:
        assert event["kind"] == "thrown_object"
        parts = event["to_case_ms"] + event["to_dispatch_ms"] + event["to_device_ms"]
        assert 0 < event["total_ms"] == pytest.approx(parts, abs=1.0)
