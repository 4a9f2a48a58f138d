"""Frame sources: URL redaction, files (whole, truncated, corrupt), HTTP snapshot and MJPEG,
and URLs that never answer."""

from __future__ import annotations

import base64
import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pytest

from hub.cameras import media
from hub.cameras.source import make_source, redact_url, scheme_of
from hub.cameras.worker import CameraWorker, WorkerParts, WorkerSettings
from hub.clock import SystemClock
from hub.errors import CorruptFrame, SourceEnded, SourceOpenError
from hub.plugins import load_registry
from hub.seams import FrameSource, SourceOptions
from tests.camera_support import CollectingSink, make_clip, wait_for

REGISTRY = load_registry(["gridhub.sources"])
FAST = SourceOptions(open_timeout_s=2.0, read_timeout_s=2.0, realtime=False)


def source_for(url: str, options: SourceOptions = FAST) -> FrameSource:
    return make_source(REGISTRY, scheme_of(url), url, options)


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("rtsp://admin:pa55@10.0.0.5:554/Streaming/101", "rtsp://***@10.0.0.5:554/Streaming/101"),
        ("rtsp://10.0.0.5/live", "rtsp://10.0.0.5/live"),
        (
            "http://cam/snap.jpg?user=a&pwd=secret&ch=1",
            "http://cam/snap.jpg?***",
        ),
        (
            "onvif://u:p%40ss@[fe80::1]:8080/?profile=main",
            "onvif://***@[fe80::1]:8080/?***",
        ),
        ("rtsp://user:x@host:notaport/", "rtsp://(redacted)"),
    ],
)
def test_redact_url(url: str, shown: str) -> None:
    assert redact_url(url) == shown


def test_every_scheme_has_a_source() -> None:
    assert {"file", "rtsp", "http", "https", "onvif"} <= set(REGISTRY.names("gridhub.sources"))


def test_file_source_reads_and_loops(tmp_path: Path) -> None:
    clip = make_clip(tmp_path / "clip.mp4", seconds=1.0, fps=25)
    source = source_for(f"file://{clip}")
    info = source.open()
    assert (info.codec, info.width, info.height, info.fps) == ("h264", 160, 120, 25.0)
    captures = [source.read() for _ in range(60)]  # 25 frames per pass: loops twice
    assert captures[-1].to_bgr(None).shape == (120, 160, 3)
    assert captures[0].to_bgr(80).shape == (60, 80, 3)
    source.close()
    source.close()


def test_file_source_plays_at_its_native_rate(tmp_path: Path) -> None:
    clip = make_clip(tmp_path / "clip.mp4", seconds=1.0, fps=25)
    source = source_for(f"file://{clip}", SourceOptions(realtime=True))
    source.open()
    first = source.read()
    last = [source.read() for _ in range(24)][-1]
    source.close()
    assert 0.85 <= last.mono - first.mono <= 1.2


def test_file_played_once_ends(tmp_path: Path) -> None:
    clip = make_clip(tmp_path / "clip.mp4", seconds=0.4, fps=25)
    source = source_for(f"file://{clip}", SourceOptions(realtime=False, loop=False))
    source.open()
    for _ in range(10):
        source.read()
    with pytest.raises(SourceEnded):
        source.read()


def test_not_a_video_is_a_clear_open_error(tmp_path: Path) -> None:
    junk = tmp_path / "junk.mp4"
    junk.write_bytes(b"this is not a video" * 100)
    with pytest.raises(SourceOpenError, match=r"junk\.mp4: cannot open"):
        source_for(f"file://{junk}").open()
    with pytest.raises(SourceOpenError, match="cannot open"):
        source_for(f"file://{tmp_path}/missing.mp4").open()


