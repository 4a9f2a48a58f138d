"""A fire-lane scene rendered in code: a car parks in the lane, stays, and leaves.

No footage is needed (the vtest.avi clips need Debian's opencv-doc), so the demo
and a fresh machine can always make one. An elevated camera looks down a lane
between two buildings; the lane is marked with yellow edges and hatching, its
polygon is the sidecar's `lane`. People cross it now and then; one car drives
in from the far end, parks for `park_s`, and drives out towards the camera. The
lane is empty at both ends of the clip, so it loops like a camera that sees the
scene happen again, and the first `WARMUP_S` are empty for the detector to
learn the bare lane.

The sidecar is the `ClipTruth` of `fire_lane_clips` (one episode: from the car
standing still to its leaving the lane), so ``gridhub eval fire-lane`` scores
these clips like the composited ones.
"""

from __future__ import annotations

import json
import random
from dataclasses import asdict, dataclass
from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt

from evaluation.encode import H264Writer
from evaluation.fire_lane.clips import ClipTruth, Episode

Image = npt.NDArray[np.uint8]
Point = tuple[float, float]
# The lane (normalised, far edge first) as the demo site draws it on its lane camera.
LANE: tuple[Point, ...] = ((0.3, 0.45), (0.7, 0.45), (0.85, 0.98), (0.15, 0.98))
ROAD: tuple[Point, ...] = ((0.24, 0.4), (0.76, 0.4), (1.0, 0.9), (1.0, 1.0), (0.0, 1.0), (0.0, 0.9))
WARMUP_S = 12.0  # the detector learns the empty lane over its first 10 s
DRIVE_IN_S = 3.0
DRIVE_OUT_S = 2.5
PARK_V = 0.62  # where along the lane the car stops (0 far end, 1 near end)
YELLOW = (0, 200, 240)


@dataclass(frozen=True, slots=True)
class SceneSettings:
    """Size, rate and timing of one rendered lane scene."""

    width: int = 1280
    height: int = 720
    fps: float = 10.0
    park_s: float = 24.0  # seconds the car stands in the lane
    tail_s: float = 12.0  # empty lane after the car has gone (the clear signal, the loop)
    bitrate_kbps: int = 1000

    @property
    def duration_s(self) -> float:
        return WARMUP_S + DRIVE_IN_S + self.park_s + DRIVE_OUT_S + self.tail_s


@dataclass(frozen=True, slots=True)
class Walker:
    """A person crossing the lane at depth `v`, from `start` for `cross_s` seconds."""

    start: float
    cross_s: float
    v: float
    rightwards: bool
    colour: tuple[int, int, int]


def lane_point(u: float, v: float) -> Point:
    """Normalised image point `u` across (0 left, 1 right) and `v` along the lane."""
    (ax, ay), (bx, by), (cx, cy), (dx, dy) = LANE
    left = (ax + v * (dx - ax), ay + v * (dy - ay))
    right = (bx + v * (cx - bx), by + v * (cy - by))
    return (left[0] + u * (right[0] - left[0]), left[1] + u * (right[1] - left[1]))


def lane_width(v: float) -> float:
    """Width of the lane at depth `v`, normalised to the image width."""
    return lane_point(1.0, v)[0] - lane_point(0.0, v)[0]


def car_v(t: float, settings: SceneSettings) -> float | None:
    """Where the car is along the lane at clip time `t` (None: not in view)."""
    arrive = WARMUP_S
    parked = arrive + DRIVE_IN_S
    leave = parked + settings.park_s
    if t < arrive or t >= leave + DRIVE_OUT_S:
        return None
    if t < parked:
        f = (t - arrive) / DRIVE_IN_S
        return -0.15 + (PARK_V + 0.15) * (1 - (1 - f) ** 2)  # slows down to stop
    if t < leave:
        return PARK_V
    f = (t - leave) / DRIVE_OUT_S
    return PARK_V + (1.5 - PARK_V) * f**2  # pulls away


