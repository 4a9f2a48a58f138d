"""Camera test helpers: a real RTSP server process, generated clips, a collecting sink,
a scripted frame source (a fake at a seam we own), and a wait helper."""

from __future__ import annotations

import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest

from hub.clock import Clock, SystemClock
from hub.errors import SourceOpenError, SourceReadError
from hub.model import Alert, Frame
from hub.seams import Capture, Image, SourceInfo
from tests.conftest import _unavailable, free_port

SYSTEM_PYTHON = "/usr/bin/python3"
SERVER_SCRIPT = Path(__file__).with_name("rtsp_server.py")
RTSP_USER, RTSP_PASSWORD = "admin", "Sup3r-s3cret"


def wait_for(condition: Callable[[], bool], timeout: float, step: float = 0.05) -> bool:
    """Poll `condition` until it holds or `timeout` seconds pass; returns the last result."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(step)
    return condition()


def gst_rtsp_available() -> str | None:
    """None when the system python has gst-rtsp-server, else why not."""
    probe = (
        "import gi; gi.require_version('GstRtspServer', '1.0'); "
        "from gi.repository import GstRtspServer"
    )
    try:
        done = subprocess.run([SYSTEM_PYTHON, "-c", probe], capture_output=True, timeout=20)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"{SYSTEM_PYTHON} unusable: {exc}"
    return None if done.returncode == 0 else done.stderr.decode().strip().splitlines()[-1]


@dataclass
class RtspServer:
    """gst-rtsp-server in a subprocess, serving a live H.264 test picture with Basic auth."""

    port: int
    path: str = "/cam"
    fps: int = 25
    process: subprocess.Popen[str] | None = None

    @property
    def url(self) -> str:
        return f"rtsp://{RTSP_USER}:{RTSP_PASSWORD}@127.0.0.1:{self.port}{self.path}"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [SYSTEM_PYTHON, str(SERVER_SCRIPT), "--port", str(self.port), "--path", self.path,
             "--fps", str(self.fps), "--user", RTSP_USER, "--password", RTSP_PASSWORD],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )  # fmt: skip
        assert self.process.stdout is not None
        line = self.process.stdout.readline().strip()
        if line != "READY":
            self.stop()
            raise RuntimeError(f"RTSP server did not start: {line}")

    def stop(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait(10)
            if self.process.stdout:
                self.process.stdout.close()
            self.process = None


@pytest.fixture
def rtsp_server() -> Iterator[RtspServer]:
    """A running RTSP server on a free loopback port, stopped after the test."""
    problem = gst_rtsp_available()
    if problem:
        _unavailable(f"gst-rtsp-server is not installed ({problem}); run ./scripts/bootstrap")
    server = RtspServer(free_port())
    server.start()
    yield server
    server.stop()


def make_clip(
    path: Path, seconds: float, fps: int = 25, size: tuple[int, int] = (160, 120)
) -> Path:
    """An H.264 MP4 of a white square moving over grey, frame number in the red channel."""
    width, height = size
    with av.open(str(path), mode="w") as container:
        stream = container.add_stream("libx264", rate=fps, options={"preset": "ultrafast"})
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        for i in range(round(seconds * fps)):
            image = np.full((height, width, 3), 90, np.uint8)
            x = (i * 4) % max(1, width - 16)
            image[height // 3 : height // 3 + 16, x : x + 16] = 255
            frame = av.VideoFrame.from_ndarray(image, format="bgr24")
            frame.pts, frame.time_base = i, Fraction(1, fps)
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    return path


class NullDetector:
    """Looks at every frame and finds nothing."""

    kind = "null"

    def process(self, frame: Frame) -> list[Alert]:
        return []


@dataclass
class CollectingSink:
    """An AlertSink that keeps what it gets."""

    alerts: list[Alert] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def submit(self, alert: Alert) -> None:
        with self.lock:
            self.alerts.append(alert)

    def kinds(self) -> list[str]:
        with self.lock:
            return [a.kind for a in self.alerts]


@dataclass
class ScriptedSource:
    """A FrameSource that makes pictures at `fps` and fails on cue (a seam we own)."""

    fps: float = 50.0
    size: tuple[int, int] = (64, 48)
    fail_opens: int = 0  # the next N opens fail
    break_after: int | None = None  # a read error after this many frames of a connection
    clock: Clock = field(default_factory=SystemClock)
    opens: int = 0
    frames: int = 0
    _served: int = 0
    _next: float = 0.0

    def describe(self) -> str:
        return "scripted scripted://***@camera"

    def open(self) -> SourceInfo:
        self.opens += 1
        if self.fail_opens > 0:
            self.fail_opens -= 1
            raise SourceOpenError("scripted://***@camera: refused (scripted)")
        self._served, self._next = 0, self.clock.monotonic()
        return SourceInfo("scripted", "raw", self.size[0], self.size[1], self.fps)

    def read(self) -> Capture:
        if self.break_after is not None and self._served >= self.break_after:
            self.break_after = None
            raise SourceReadError("scripted://***@camera: connection lost (scripted)")
        delay = self._next - self.clock.monotonic()
        if delay > 0:
            time.sleep(delay)
        self._next += 1.0 / self.fps
        self._served += 1
        self.frames += 1
        image = np.full((self.size[1], self.size[0], 3), self.frames % 256, np.uint8)
        return Capture(
            self.clock.monotonic(), self.clock.now(), self.size[0], self.size[1], _Fixed(image)
        )

    def close(self) -> None:
        pass


class _Fixed:
    def __init__(self, image: Image) -> None:
        self.image = image

    def __call__(self, width: int | None) -> Image:
        return self.image