def _damaged(tmp_path: Path, how: str) -> Path:
    """A clip cut short or with stretches of its picture data overwritten by noise."""
    suffix = ".mp4" if how == "truncated_mp4" else ".ts"
    data = bytearray(make_clip(tmp_path / f"good{suffix}", seconds=2.0, fps=25).read_bytes())
    path = tmp_path / f"{how}{suffix}"
    if how.startswith("truncated"):
        path.write_bytes(data[: len(data) * 6 // 10])
    else:
        noise = np.random.default_rng(3).integers(0, 255, len(data), np.uint8).tobytes()
        for start in range(len(data) // 5, len(data) * 4 // 5, 1500):
            data[start : start + 300] = noise[start : start + 300]
        path.write_bytes(data)
    return path


def _file_worker(path: Path) -> CameraWorker:
    source = source_for(f"file://{path}", SourceOptions(realtime=False))
    parts = WorkerParts("CAM-F", 25.0, source, [], CollectingSink(), None, SystemClock())
    return CameraWorker(parts, WorkerSettings(backoff_initial_s=0.05, backoff_max_s=0.1))


@pytest.mark.parametrize("how", ["truncated_ts", "corrupt_ts"])
def test_a_damaged_file_plays_what_decodes_and_the_worker_lives(tmp_path: Path, how: str) -> None:
    worker = _file_worker(_damaged(tmp_path, how))
    worker.start()
    try:
        # 50 frames per pass at most: 150 means it played through the damage and looped.
        assert wait_for(lambda: worker.snapshot().frames_in >= 150, 20)
        assert all(t.is_alive() for t in worker._threads)
    finally:
        worker.stop()


def test_a_truncated_mp4_is_an_error_in_health_and_the_worker_lives(tmp_path: Path) -> None:
    worker = _file_worker(_damaged(tmp_path, "truncated_mp4"))  # its index (moov) is cut off
    worker.start()
    try:
        assert wait_for(lambda: worker.snapshot().reconnects >= 3, 10)
        health = worker.snapshot()
        assert health.state == "offline" and not health.online
        assert (
            health.last_error is not None and "truncated_mp4.mp4: cannot open" in health.last_error
        )
        assert all(t.is_alive() for t in worker._threads)
    finally:
        worker.stop()


def test_corrupt_packets_are_reported_as_corrupt_frames(tmp_path: Path) -> None:
    path = _damaged(tmp_path, "corrupt_ts")
    source = source_for(f"file://{path}", SourceOptions(realtime=False, loop=False))
    source.open()
    good = corrupt = 0
    while True:
        try:
            source.read()
            good += 1
        except CorruptFrame:
            corrupt += 1
        except SourceEnded:
            break
    assert good >= 10
    assert corrupt >= 1
    assert good + corrupt <= 50


class _Camera(BaseHTTPRequestHandler):
    """An HTTP camera: /snap.jpg (Basic auth) and /video.mjpg."""

    jpeg = b""
    auth = "Basic " + base64.b64encode(b"viewer:h77p-secret").decode()

    def do_GET(self) -> None:  # noqa: N802
        if self.headers.get("Authorization") != self.auth:
            self.send_response(401)
            self.send_header("WWW-Authenticate", 'Basic realm="cam"')
            self.end_headers()
            return
        if self.path.startswith("/snap.jpg"):
            self._send(self.jpeg, "image/jpeg")
        elif self.path.startswith("/video.mjpg"):
            self._mjpeg()
        else:
            self._send(b"<html>hello</html>", "text/html")

    def _send(self, body: bytes, content_type: str) -> None:
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _mjpeg(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "multipart/x-mixed-replace; boundary=frame")
        self.end_headers()
        try:
            for _ in range(40):
                self.wfile.write(
                    b"--frame\r\nContent-Type: image/jpeg\r\n\r\n" + self.jpeg + b"\r\n"
                )
                time.sleep(0.02)
        except OSError:
            pass

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def http_camera() -> Iterator[str]:
    _Camera.jpeg = media.encode_jpeg(np.full((90, 120, 3), 200, np.uint8))
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Camera)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_http_snapshot_polling(http_camera: str) -> None:
    source = source_for(
        f"http://viewer:h77p-secret@{http_camera}/snap.jpg", SourceOptions(poll_fps=20)
    )
    info = source.open()
    assert (info.codec, info.width, info.height) == ("snapshot", 120, 90)
    captures = [source.read() for _ in range(5)]
    assert captures[-1].mono - captures[1].mono >= 0.14  # polled at 20 fps, not flat out
    assert captures[0].to_bgr(60).shape == (44, 60, 3)  # even height
    source.close()


def test_http_mjpeg_stream(http_camera: str) -> None:
    source = source_for(f"http://viewer:h77p-secret@{http_camera}/video.mjpg")
    assert source.open().codec == "mjpeg"
    assert all(source.read().width == 120 for _ in range(20))
    source.close()


def test_http_errors_name_the_problem_not_the_password(http_camera: str) -> None:
    with pytest.raises(SourceOpenError, match="HTTP 401") as denied:
        source_for(f"http://viewer:wrong-pass@{http_camera}/snap.jpg").open()
    assert "wrong-pass" not in str(denied.value)
    with pytest.raises(SourceOpenError, match="not a JPEG"):
        source_for(f"http://viewer:h77p-secret@{http_camera}/index.html").open()


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A port that accepts connections and never says a word."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    yield listener.getsockname()[1]
    listener.close()


@pytest.mark.parametrize("scheme", ["rtsp", "http"])
def test_a_url_that_never_answers_fails_within_the_open_timeout(
    scheme: str, silent_port: int
) -> None:
    source = source_for(
        f"{scheme}://admin:n3ver-t0ld@127.0.0.1:{silent_port}/stream",
        SourceOptions(open_timeout_s=1.5, read_timeout_s=1.5),
    )
    started = time.monotonic()
    with pytest.raises(SourceOpenError) as failed:
        source.open()
    elapsed = time.monotonic() - started
    assert 1.0 <= elapsed <= 4.0
    message = str(failed.value)
    assert "n3ver-t0ld" not in message and "admin" not in message
    assert f"127.0.0.1:{silent_port}" in message
