"""Benchmark: 高空抛物 detector + decode against pure decode of the same 1080p 25 fps stream.

    .venv/bin/python bench/thrown_object.py [--clip FILE.mp4 | --seed N] [--rounds 3]

Renders a 1080p 25 fps H.264 clip with a throw (or takes --clip with its
sidecar), then alternates rounds of pure decoding and decoding + detection of
the same file in one process, and prints the CPU time per frame of each (the
median over rounds), their ratio (target: at most 1.3) and how many such
cameras one core sustains in real time. OpenCV and FFmpeg run single-threaded
so that CPU time is one core's work.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

os.environ.setdefault("OPENCV_FFMPEG_CAPTURE_OPTIONS", "threads;1")

import cv2  # noqa: E402
import numpy as np  # noqa: E402

from evaluation.thrown_object.clips import render_clip  # noqa: E402
from evaluation.thrown_object.plan import ClipSettings  # noqa: E402
from evaluation.thrown_object.scoring import build_detector  # noqa: E402
from evaluation.thrown_object.sidecar import ClipTruth, read_truth, write_truth  # noqa: E402
from hub.model import Frame  # noqa: E402

SEED = 424243  # overcast, a ball from floor 7 or so, a bird and an insect about


def decode_only(video: Path) -> tuple[int, float]:
    capture = cv2.VideoCapture(str(video))
    frames, started = 0, time.process_time()
    while capture.read()[0]:
        frames += 1
    capture.release()
    return frames, time.process_time() - started


def decode_and_detect(video: Path, truth: ClipTruth) -> tuple[int, float, int]:
    detector = build_detector(truth, {})
    capture = cv2.VideoCapture(str(video))
    frames, alerts, started = 0, 0, time.process_time()
    while True:
        ok, image = capture.read()
        if not ok:
            break
        t = frames / truth.fps
        wall = truth.start_wall + timedelta(seconds=t)
        pixels = np.asarray(image, dtype=np.uint8)
        alerts += len(detector.process(Frame("bench", frames, t, wall, pixels)))
        frames += 1
    capture.release()
    return frames, time.process_time() - started, alerts


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clip", type=Path, help="an evaluation clip with its .json sidecar")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seed", type=int, default=SEED, help="clip to render (424242: rain)")
    args = parser.parse_args()
    cv2.setNumThreads(1)
    with tempfile.TemporaryDirectory() as tmp:
        video = args.clip
        if video is None:
            video = Path(tmp) / "bench.mp4"
            truth = render_clip(video, args.seed, True, ClipSettings(duration_s=8.0))
            write_truth(video.with_suffix(".json"), truth)
        truth = read_truth(video.with_suffix(".json"))
        plain, both = [], []
        for _ in range(args.rounds):
            frames, seconds = decode_only(video)
            plain.append(1000 * seconds / frames)
            frames, seconds, alerts = decode_and_detect(video, truth)
            both.append(1000 * seconds / frames)
    decode_ms, total_ms = statistics.median(plain), statistics.median(both)
    print(f"clip: {truth.width}x{truth.height} @ {truth.fps:g} fps, {frames} frames, "
          f"{truth.bitrate_kbps} kbit/s, {alerts} alert(s) per pass")  # fmt: skip
    print(f"decode only:       {decode_ms:6.2f} ms CPU per frame (rounds: {_fmt(plain)})")
    print(f"decode + detector: {total_ms:6.2f} ms CPU per frame (rounds: {_fmt(both)})")
    print(f"detector alone:    {total_ms - decode_ms:6.2f} ms CPU per frame")
    print(f"ratio (decode + detector) / decode: {total_ms / decode_ms:.2f}  (target <= 1.30)")
    print(f"cameras one core sustains at {truth.fps:g} fps: {1000 / (total_ms * truth.fps):.1f}")
    print(f"load average while measuring: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    return 0


def _fmt(values: list[float]) -> str:
    return ", ".join(f"{v:.2f}" for v in values)


if __name__ == "__main__":
    sys.exit(main())
