"""Physics of a thrown object: gravity, an initial velocity and optional quadratic drag.

Positions are world metres (x right, y up, z from the camera towards the
facade); the object comes to rest where it reaches the ground. The renderer
draws it at a few instants inside each frame's exposure, which smears fast
objects the way a real shutter does.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
import numpy.typing as npt

from detectors.thrown_object.config import G
from evaluation.thrown_object.scene import View

STEP_S = 1 / 500
EXPOSURE_SUBSTEPS = 3


@dataclass(frozen=True, slots=True)
class Throw:
    """Release point (m), release velocity (m/s) and, for light objects, terminal velocity."""

    start: tuple[float, float, float]
    velocity: tuple[float, float, float]
    terminal_mps: float | None = None


def trajectory(throw: Throw, duration_s: float) -> npt.NDArray[np.float64]:
    """Positions every `STEP_S` seconds from release, shape (n, 3), resting on the ground."""
    steps = int(duration_s / STEP_S) + 2
    out = np.empty((steps, 3))
    p = np.array(throw.start, np.float64)
    v = np.array(throw.velocity, np.float64)
    k = 0.0 if throw.terminal_mps is None else G / throw.terminal_mps**2
    landed = False
    for i in range(steps):
        out[i] = p
        if landed:
            continue
        accel = np.array([0.0, -G, 0.0]) - k * np.linalg.norm(v) * v
        v = v + accel * STEP_S
        p = p + v * STEP_S
        if p[1] <= 0.0:
            p[1] = 0.0
            landed = True
    return out


def position_at(path: npt.NDArray[np.float64], t: float) -> npt.NDArray[np.float64]:
    """Interpolated position `t` seconds after release (clamped to the path)."""
    index = min(max(t / STEP_S, 0.0), len(path) - 1.001)
    low = int(index)
    share = index - low
    result: npt.NDArray[np.float64] = path[low] * (1 - share) + path[low + 1] * share
    return result


def landing_time(path: npt.NDArray[np.float64]) -> float:
    """Seconds from release to reaching the ground (or the end of the path)."""
    grounded = np.flatnonzero(path[:, 1] <= 0.0)
    return float(grounded[0] * STEP_S) if len(grounded) else float((len(path) - 1) * STEP_S)


@dataclass(frozen=True, slots=True)
class Look:
    """How an object looks: outline (unit size, centred), size in metres, colour, spin."""

    outline: npt.NDArray[np.float64]
    size_m: float
    bgr: tuple[int, int, int]
    spin_rad_s: float


def draw_object(
    frame: npt.NDArray[np.uint8],
    view: View,
    look: Look,
    samples: list[tuple[float, npt.NDArray[np.float64]]],
) -> None:
    """Draw the object at each (time, position) sample with equal weight (motion blur)."""
    weight = 1.0 / len(samples)
    for t, (x, y, z) in samples:
        u, v, depth = view.project(float(x), float(y), float(z))
        scale = view.focal_px * look.size_m / depth
        angle = look.spin_rad_s * t
        rot = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
        pts = (look.outline @ rot.T) * scale + (u, v)
        _blend_polygon(frame, pts, look.bgr, weight)


def _blend_polygon(
    frame: npt.NDArray[np.uint8],
    pts: npt.NDArray[np.float64],
    bgr: tuple[int, int, int],
    weight: float,
) -> None:
    h, w = frame.shape[:2]
    x0, y0 = np.floor(pts.min(axis=0)).astype(int) - 2
    x1, y1 = np.ceil(pts.max(axis=0)).astype(int) + 2
    x0, y0, x1, y1 = max(x0, 0), max(y0, 0), min(x1, w), min(y1, h)
    if x1 <= x0 or y1 <= y0:
        return
    mask = np.zeros((y1 - y0, x1 - x0), np.uint8)
    local = np.round((pts - (x0, y0)) * 16).astype(np.int32)
    cv2.fillPoly(mask, [local], 255, lineType=cv2.LINE_AA, shift=4)
    alpha = (mask.astype(np.float32) / 255 * weight)[..., None]
    roi = frame[y0:y1, x0:x1].astype(np.float32)
    frame[y0:y1, x0:x1] = (roi * (1 - alpha) + np.array(bgr, np.float32) * alpha).astype(np.uint8)


def outline(shape: str, rng: np.random.Generator) -> npt.NDArray[np.float64]:
    """A unit-size outline for `shape` (ball, box, bottle, bag)."""
    if shape == "ball":
        angles = np.linspace(0, 2 * np.pi, 16, endpoint=False)
        return 0.5 * np.stack([np.cos(angles), np.sin(angles)], axis=1)
    if shape in ("box", "bottle"):
        aspect = 0.6 if shape == "box" else 0.3
        return np.array(
            [[-0.5, -0.5 * aspect], [0.5, -0.5 * aspect], [0.5, 0.5 * aspect], [-0.5, 0.5 * aspect]]
        )
    angles = np.sort(rng.uniform(0, 2 * np.pi, 7))
    radii = rng.uniform(0.25, 0.5, 7)
    return np.stack([radii * np.cos(angles), radii * np.sin(angles)], axis=1)
