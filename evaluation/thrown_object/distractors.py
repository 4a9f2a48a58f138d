"""Things that move on a facade view but are not thrown objects.

Each distractor is drawn in image space for its time span: birds (flapping,
gliding, diving at constant speed), insects close to the lens (blurred
zig-zags), falling leaves (slow, swaying) and rain (many fast straight
streaks). Speeds and sizes are given for 1080 rows and scaled to the clip.
Scene-wide distractors (lights, illumination jumps, camera shake, noise, night)
are applied by the clip renderer.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

import cv2
import numpy as np
import numpy.typing as npt

Image = npt.NDArray[np.uint8]


class Sprite(Protocol):
    """A distractor drawn frame by frame."""

    kind: str
    start_s: float
    end_s: float

    def draw(self, frame: Image, t: float) -> None: ...

    def details(self) -> dict[str, Any]: ...


@dataclass
class Bird:
    """A bird crossing the view: flapping V, straight or diving at constant speed."""

    start_s: float
    end_s: float
    origin: tuple[float, float]
    velocity: tuple[float, float]
    size: float
    flap_hz: float
    kind: str = "bird"

    def draw(self, frame: Image, t: float) -> None:
        if not self.start_s <= t <= self.end_s:
            return
        dt = t - self.start_s
        x = self.origin[0] + self.velocity[0] * dt
        y = (
            self.origin[1]
            + self.velocity[1] * dt
            + 0.15 * self.size * math.sin(2 * math.pi * 0.7 * dt)
        )
        wing = 0.5 * self.size * math.sin(2 * math.pi * self.flap_hz * dt)
        pts = np.array([[x - self.size, y - wing], [x, y], [x + self.size, y - wing]], np.int32)
        cv2.polylines(frame, [pts], False, (40, 40, 45), max(1, int(self.size / 5)), cv2.LINE_AA)
        cv2.circle(
            frame, (int(x), int(y)), max(1, int(self.size / 4)), (35, 35, 40), -1, cv2.LINE_AA
        )

    def details(self) -> dict[str, Any]:
        return {
            "velocity_px_s": [round(v, 1) for v in self.velocity],
            "size_px": round(self.size, 1),
        }


@dataclass
class Insect:
    """An insect near the lens: a large blurred blob on a zig-zag random walk."""

    start_s: float
    end_s: float
    waypoints: list[tuple[float, float]]
    leg_s: float
    size: float
    kind: str = "insect"

    def draw(self, frame: Image, t: float) -> None:
        if not self.start_s <= t <= self.end_s:
            return
        leg = (t - self.start_s) / self.leg_s
        i = min(int(leg), len(self.waypoints) - 2)
        share = min(leg - i, 1.0)
        (x0, y0), (x1, y1) = self.waypoints[i], self.waypoints[i + 1]
        x, y = x0 + (x1 - x0) * share, y0 + (y1 - y0) * share
        r = int(self.size)
        h, w = frame.shape[:2]
        xa, ya, xb, yb = (
            max(int(x) - 2 * r, 0),
            max(int(y) - 2 * r, 0),
            min(int(x) + 2 * r, w),
            min(int(y) + 2 * r, h),
        )
        if xb <= xa or yb <= ya:
            return
        patch = frame[ya:yb, xa:xb].astype(np.float32)
        mask = np.zeros(patch.shape[:2], np.float32)
        cv2.circle(mask, (int(x) - xa, int(y) - ya), max(r // 2, 1), 0.7, -1)
        soft = np.asarray(cv2.GaussianBlur(mask, (0, 0), max(r / 4, 0.5)), np.float32)[..., None]
        frame[ya:yb, xa:xb] = (patch * (1 - soft) + 30 * soft).astype(np.uint8)

    def details(self) -> dict[str, Any]:
        return {"size_px": round(self.size, 1), "legs": len(self.waypoints) - 1}


@dataclass
class Leaf:
    """A leaf falling slowly and swaying side to side."""

    start_s: float
    end_s: float
    origin: tuple[float, float]
    fall_px_s: float
    sway_px: float
    sway_hz: float
    size: float
    bgr: tuple[int, int, int]
    kind: str = "leaf"

    def draw(self, frame: Image, t: float) -> None:
        if not self.start_s <= t <= self.end_s:
            return
        dt = t - self.start_s
        x = self.origin[0] + self.sway_px * math.sin(2 * math.pi * self.sway_hz * dt)
        y = (
            self.origin[1]
            + self.fall_px_s * dt
            + 0.3 * self.sway_px * math.cos(4 * math.pi * self.sway_hz * dt)
        )
        axes = (max(int(self.size / 2), 1), max(int(self.size / 4), 1))
        angle = 40 * math.sin(2 * math.pi * self.sway_hz * dt)
        cv2.ellipse(frame, (int(x), int(y)), axes, angle, 0, 360, self.bgr, -1, cv2.LINE_AA)

    def details(self) -> dict[str, Any]:
        return {"fall_px_s": round(self.fall_px_s, 1), "sway_px": round(self.sway_px, 1)}


@dataclass
class Rain:
    """Many straight streaks falling at constant speed."""

    start_s: float
    end_s: float
    drops: npt.NDArray[np.float64]  # (n, 4): x, y phase, speed px/s, length px
    slant: float
    brightness: int
    kind: str = "rain"
    _height: int = field(default=1080)

    def draw(self, frame: Image, t: float) -> None:
        if not self.start_s <= t <= self.end_s:
            return
        h = frame.shape[0]
        span = h + 60
        for x, phase, speed, length in self.drops:
            y = (phase + speed * t) % span - 30
            xs = x + self.slant * y
            end = (int(xs + self.slant * length), int(y + length))
            cv2.line(frame, (int(xs), int(y)), end, (self.brightness,) * 3, 1, cv2.LINE_AA)

    def details(self) -> dict[str, Any]:
        return {"drops": len(self.drops)}


def random_sprite(
    kind: str, rng: np.random.Generator, size: tuple[int, int], duration_s: float
) -> Sprite:
    """A distractor of `kind` with random placement, timing and motion."""
    start = float(rng.uniform(0.3, max(duration_s - 2.5, 0.5)))
    end = min(start + float(rng.uniform(1.5, 3.5)), duration_s)
    span = Span(start, end, duration_s, size)
    return SPRITE_MAKERS.get(kind, _rain)(rng, span)


@dataclass(frozen=True, slots=True)
class Span:
    """When a sprite shows and the frame it is drawn on."""

    start: float
    end: float
    duration: float
    size: tuple[int, int]

    @property
    def k(self) -> float:
        """Scale of pixel figures given for 1080 rows."""
        return self.size[1] / 1080


def _bird(rng: np.random.Generator, span: Span) -> Sprite:
    (w, h), k = span.size, span.k
    direction = rng.choice([-1.0, 1.0])
    dive = rng.random() < 0.4
    vy = float(rng.uniform(80, 250)) * k if dive else float(rng.uniform(-40, 40)) * k
    x0 = w * 0.05 if direction > 0 else w * 0.95
    y0 = float(rng.uniform(0.1, 0.6)) * h
    vx = direction * float(rng.uniform(120, 420)) * k
    size = float(rng.uniform(8, 22)) * k
    return Bird(span.start, span.end, (x0, y0), (vx, vy), size, float(rng.uniform(3, 8)))


def _insect(rng: np.random.Generator, span: Span) -> Sprite:
    w, h = span.size
    points = [
        (float(rng.uniform(0.2, 0.8)) * w, float(rng.uniform(0.1, 0.8)) * h) for _ in range(12)
    ]
    leg_s = float(rng.uniform(0.08, 0.25))
    return Insect(span.start, span.end, points, leg_s, float(rng.uniform(10, 40)) * span.k)


def _leaf(rng: np.random.Generator, span: Span) -> Sprite:
    (w, h), k = span.size, span.k
    bgr = (int(rng.integers(20, 60)), int(rng.integers(80, 140)), int(rng.integers(60, 160)))
    origin = (float(rng.uniform(0.3, 0.7)) * w, float(rng.uniform(0.1, 0.5)) * h)
    fall, sway = float(rng.uniform(25, 90)) * k, float(rng.uniform(10, 45)) * k
    sway_hz, size = float(rng.uniform(0.4, 1.2)), float(rng.uniform(6, 14)) * k
    return Leaf(span.start, span.end, origin, fall, sway, sway_hz, size, bgr)


def _rain(rng: np.random.Generator, span: Span) -> Sprite:
    (w, h), k = span.size, span.k
    drops = np.column_stack(
        [
            rng.uniform(-0.2 * w, w, 150),
            rng.uniform(0, h + 60, 150),
            rng.uniform(500, 1200, 150) * k,
            rng.uniform(12, 40, 150) * k,
        ]
    )
    slant = float(rng.uniform(-0.15, 0.15))
    return Rain(0.0, span.duration, drops, slant, int(rng.integers(150, 230)))


SPRITE_MAKERS: dict[str, Callable[[np.random.Generator, Span], Sprite]] = {
    "bird": _bird,
    "insect": _insect,
    "leaf": _leaf,
    "rain": _rain,
}
