"""The evaluation chart, drawn with OpenCV (no plotting library needed).

Left: bars for recall, recall on qualifying throws, precision, floor exact and
floor within one, each with its target marked. Right: alert latency of every
detected throw after the object left the facade (or landed), against the 1 s
target.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import cv2
import numpy as np

from hub.errors import HubError

WIDTH, HEIGHT = 1000, 420
BARS = (
    ("recall", "recall", None),
    ("recall_qualifying", "recall >=6px", 0.95),
    ("precision", "precision", 0.95),
    ("floor_exact", "floor exact", 0.90),
    ("floor_within_1", "floor +-1", 0.98),
)


def draw_chart(report: dict[str, Any], path: Path) -> None:
    """Write the chart of `report` as a PNG to `path`."""
    canvas = np.full((HEIGHT, WIDTH, 3), 255, np.uint8)
    _bars(canvas, report["summary"])
    latencies = [
        a["confirmed_s"] - row["events"][a["event"]]["end_s"]
        for row in report["clips"]
        for a in row["alerts"]
        if a["event"] is not None
    ]
    _latencies(canvas, latencies)
    if not cv2.imwrite(str(path), canvas):
        raise HubError(f"cannot write chart {path}")


def _text(canvas: np.ndarray, text: str, at: tuple[int, int], scale: float = 0.45) -> None:
    cv2.putText(canvas, text, at, cv2.FONT_HERSHEY_SIMPLEX, scale, (30, 30, 30), 1, cv2.LINE_AA)


def _bars(canvas: np.ndarray, summary: dict[str, Any]) -> None:
    left, bottom, top = 50, HEIGHT - 60, 50
    _text(canvas, "thrown_object evaluation", (left, 30), 0.6)
    cv2.line(canvas, (left, bottom), (left + 5 * 90, bottom), (0, 0, 0), 1)
    for k, (key, label, goal) in enumerate(BARS):
        x = left + 15 + k * 90
        value = summary.get(key)
        height = int((bottom - top) * (value or 0.0))
        colour = (80, 160, 60) if goal is None or (value or 0) >= goal else (60, 60, 200)
        cv2.rectangle(canvas, (x, bottom - height), (x + 55, bottom), colour, -1)
        if goal is not None:
            y = bottom - int((bottom - top) * goal)
            cv2.line(canvas, (x - 5, y), (x + 60, y), (0, 0, 0), 2)
        _text(canvas, "n/a" if value is None else f"{value:.2f}", (x + 5, bottom - height - 6))
        _text(canvas, label, (x - 5, bottom + 20), 0.4)


def _latencies(canvas: np.ndarray, latencies: list[float]) -> None:
    """Histogram of latencies; negative ones (alert before the object left) included."""
    left, right, bottom, top = 560, WIDTH - 30, HEIGHT - 60, 50
    _text(canvas, "alert latency after the fall (s), target 1 s", (left, 30), 0.5)
    cv2.line(canvas, (left, bottom), (right, bottom), (0, 0, 0), 1)
    low = min(-0.5, np.floor(2 * min(latencies, default=0.0)) / 2)
    high = max(1.5, max(latencies, default=0.0) + 0.2)

    def x_of(seconds: float) -> int:
        return left + int((right - left) * (min(max(seconds, low), high) - low) / (high - low))

    cv2.line(canvas, (x_of(1.0), top), (x_of(1.0), bottom), (60, 60, 200), 2)
    values = np.asarray(latencies, np.float64)
    counts, edges = np.histogram(values, bins=int(round((high - low) / 0.1)), range=(low, high))
    peak = max(int(counts.max(initial=0)), 1)
    for count, start, end in zip(counts, edges[:-1], edges[1:], strict=True):
        height = int((bottom - top) * count / peak)
        corner = (x_of(float(start)) + 1, bottom - height)
        cv2.rectangle(canvas, corner, (x_of(float(end)) - 1, bottom), (180, 120, 40), -1)
    for mark in np.arange(np.ceil(2 * low) / 2, high + 1e-9, 0.5):
        _text(canvas, f"{mark:.1f}", (x_of(float(mark)) - 10, bottom + 20), 0.4)
    _text(canvas, f"{len(latencies)} detected throws", (left, bottom + 45), 0.45)