def walkers(seed: int, settings: SceneSettings) -> list[Walker]:
    """People crossing the lane: some before, one beside the parked car, some after."""
    rng = random.Random(seed)
    starts = [2.0, 7.0, WARMUP_S + DRIVE_IN_S + settings.park_s / 2, settings.duration_s - 9.0]
    return [
        Walker(
            start=round(s + rng.uniform(-1, 1), 2),
            cross_s=rng.uniform(4.5, 6.5),
            v=rng.uniform(0.75, 0.95) if i == 2 else rng.uniform(0.2, 0.9),
            rightwards=rng.random() < 0.5,
            colour=(rng.randrange(30, 200), rng.randrange(30, 200), rng.randrange(30, 200)),
        )
        for i, s in enumerate(starts)
    ]


def render_background(settings: SceneSettings, seed: int) -> Image:
    """The empty street: buildings, pavements, the road and the marked lane."""
    w, h = settings.width, settings.height
    rng = np.random.default_rng(seed)
    image = np.full((h, w, 3), (150, 160, 165), dtype=np.uint8)
    _fill(image, ((0.0, 0.0), (1.0, 0.0), (1.0, 0.4), (0.0, 0.4)), (175, 185, 195))
    _windows(image, 0.26, 0.74, 0.03, 0.38)
    _fill(image, ((0.0, 0.0), (0.24, 0.4), (0.0, 0.9)), (120, 140, 160))
    _fill(image, ((1.0, 0.0), (0.76, 0.4), (1.0, 0.9)), (130, 150, 170))
    _fill(image, ROAD, (95, 98, 100))
    texture = rng.normal(0, 7, (h, w, 1))
    image = np.clip(image + cv2.GaussianBlur(texture, (3, 3), 0)[..., None], 0, 255)
    image = image.astype(np.uint8)
    _mark_lane(image)
    return image


def _px(image: Image, p: Point) -> tuple[int, int]:
    return (round(p[0] * image.shape[1]), round(p[1] * image.shape[0]))


def _fill(image: Image, polygon: tuple[Point, ...], bgr: tuple[int, int, int]) -> None:
    cv2.fillPoly(image, [np.array([_px(image, p) for p in polygon], np.int32)], bgr)


def _windows(image: Image, x0: float, x1: float, y0: float, y1: float) -> None:
    for row in range(5):
        for col in range(9):
            x = x0 + (col + 0.25) * (x1 - x0) / 9
            y = y0 + (row + 0.2) * (y1 - y0) / 5
            top, bottom = _px(image, (x, y)), _px(image, (x + 0.028, y + 0.04))
            cv2.rectangle(image, top, bottom, (110, 95, 80), -1)


def _mark_lane(image: Image) -> None:
    """Yellow edge lines and a painted bar at the near end, as fire lanes are marked.

    No hatching across the lane: the detector tells a parked car from the ghost of
    one that left by whose edges the lane shows, and hatching under a plain car
    body would read as a ghost.
    """
    for u in (0.0, 1.0):
        points = [_px(image, lane_point(u, v)) for v in (0.0, 1.0)]
        cv2.line(image, points[0], points[1], YELLOW, 5, cv2.LINE_AA)
    for v in (0.0, 0.9):
        cv2.line(image, _px(image, lane_point(0, v)), _px(image, lane_point(1, v)), YELLOW, 4)


