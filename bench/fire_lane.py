"""CPU per fire-lane camera at 1 analysed frame/s with 1080p decode, and the ratio
against ultralytics' own zone solution (`solutions.TrackZone`) in the same run.

One 1080p clip (vtest.avi upscaled to 1920x1080, 25 fps, MPEG-4, a pile of boxes
composited into the lane from 15 s to 45 s) is decoded in full three times:

- decode only (what every camera pays);
- gridhub: decode + the `fire_lane` detector (onnxruntime person model at 640,
  ByteTrack, class-agnostic lane model) on one frame per second;
- ultralytics: decode + `TrackZone` with the same ONNX file on the same frames, its
  in-zone tracks fed to the same dwell timer so both give alerts.

CPU is process CPU time over video time (100 % = one core busy). ultralytics'
predictor warm-up imports torchvision, which does not load beside the CPU build
of torch installed here, so this script (only) replaces that warm-up with a no-op.
Run: ``.venv/bin/python bench/fire_lane.py [--seconds 60]``.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

os.environ.setdefault("YOLO_OFFLINE", "1")
os.environ.setdefault("YOLO_VERBOSE", "False")

import cv2  # noqa: E402
import numpy as np  # noqa: E402
import numpy.typing as npt  # noqa: E402

from detectors.backends.export import export_onnx  # noqa: E402
from detectors.fire_lane import FireLanePlugin  # noqa: E402
from detectors.zones.episodes import Continuity, EpisodeRules, EpisodeTimer, Event  # noqa: E402
from evaluation.fire_lane.clips import LANE, VTEST, Episode, draw_object  # noqa: E402
from hub.clock import FakeClock  # noqa: E402
from hub.config import Camera  # noqa: E402
from hub.model import Frame  # noqa: E402

FPS = 25
SIZE = (1920, 1080)
BOXES = Episode(start=15, end=45, shape="boxes", x=0.72, y=0.56, colour=(60, 120, 170))
DWELL_S, CLEAR_S = 20.0, 5.0
Image = npt.NDArray[np.uint8]
Analyse = Callable[[float, Image], list[str]]


def make_clip(path: Path, seconds: int) -> None:
    source = cv2.VideoCapture(str(VTEST))
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*"mp4v"), FPS, SIZE)
    image = None
    for index in range(seconds * FPS):
        t = index / FPS
        if index % 5 in (0, 3):  # 10 fps source → 25 fps, frames shown 3/2/3/2...
            ok, image = source.read()
            if not ok:
                source.set(cv2.CAP_PROP_POS_FRAMES, 0)
                ok, image = source.read()
        assert image is not None
        frame: npt.NDArray[np.uint8] = np.asarray(image, dtype=np.uint8).copy()
        if BOXES.start <= t < BOXES.end:
            draw_object(frame, BOXES)
        writer.write(cv2.resize(frame, SIZE))
    writer.release()


@dataclass
class Pass:
    name: str
    cpu_s: float
    wall_s: float
    answers: list[str]


def run_pass(name: str, clip: Path, analyse: Analyse | None) -> Pass:
    capture = cv2.VideoCapture(str(clip))
    answers: list[str] = []
    cpu, wall = time.process_time(), time.perf_counter()
    index = 0
    while True:
        ok, image = capture.read()
        if not ok:
            break
        if analyse is not None and index % FPS == 0:
            answers += analyse(index / FPS, np.asarray(image, dtype=np.uint8))
        index += 1
    return Pass(name, time.process_time() - cpu, time.perf_counter() - wall, answers)


def gridhub_analyser(onnx: Path) -> Analyse:
    camera = Camera.model_validate(
        {
            "id": "BENCH",
            "name": "bench",
            "url": "file:///bench.mp4",
            "location": {"lat": 30.0, "lon": 120.0},
            "analysis_fps": 1,
            "zones": [{"id": "lane", "kind": "polygon", "points": [list(p) for p in LANE]}],
            "detectors": [
                {
                    "kind": "fire_lane",
                    "zones": ["lane"],
                    "model": {"weights": str(onnx), "imgsz": 640, "threads": 1},
                    "vehicle_classes": [],
                    "person_classes": ["Normal", "Fall"],
                    "dwell_s": DWELL_S,
                    "clear_s": CLEAR_S,
                }
            ],
        }
    )
    detector = FireLanePlugin().build(camera, camera.detectors[0], FakeClock())
    origin = datetime(2026, 1, 1, tzinfo=UTC)

    def analyse(t: float, image: Image) -> list[str]:
        frame = Frame("BENCH", int(t), t, origin + timedelta(seconds=t), image)
        return [f"{a.label}@{t:.0f}s" for a in detector.process(frame)]

    return analyse


def ultralytics_analyser(onnx: Path) -> Analyse:
    from ultralytics import solutions
    from ultralytics.nn.autobackend import AutoBackend

    AutoBackend.warmup = lambda self, *args, **kwargs: None  # imports torchvision; see above
    region = [(round(x * SIZE[0]), round(y * SIZE[1])) for x, y in LANE]
    zone = solutions.TrackZone(model=str(onnx), region=region, show=False, verbose=False, imgsz=640)
    timer = EpisodeTimer(EpisodeRules(DWELL_S, CLEAR_S))
    presence: dict[int, Continuity] = {}

    def analyse(t: float, image: Image) -> list[str]:
        zone(image)
        starts = []
        for track_id in zone.track_ids:
            since = presence.setdefault(int(track_id), Continuity(10)).update(t, True)
            starts.append(since if since is not None else t)
        event = timer.update(t, min(starts) if starts else None)
        names = {Event.ALERT: "fire_lane", Event.CLEARED: "fire_lane_cleared"}
        return [f"{names[event]}@{t:.0f}s"] if event is not None else []

    return analyse


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=60)
    args = parser.parse_args()
    import fall_detection

    weights = Path(fall_detection.__file__).parent / "models" / "best.pt"
    with tempfile.TemporaryDirectory() as tmp:
        clip, onnx = Path(tmp) / "lane-1080p.mp4", Path(tmp) / "person-640.onnx"
        make_clip(clip, args.seconds)
        export_onnx(weights, 640, onnx)
        print(f"load average before: {os.getloadavg()[0]:.2f} (2 cores shared with other work)")
        passes = [
            run_pass("decode only", clip, None),
            run_pass("gridhub fire_lane", clip, gridhub_analyser(onnx)),
            run_pass("ultralytics TrackZone", clip, ultralytics_analyser(onnx)),
        ]
        print(f"load average after: {os.getloadavg()[0]:.2f}")
    report(passes, args.seconds)


def report(passes: list[Pass], seconds: int) -> None:
    print(f"{seconds} s of 1920x1080 at {FPS} fps; 1 analysed frame/s; boxes in the lane 15-45 s")
    print("| pass | CPU per camera (% of a core) | wall s | answers |")
    print("|---|---|---|---|")
    for p in passes:
        answers = ", ".join(p.answers) or "none"
        print(f"| {p.name} | {100 * p.cpu_s / seconds:.1f} | {p.wall_s:.1f} | {answers} |")
    decode, ours, theirs = passes
    print(
        f"ratio ultralytics/gridhub CPU: {theirs.cpu_s / ours.cpu_s:.2f}x overall, "
        f"{(theirs.cpu_s - decode.cpu_s) / (ours.cpu_s - decode.cpu_s):.2f}x for analysis alone"
    )


if __name__ == "__main__":
    main()
