"""The free-fall test: falls accepted, birds, hovering, rising, rain, leaves, zig-zags rejected."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from detectors.thrown_object.config import FloorCalibration, G, ThrownObjectConfig
from detectors.thrown_object.floors import FloorMap
from detectors.thrown_object.freefall import FreeFallTest, TrackPath

FPS = 25.0
STOREY_M = 3.0
# 10 storeys evenly over the image: 0.09 rows per storey, 0.03 rows per metre.
CALIBRATION = FloorCalibration(
    lines=[0.05 + 0.09 * k for k in range(11)], top_floor=10, floor_height_m=STOREY_M
)
ROWS_PER_M = 0.03
NO_DROP = "does not drop far enough"
NOT_G = "acceleration is not gravity"
UNSEEN = "was falling long before it was seen"
PX = 540.0  # analysed pixels per normalised unit (1080p at scale 0.5)
Motion = Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]]


def fall(v0: float = 0.0, accel: float = G, x_speed: float = 0.0) -> Motion:
    """From 28.5 m (row 0.095, mid top storey); v0 upwards positive."""

    def motion(t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        height = 28.5 + v0 * t - 0.5 * accel * t**2
        return 0.5 + x_speed * t, 0.95 - height * ROWS_PER_M

    return motion


def constant(vx: float, vy: float) -> Motion:
    return lambda t: (0.3 + vx * t, 0.3 + vy * t)


def leaf(t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return 0.5 + 0.02 * np.sin(2 * np.pi * 0.8 * t), 0.3 + 0.04 * t + 0.004 * np.cos(
        4 * np.pi * 0.8 * t
    )


def zigzag(t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    x, y = fall()(t)
    return x + 0.012 * np.where(np.arange(len(t)) % 4 < 2, 1.0, -1.0), y


def hover(t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(3)
    return 0.4 + rng.normal(0, 0.002, len(t)), 0.4 + rng.normal(0, 0.002, len(t))


def path_of(motion: Motion, seconds: float, noise_px: float = 0.0) -> TrackPath:
    t = np.arange(0, seconds, 1 / FPS)
    x, y = motion(t)
    rng = np.random.default_rng(7)
    x = x + rng.normal(0, noise_px / PX, len(t))
    y = y + rng.normal(0, noise_px / PX, len(t))
    return TrackPath(t + 100.0, np.asarray(x, float), np.asarray(y, float), PX, PX)


def judge(path: TrackPath) -> tuple[bool, str]:
    verdict = FreeFallTest(ThrownObjectConfig(floors=CALIBRATION), FloorMap(CALIBRATION)).judge(
        path
    )
    return verdict.accepted, verdict.reason


@pytest.mark.parametrize(
    ("name", "path", "accepted", "reason"),
    [
        ("dropped", path_of(fall(), 1.2), True, "free fall"),
        ("tossed up first", path_of(fall(v0=2.0), 1.4), True, "free fall"),
        ("thrown down", path_of(fall(v0=-3.0), 0.8), True, "free fall"),
        ("noisy centroids", path_of(fall(), 1.2, noise_px=0.6), True, "free fall"),
        ("drifting a little sideways", path_of(fall(x_speed=0.03), 1.2), True, "free fall"),
        ("light object with drag", path_of(fall(accel=0.6 * G), 1.5), True, "free fall"),
        ("bird flying across", path_of(constant(0.25, 0.0), 1.5), False, NO_DROP),
        ("bird diving", path_of(constant(0.25, 0.15), 1.2), False, "drifts sideways"),
        ("bird diving steeply", path_of(constant(0.02, 0.25), 1.0), False, NOT_G),
        ("hovering insect", path_of(hover, 1.5), False, NO_DROP),
        ("rising", path_of(fall(v0=12.0, accel=-G), 1.0), False, NO_DROP),
        ("rain streak", path_of(constant(0.0, 0.6), 0.5), False, NOT_G),
        ("leaf drifting down", path_of(leaf, 2.5), False, NOT_G),
        ("insect zig-zag while dropping", path_of(zigzag, 1.2), False, "zig-zags sideways"),
        ("too short", path_of(fall(), 0.2), False, "too few points"),
        ("already at 25 m/s when first seen", path_of(fall(v0=-25.0), 0.4), False, UNSEEN),
    ],
)
def test_free_fall_table(name: str, path: TrackPath, accepted: bool, reason: str) -> None:
    assert judge(path) == (accepted, reason), name


def test_origin_is_traced_back_to_where_the_fall_began() -> None:
    # Tracking starts 0.4 s after release (the first frames move too little to see).
    t = np.arange(0.4, 1.6, 1 / FPS)
    x, y = fall()(t)
    path = TrackPath(t, np.asarray(x, float), np.asarray(y, float), PX, PX)
    verdict = FreeFallTest(ThrownObjectConfig(floors=CALIBRATION), FloorMap(CALIBRATION)).judge(
        path
    )
    assert verdict.accepted
    assert verdict.origin_t == pytest.approx(0.0, abs=0.02)
    assert verdict.origin_y == pytest.approx(0.95 - 28.5 * ROWS_PER_M, abs=0.002)
    assert FloorMap(CALIBRATION).floor_at(verdict.origin_y).floor == 10
