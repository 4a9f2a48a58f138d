"""Camera ingest benchmark: worker CPU against pure decode, cameras in real time, reconnect time.

    .venv/bin/python bench/ingest_video.py [--seconds 8] [--max-cameras 6] [--restarts 5]

1. CPU per camera for 1080p H.264 at 25 fps: pure PyAV decode (one thread, no
   colour conversion) of a generated clip, and the camera worker playing the
   same clip at its native rate (decode + pacing + evidence ring buffer at
   8 fps / 640 px; no detector), each in a fresh process, measured side by side
   in one run. Also the worker with a no-op detector at 5 fps, which adds the
   full-size BGR conversion a detector needs.
2. How many such cameras one hub process keeps in real time: N workers on the
   clip at once, each must decode >= 24 fps with no sustained drops.
3. Time from camera back online to the first analysed frame: a real RTSP server
   (gst-rtsp-server, 320x240 H.264) is killed and restarted under a running
   worker with the site defaults (backoff 0.25 s doubling to 2 s, with jitter).

The machine is shared: the load average at start and end is printed with the figures.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from hub.cameras.worker import CameraWorker
    from hub.model import Alert, Frame
    from hub.seams import Detector

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

FPS = 25
SIZE = (1920, 1080)


def make_clip(path: Path, seconds: float) -> None:
    """A 1080p H.264 clip with texture, motion and noise (flat colour decodes too fast)."""
    import av
    import cv2
    import numpy as np

    rng = np.random.default_rng(0)
    w, h = SIZE
    texture = rng.integers(0, 255, (h // 8, w // 8, 3), np.uint8).repeat(8, 0).repeat(8, 1)
    with av.open(str(path), mode="w") as container:
        # 4 Mbit/s, GOP 50: what a 1080p camera main stream typically sends.
        options = {"preset": "veryfast", "x264-params": "keyint=50:min-keyint=50"}
        stream = container.add_stream("libx264", rate=FPS, options=options)
        stream.width, stream.height, stream.pix_fmt = w, h, "yuv420p"
        stream.bit_rate = 4_000_000
        for i in range(round(seconds * FPS)):
            image = np.roll(texture, i * 6, axis=1)
            image = cv2.add(image, rng.integers(0, 24, image.shape, np.uint8))  # sensor noise
            y = (i * 20) % (h - 200)
            image[y : y + 200, 800:1000] = (255, 255, 255)
            frame = av.VideoFrame.from_ndarray(np.asarray(image, dtype=np.uint8), format="bgr24")
            frame.pts, frame.time_base = i, Fraction(1, FPS)
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))


# Children: each measurement runs in its own process so CPU times are its own. ---------


def child_decode(clip: str, paced: bool) -> dict[str, float]:
    """PyAV decode only, one thread; `paced` releases frames at 25 fps like a live camera."""
    import av

    start, started = time.process_time(), time.monotonic()
    frames = 0
    with av.open(clip) as container:
        stream = container.streams.video[0]
        stream.thread_count = 1
        for _ in container.decode(stream):
            frames += 1
            delay = started + frames / FPS - time.monotonic()
            if paced and delay > 0:
                time.sleep(delay)
    return {"cpu_s": time.process_time() - start, "frames": frames}


def _workers(clip: str, count: int, detect: bool, evidence_fps: float) -> list[CameraWorker]:
    from hub.cameras.evidence import EvidenceSettings
    from hub.cameras.source import make_source
    from hub.cameras.worker import CameraWorker, WorkerParts, WorkerSettings
    from hub.clock import SystemClock
    from hub.plugins import load_registry
    from hub.seams import SourceOptions

    class NullDetector:
        kind = "null"

        def process(self, frame: Frame) -> list[Alert]:
            return []

    registry = load_registry(["gridhub.sources"])
    workers = []
    for i in range(count):
        source = make_source(registry, "file", f"file://{clip}", SourceOptions(realtime=True))
        detectors: list[Detector] = [NullDetector()] if detect else []
        parts = WorkerParts(f"B{i}", 5.0, source, detectors, _NoSink(), None, SystemClock())
        settings = WorkerSettings(evidence=EvidenceSettings(fps=evidence_fps))
        workers.append(CameraWorker(parts, settings))
    return workers


class _NoSink:
    def submit(self, alert: Alert) -> None:
        pass


def child_workers(
    clip: str, count: int, seconds: float, detect: bool, evidence_fps: float = 8.0
) -> dict[str, Any]:

    workers = _workers(clip, count, detect, evidence_fps)
    start_cpu, start = time.process_time(), time.monotonic()
    for worker in workers:
        worker.start()
    time.sleep(seconds)
    healths = [w.snapshot() for w in workers]
    cpu = time.process_time() - start_cpu
    wall = time.monotonic() - start
    for worker in workers:
        worker.stop()
    return {
        "cpu_s": cpu,
        "wall_s": wall,
        "frames": [h.frames_in for h in healths],
        "fps_in": [round(h.frames_in / wall, 2) for h in healths],
        "dropped": [h.dropped_frames for h in healths],
    }


def run_child(*args: str) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, __file__, "--child", *args], capture_output=True, text=True, check=True
    )
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


# The reconnect measurement. ------------------------------------------------------------


def reconnect_times(restarts: int) -> list[float]:
    from hub.cameras.manager import worker_settings
    from hub.cameras.source import make_source
    from hub.cameras.worker import CameraWorker, WorkerParts
    from hub.clock import SystemClock
    from hub.config import VideoSettings
    from hub.plugins import load_registry
    from hub.seams import SourceOptions
    from tests.camera_support import NullDetector, RtspServer, gst_rtsp_available, wait_for
    from tests.conftest import free_port

    if gst_rtsp_available() is not None:
        raise SystemExit("gst-rtsp-server missing: run ./scripts/bootstrap as root")
    server = RtspServer(free_port())
    server.start()
    video = VideoSettings()
    source = make_source(load_registry(["gridhub.sources"]), "rtsp", server.url, SourceOptions())
    parts = WorkerParts("R", 5.0, source, [NullDetector()], _NoSink(), None, SystemClock())
    worker = CameraWorker(parts, worker_settings(video))
    worker.start()
    times = []
    try:
        wait_for(lambda: worker.snapshot().frames_analysed > 0, 15)
        for _ in range(restarts):
            server.stop()
            wait_for(lambda: worker.snapshot().state == "offline", 10)
            time.sleep(3.0)  # dark long enough for the backoff to reach its cap
            before = worker.snapshot().frames_analysed
            server.start()
            back = time.monotonic()

            def advanced(n: int = before) -> bool:
                return worker.snapshot().frames_analysed > n

            if wait_for(advanced, 30, step=0.01):
                times.append(time.monotonic() - back)
    finally:
        worker.stop()
        server.stop()
    return times


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=8.0, help="length of each measurement")
    parser.add_argument("--max-cameras", type=int, default=6)
    parser.add_argument("--restarts", type=int, default=5)
    parser.add_argument("--repeat", type=int, default=3, help="runs of each CPU measurement")
    parser.add_argument(
        "--parts", default="cpu,realtime,reconnect", help="which measurements, comma-separated"
    )
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(_child(args.child)))
        return 0
    load = os.getloadavg()
    print(
        f"load average at start: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} ({os.cpu_count()} cores)"
    )
    with tempfile.TemporaryDirectory() as tmp:
        clip = Path(tmp) / "1080p25.mp4"
        make_clip(clip, args.seconds)
        if "cpu" in args.parts:
            cpu_ratio(str(clip), args.seconds, args.repeat)
        if "realtime" in args.parts:
            realtime_cameras(str(clip), args.seconds, args.max_cameras)
    times = reconnect_times(args.restarts) if "reconnect" in args.parts else []
    if times:
        print(
            f"\nback online -> first analysed frame over {len(times)} restarts: median "
            f"{statistics.median(times):.2f} s, max {max(times):.2f} s (target < 3 s)"
        )
    load = os.getloadavg()
    print(f"load average at end: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    return 0


def _child(argv: list[str]) -> dict[str, Any]:
    match argv:
        case ["decode", clip, paced]:
            return child_decode(clip, paced == "1")
        case ["workers", clip, count, seconds, detect, *evidence_fps]:
            fps = float(evidence_fps[0]) if evidence_fps else 8.0
            return child_workers(clip, int(count), float(seconds), detect == "1", fps)
    raise SystemExit(f"unknown child {argv}")


def cpu_ratio(clip: str, seconds: float, repeat: int) -> None:
    children = {
        "pure decode, flat out": ("decode", clip, "0"),
        "pure decode, paced at 25 fps": ("decode", clip, "1"),
        "worker, no detector": ("workers", clip, "1", str(seconds + 0.5), "0"),
        "worker, no detector, evidence 5fps": ("workers", clip, "1", str(seconds + 0.5), "0", "5"),
        "worker + no-op detector @5fps": ("workers", clip, "1", str(seconds + 0.5), "1"),
    }
    samples: dict[str, list[float]] = {name: [] for name in children}
    for _ in range(repeat):  # interleaved, so a change in the machine's load hits all alike
        for name, argv in children.items():
            samples[name].append(_ms_per_frame(run_child(*argv)))
    per_frame = {name: statistics.median(values) for name, values in samples.items()}
    flat, paced = per_frame["pure decode, flat out"], per_frame["pure decode, paced at 25 fps"]
    print(f"\n1080p H.264 {FPS} fps, 4 Mbit/s; CPU per frame, median of {repeat} interleaved runs")
    print(f"{'':35s} {'ms':>6s}   ratio to flat-out / paced decode")
    for name, ms in per_frame.items():
        print(f"{name:35s} {ms:6.2f}   {ms / flat:.2f}x / {ms / paced:.2f}x")


def _ms_per_frame(result: dict[str, Any]) -> float:
    frames = result["frames"]
    count = float(frames[0] if isinstance(frames, list) else frames)
    return float(result["cpu_s"]) / count * 1000


def realtime_cameras(clip: str, seconds: float, max_cameras: int) -> None:
    print("\ncameras  fps_in per camera (min)   dropped   CPU cores used")
    for count in range(1, max_cameras + 1):
        result = run_child("workers", clip, str(count), str(seconds), "1")
        fps = result["fps_in"]
        low = min(fps)
        cores = float(result["cpu_s"]) / float(result["wall_s"])
        print(f"{count:7d}  {low:24.2f}   {sum(result['dropped']):7d}   {cores:.2f}")
        if low < FPS * 0.96:
            print(f"-> {count - 1} camera(s) of 1080p25 in real time in one process")
            return
    print(f"-> at least {max_cameras} cameras in real time")


if __name__ == "__main__":
    sys.exit(main())
