"""Plans of a generated clip: the scene (building, camera, lighting) and the throw.

A throw leaves a random window of a random floor with a random velocity
(outwards, sideways, a little up or down); light objects (bags) get quadratic
drag. Its ground truth (floor, window column, release and end times, size in
pixels, drop as a share of the image) is computed from the same projection
the renderer uses.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from evaluation.thrown_object.fall import (
    Look,
    Throw,
    landing_time,
    outline,
    position_at,
    trajectory,
)
from evaluation.thrown_object.scene import (
    Facade,
    FacadeImages,
    View,
    facade_polygon,
    fit_view,
    inside,
    render_facade,
)
from evaluation.thrown_object.sidecar import ThrowEvent

# lighting: (brightness, noise sigma at 1080p, share of lit windows)
LIGHTING = {
    "day": (1.0, 3.0, 0.0),
    "overcast": (0.75, 4.0, 0.05),
    "dusk": (0.45, 6.0, 0.2),
    "night": (0.2, 8.0, 0.35),
}
SHAPES = ("ball", "box", "bottle", "bag")
COLOURS = (
    (30, 30, 30),
    (235, 235, 235),
    (40, 40, 200),
    (190, 90, 30),
    (60, 160, 60),
    (20, 120, 220),
)
MIN_PX = 6.0
MIN_FALL = 0.15


@dataclass(frozen=True, slots=True)
class ClipSettings:
    """Size, rate and length of generated clips."""

    width: int = 1920
    height: int = 1080
    fps: float = 25.0
    duration_s: float = 6.0
    bitrate_kbps: int | None = None  # None: a random realistic rate for the frame size


@dataclass(frozen=True, slots=True)
class Scene:
    """One clip's static parts."""

    facade: Facade
    view: View
    images: FacadeImages
    lighting: str
    noise_sigma: float


def build_scene(rng: np.random.Generator, settings: ClipSettings) -> Scene:
    floors = int(rng.integers(6, 17))
    columns = int(rng.integers(4, 8))
    wall = (int(rng.integers(150, 215)), int(rng.integers(160, 220)), int(rng.integers(170, 230)))
    balconies = tuple(int(c) for c in np.flatnonzero(rng.random(columns) < 0.4))
    facade = Facade(
        floors, float(rng.uniform(2.8, 3.2)), columns, float(rng.uniform(3.4, 4.4)), wall, balconies
    )
    view = fit_view(
        facade,
        (settings.width, settings.height),
        float(rng.uniform(22, 38)),
        float(rng.uniform(-3, 3)),
    )
    lighting = str(rng.choice(list(LIGHTING), p=[0.4, 0.2, 0.15, 0.25]))
    sigma = LIGHTING[lighting][1] * float(rng.uniform(0.7, 1.3))
    return Scene(facade, view, render_facade(view, facade, rng), lighting, sigma)


@dataclass(frozen=True, slots=True)
class Thrown:
    """A planned throw: its look, path, release time and ground truth."""

    look: Look
    path: npt.NDArray[np.float64]
    release_s: float
    event: ThrowEvent


def plan_throw(rng: np.random.Generator, scene: Scene, settings: ClipSettings) -> Thrown:
    """A throw from a random window, timed to land inside the clip where possible."""
    facade, view = scene.facade, scene.view
    floor = int(rng.integers(2, facade.floors + 1))
    column = int(rng.integers(0, facade.columns))
    start = (
        -facade.width_m / 2 + (column + 0.5) * facade.bay_m + float(rng.uniform(-0.4, 0.4)),
        (floor - 1) * facade.storey_m + float(rng.uniform(1.0, 1.7)),
        view.distance_m - float(rng.uniform(0.2, 0.5)),
    )
    velocity = (
        float(rng.uniform(-1.0, 1.0)),
        float(rng.uniform(-1.0, 2.0)),
        -float(rng.uniform(0.3, 3.0)),
    )
    shape = str(rng.choice(SHAPES, p=[0.3, 0.3, 0.25, 0.15]))
    light = shape == "bag"
    terminal = float(rng.uniform(10.0, 20.0)) if light else None
    size = float(rng.uniform(0.3, 0.6) if light else rng.uniform(0.15, 0.5))
    path = trajectory(Throw(start, velocity, terminal), settings.duration_s)
    landing = landing_time(path)
    latest = max(settings.duration_s - landing - 0.6, 0.8)
    release = float(np.clip(rng.uniform(0.8, latest), 0.5, 2.0))
    look = Look(
        outline(shape, rng),
        size,
        COLOURS[int(rng.integers(len(COLOURS)))],
        float(rng.uniform(-12, 12)),
    )
    event = _event(
        scene,
        path,
        (release, landing, settings.duration_s),
        look,
        (floor, column + 1, shape, terminal),
    )
    return Thrown(look, path, release, event)


def _event(
    scene: Scene,
    path: npt.NDArray[np.float64],
    times: tuple[float, float, float],
    look: Look,
    what: tuple[int, int, str, float | None],
) -> ThrowEvent:
    """Ground truth: the throw ends when it lands or leaves the facade zone (or the clip)."""
    release, landing, duration = times
    floor, column, shape, terminal = what
    view = scene.view
    zone = facade_polygon(view, scene.facade)
    u0, v0, depth = view.project(*(float(c) for c in path[0]))
    end, lowest = min(release + landing, duration), v0
    for t in np.arange(0.0, end - release, 0.01):
        u, v, _d = view.project(*(float(c) for c in position_at(path, float(t))))
        if not inside(zone, u / view.width, v / view.height):
            end = release + float(t)
            break
        lowest = max(lowest, v)
    size_px = view.focal_px * look.size_m / depth
    fall = (lowest - v0) / view.height
    return ThrowEvent(
        start_s=round(release, 3), end_s=round(end, 3), floor=floor, window_column=column,
        origin=(round(u0 / view.width, 4), round(v0 / view.height, 4)), shape=shape,
        size_m=round(look.size_m, 3), size_px=round(size_px, 1), fall_fraction=round(fall, 3),
        terminal_velocity_mps=None if terminal is None else round(terminal, 1),
        qualifying=size_px >= MIN_PX and fall >= MIN_FALL,
    )  # fmt: skip