def draw_car(image: Image, v: float, colour: tuple[int, int, int]) -> None:
    """A car seen from behind and above, its rear wheels at depth `v` mid-lane."""
    x, y = _px(image, lane_point(0.5, v))
    w = max(int(0.45 * lane_width(v) * image.shape[1]), 4)
    body, cabin, line = int(0.42 * w), int(0.38 * w), max(w // 100, 1)
    cv2.ellipse(image, (x, y), (w // 2 + w // 20, w // 14 + 1), 0, 0, 360, (45, 45, 45), -1)
    for side in (-1, 1):
        wheel = x + side * (w // 2 - w // 8)
        cv2.rectangle(image, (wheel - w // 14, y - w // 10), (wheel + w // 14, y), (20, 20, 20), -1)
    top = y - w // 14
    roof = top - body - cabin
    parts = [
        ((x - w * 3 // 8, roof), (x + w * 3 // 8, top - body), colour),  # cabin
        ((x - w * 5 // 16, roof + cabin // 6), (x + w * 5 // 16, top - body), (70, 60, 50)),
        ((x - w // 2, top - body), (x + w // 2, top), colour),  # boot and body
        ((x - w // 2, top - w // 12), (x + w // 2, top), tuple(int(c * 0.6) for c in colour)),
        ((x - w // 9, top - w // 12 - w // 14), (x + w // 9, top - w // 12), (150, 60, 20)),
    ]
    for side in (-1, 1):
        light = x + side * (w // 2 - w // 10)
        lights = ((light - w // 14, top - body + body // 5), (light + w // 14, top - body // 2))
        parts.append((*lights, (30, 30, 200)))
    for first, second, bgr in parts:  # filled, then outlined: a real car shows edges
        cv2.rectangle(image, first, second, bgr, -1)
        cv2.rectangle(image, first, second, (25, 25, 25), line)


def draw_walker(image: Image, walker: Walker, t: float) -> None:
    """A person mid-stride, crossing the lane."""
    f = (t - walker.start) / walker.cross_s
    u = -0.4 + 1.8 * (f if walker.rightwards else 1 - f)
    x, y = _px(image, lane_point(u, walker.v))
    tall = int(0.32 * lane_width(walker.v) * image.shape[1])
    stride = int(0.12 * tall * np.sin(t * 2 * np.pi * 1.8))
    legs = (40, 40, 50)
    cv2.line(image, (x, y - tall // 2), (x - stride, y), legs, max(tall // 14, 2))
    cv2.line(image, (x, y - tall // 2), (x + stride, y), legs, max(tall // 14, 2))
    cv2.ellipse(image, (x, y - int(tall * 0.68)), (tall // 8, tall // 5), 0, 0, 360,
                walker.colour, -1)  # fmt: skip
    cv2.circle(image, (x, y - int(tall * 0.92)), max(tall // 12, 2), (120, 150, 190), -1)


def render_frame(
    background: Image, t: float, settings: SceneSettings, people: list[Walker],
    colour: tuple[int, int, int],
) -> Image:  # fmt: skip
    """The scene at clip time `t`: far things drawn first."""
    image = background.copy()
    things: list[tuple[float, int, Walker | None]] = []
    v = car_v(t, settings)
    if v is not None:
        things.append((v, 0, None))
    things += [(p.v, 1, p) for p in people if p.start <= t < p.start + p.cross_s]
    for depth, _, walker in sorted(things, key=lambda thing: (thing[0], thing[1])):
        if walker is None:
            draw_car(image, depth, colour)
        else:
            draw_walker(image, walker, t)
    return image


def truth_of(video: str, seed: int, settings: SceneSettings) -> ClipTruth:
    """The sidecar: the lane and the one episode (car standing still until out of the lane)."""
    colour = _car_colour(seed)
    parked = WARMUP_S + DRIVE_IN_S
    left_lane = parked + settings.park_s + DRIVE_OUT_S * 0.65  # its rear passes v = 1
    x, y = lane_point(0.5, PARK_V)
    episode = Episode(parked, round(left_lane, 2), "car", round(x, 4), round(y, 4), colour)
    return ClipTruth(video, settings.fps, settings.duration_s, LANE, (episode,))


def _car_colour(seed: int) -> tuple[int, int, int]:
    # Far from the asphalt's grey level: the lane model compares grey images.
    palette = [(205, 205, 210), (35, 35, 35), (120, 45, 25), (175, 175, 170), (30, 30, 60)]
    return palette[seed % len(palette)]


def make_scene(out_dir: Path, seed: int, settings: SceneSettings | None = None) -> Path:
    """Write ``lane-scene-SEED.mp4`` (H.264) and its sidecar ``.json``; return the video."""
    settings = settings or SceneSettings()
    out_dir.mkdir(parents=True, exist_ok=True)
    video = out_dir / f"lane-scene-{seed:03d}.mp4"
    background = render_background(settings, seed)
    people, colour = walkers(seed, settings), _car_colour(seed)
    frames = round(settings.duration_s * settings.fps)
    size = (settings.width, settings.height)
    with H264Writer(video, size, settings.fps, settings.bitrate_kbps) as writer:
        for index in range(frames):
            writer.write(render_frame(background, index / settings.fps, settings, people, colour))
    truth = truth_of(video.name, seed, settings)
    partial = video.with_suffix(".json.partial")  # the sidecar appears whole, after the video
    partial.write_text(json.dumps(asdict(truth), indent=2), encoding="utf-8")
    partial.replace(video.with_suffix(".json"))
    return video
