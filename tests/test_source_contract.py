"""The contract every registered `gridhub.sources` plugin keeps (hub.testing.contracts).

Each entry point opens a real stream of a known size (a file, an RTSP server, an
HTTP camera, an ONVIF device in front of the RTSP server) and fails clearly on a
URL it cannot read. `https` is the `http` plugin (same object) behind TLS: its
stream contract runs through `http`, its bad-URL contract on its own.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from hub.plugins import SOURCES, load_registry
from hub.seams import SourceOptions
from hub.testing.contracts import check_source_plugin, check_source_rejects
from tests.camera_support import RTSP_PASSWORD, RTSP_USER, make_clip, rtsp_server  # noqa: F401
from tests.test_camera_onvif import onvif_device  # noqa: F401
from tests.test_camera_sources import http_camera, silent_port  # noqa: F401

PLUGINS = load_registry([SOURCES]).all(SOURCES)
QUICK_FAIL = SourceOptions(open_timeout_s=1.5, read_timeout_s=1.5, realtime=False)


def _file(request: pytest.FixtureRequest) -> tuple[str, tuple[int, int]]:
    tmp_path: Path = request.getfixturevalue("tmp_path")
    return f"file://{make_clip(tmp_path / 'clip.mp4', 1.0, size=(160, 120))}", (160, 120)


def _rtsp(request: pytest.FixtureRequest) -> tuple[str, tuple[int, int]]:
    return request.getfixturevalue("rtsp_server").url, (320, 240)


def _http(request: pytest.FixtureRequest) -> tuple[str, tuple[int, int]]:
    where = request.getfixturevalue("http_camera")
    return f"http://viewer:h77p-secret@{where}/snap.jpg", (120, 90)


def _onvif(request: pytest.FixtureRequest) -> tuple[str, tuple[int, int]]:
    where, _device = request.getfixturevalue("onvif_device")
    return f"onvif://{RTSP_USER}:{RTSP_PASSWORD}@{where}/", (320, 240)


STREAMS: dict[str, Callable[[pytest.FixtureRequest], tuple[str, tuple[int, int]]]] = {
    "file": _file, "rtsp": _rtsp, "http": _http, "https": _http, "onvif": _onvif,
}  # fmt: skip


def test_every_source_has_a_stream_here() -> None:
    assert set(PLUGINS) <= set(STREAMS), "add a real stream for the new source to STREAMS"
    assert PLUGINS["https"] is PLUGINS["http"]


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(PLUGINS))
def test_source_opens_reads_and_closes(name: str, request: pytest.FixtureRequest) -> None:
    url, size = STREAMS[name](request)
    check_source_plugin(PLUGINS[name], url, size)


@pytest.mark.parametrize("name", sorted(PLUGINS))
def test_a_url_it_cannot_read_is_a_clear_error(name: str, silent_port: int) -> None:  # noqa: F811
    where = f"127.0.0.1:{silent_port}"
    bad = "file:///no/such/clip.mp4" if name == "file" else f"{name}://u:n3ver-t0ld@{where}/x"
    error = check_source_rejects(PLUGINS[name], bad, QUICK_FAIL)
    assert "Traceback" not in str(error)
