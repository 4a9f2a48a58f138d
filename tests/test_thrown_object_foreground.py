"""Foreground of the facade region: a small mover is a blob; shake and light jumps are not."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from detectors.thrown_object.config import FloorCalibration, ThrownObjectConfig
from detectors.thrown_object.foreground import Blobs, ForegroundExtractor

SETTINGS = ThrownObjectConfig(floors=FloorCalibration(lines=[0.1, 0.9], top_floor=3), scale=1.0)
WHOLE = [(0.0, 0.0), (1.0, 0.0), (1.0, 1.0), (0.0, 1.0)]


def facade(shift: tuple[int, int] = (0, 0), gain: float = 1.0) -> npt.NDArray[np.uint8]:
    """A textured wall with a grid of dark windows, optionally shifted and brightened."""
    rng = np.random.default_rng(1)
    grey = 150 + rng.normal(0, 12, (200, 280))
    grey[20::40, :] = 90
    for y in range(30, 200, 40):
        for x in range(20, 280, 50):
            grey[y : y + 18, x : x + 22] = 50
    grey = np.roll(grey, shift, axis=(0, 1))
    image = np.clip(grey * gain, 0, 255).astype(np.uint8)
    return np.repeat(image[:, :, None], 3, axis=2)


def run(frames: list[npt.NDArray[np.uint8]]) -> list[Blobs]:
    extractor = ForegroundExtractor(WHOLE, SETTINGS)
    return [extractor.blobs(frame) for frame in frames]


def test_a_small_moving_square_is_one_blob_where_it_is() -> None:
    frames = [facade() for _ in range(10)]
    moved = facade()
    moved[100:106, 140:146] = 250
    found = run([*frames, moved])[-1]
    assert len(found) == 1
    assert (found.x[0], found.y[0]) == (142.5, 102.5)
    assert not found.global_change


def test_camera_shake_is_compensated() -> None:
    frames = [facade() for _ in range(10)] + [facade(shift=(2, 3)), facade(shift=(-1, 2))]
    for blobs in run(frames)[-2:]:
        assert len(blobs) == 0


def test_a_light_jump_is_a_global_change_and_the_background_restarts() -> None:
    frames = [facade() for _ in range(10)] + [facade(gain=1.5), facade(gain=1.5)]
    results = run(frames)
    assert results[-2].global_change
    assert not results[-1].global_change and len(results[-1]) == 0


def test_a_new_frame_size_restarts_the_region() -> None:
    extractor = ForegroundExtractor(WHOLE, SETTINGS)
    extractor.blobs(facade())
    small = np.zeros((100, 140, 3), np.uint8)
    assert len(extractor.blobs(small)) == 0
    assert extractor.crop is not None and (extractor.crop.image_w, extractor.crop.image_h) == (
        140,
        100,
    )
