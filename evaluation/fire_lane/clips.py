"""Evaluation clips for the fire lane: real footage with objects composited into a lane.

`make_clip` takes OpenCV's ``vtest.avi`` (Debian ``opencv-doc``: an elevated
campus camera with people walking across a road), draws a lane on the road and
pastes a parked object (a pile of boxes, a car, an e-bike) into it for known
intervals. The sidecar ``NAME.json`` holds the ground truth: the lane polygon
(normalised) and the occupation episodes (start/end seconds). A seed picks the
object, its place in the lane, colour and intervals, so sets are reproducible.
"""

from __future__ import annotations

import json
import random
from dataclasses import asdict, dataclass
from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt

from hub.errors import HubError

VTEST = Path("/usr/share/doc/opencv-doc/examples/data/vtest.avi")
LANE = ((0.45, 0.42), (0.85, 0.36), (0.97, 0.75), (0.55, 0.66))
Image = npt.NDArray[np.uint8]
WARMUP_S = 12.0  # the detector learns the empty lane over its first 10 s


@dataclass(frozen=True, slots=True)
class Episode:
    """One interval (seconds from the clip start) in which an object blocks the lane."""

    start: float
    end: float
    shape: str
    x: float  # centre of the object's base, normalised
    y: float
    colour: tuple[int, int, int]


@dataclass(frozen=True, slots=True)
class ClipTruth:
    """The sidecar of one clip."""

    video: str
    fps: float
    duration_s: float
    lane: tuple[tuple[float, float], ...]
    episodes: tuple[Episode, ...]


def plan(seed: int, duration_s: float) -> tuple[Episode, ...]:
    """Episodes for `seed`: none (people only) for every fourth seed, else one or two."""
    rng = random.Random(seed)
    if seed % 4 == 3:
        return ()
    count = 2 if seed % 4 == 2 else 1
    slot = (duration_s - WARMUP_S) / count
    episodes = []
    for i in range(count):
        start = WARMUP_S + i * slot + rng.uniform(1, 5)
        length = rng.uniform(0.5, 0.7) * slot
        u, v = rng.uniform(0.3, 0.7), rng.uniform(0.35, 0.65)
        x, y = _lane_point(u, v)
        colour = (rng.randrange(30, 220), rng.randrange(30, 220), rng.randrange(30, 220))
        shape = rng.choice(["boxes", "car", "ebike"])
        episodes.append(Episode(round(start, 2), round(start + length, 2), shape, x, y, colour))
    return tuple(episodes)


def _lane_point(u: float, v: float) -> tuple[float, float]:
    (ax, ay), (bx, by), (cx, cy), (dx, dy) = LANE
    top = (ax + u * (bx - ax), ay + u * (by - ay))
    bottom = (dx + u * (cx - dx), dy + u * (cy - dy))
    return (top[0] + v * (bottom[0] - top[0]), top[1] + v * (bottom[1] - top[1]))


def draw_object(image: Image, episode: Episode) -> None:
    """Paste the episode's object, its base centred on (x, y), in place."""
    h, w = image.shape[:2]
    x, y = int(episode.x * w), int(episode.y * h)
    c = episode.colour
    if episode.shape == "boxes":
        for i, (dx, dy, bw, bh) in enumerate(
            [(-40, 0, 45, 35), (0, 0, 40, 40), (-20, -35, 40, 32)]
        ):
            shade = tuple(int(v * (0.8 + 0.1 * i)) for v in c)
            cv2.rectangle(image, (x + dx, y + dy - bh), (x + dx + bw, y + dy), shade, -1)
            cv2.rectangle(image, (x + dx, y + dy - bh), (x + dx + bw, y + dy), (40, 40, 40), 2)
    elif episode.shape == "car":
        cv2.rectangle(image, (x - 70, y - 45), (x + 70, y - 10), c, -1)
        cv2.rectangle(image, (x - 40, y - 70), (x + 35, y - 45), c, -1)
        cv2.rectangle(image, (x - 32, y - 66), (x + 27, y - 48), (60, 50, 40), -1)
        for wx in (x - 45, x + 45):
            cv2.circle(image, (wx, y - 10), 13, (20, 20, 20), -1)
    else:
        for wx in (x - 30, x + 30):
            cv2.circle(image, (wx, y - 14), 14, (25, 25, 25), 4)
        cv2.line(image, (x - 30, y - 14), (x + 30, y - 14), c, 6)
        cv2.rectangle(image, (x - 15, y - 40), (x + 15, y - 20), c, -1)
        cv2.line(image, (x + 25, y - 14), (x + 20, y - 50), (30, 30, 30), 4)


def make_clip(out_dir: Path, seed: int, source: Path = VTEST) -> Path:
    """Write ``fire-lane-SEED.avi`` and its sidecar ``.json``; return the video path.

    The footage is played forwards then backwards (159 s from vtest's 79.5 s), so
    two episodes longer than the dwell time fit in one clip.
    """
    frames, fps = _ping_pong(source)
    episodes = plan(seed, len(frames) / fps)
    out_dir.mkdir(parents=True, exist_ok=True)
    video = out_dir / f"fire-lane-{seed:03d}.avi"
    first = _decode(frames[0])
    size = (first.shape[1], first.shape[0])
    writer = cv2.VideoWriter(str(video), cv2.VideoWriter.fourcc(*"MJPG"), fps, size)
    for index, encoded in enumerate(frames):
        image = _decode(encoded)
        for episode in episodes:
            if episode.start <= index / fps < episode.end:
                draw_object(image, episode)
        writer.write(image)
    writer.release()
    truth = ClipTruth(video.name, fps, len(frames) / fps, LANE, episodes)
    video.with_suffix(".json").write_text(json.dumps(asdict(truth), indent=2), encoding="utf-8")
    return video


def _decode(encoded: npt.NDArray[np.uint8]) -> Image:
    image = cv2.imdecode(encoded, cv2.IMREAD_COLOR)
    assert image is not None, "a frame we encoded ourselves decodes"
    return np.asarray(image, dtype=np.uint8)


def _ping_pong(source: Path) -> tuple[list[npt.NDArray[np.uint8]], float]:
    """The source's frames (JPEG-encoded, to keep memory small) forwards then backwards."""
    capture = cv2.VideoCapture(str(source))
    if not capture.isOpened():
        raise HubError(f"cannot open {source}: install Debian's opencv-doc (scripts/bootstrap)")
    fps = capture.get(cv2.CAP_PROP_FPS) or 10.0
    frames = []
    while True:
        ok, image = capture.read()
        if not ok:
            break
        encoded = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 95])[1]
        frames.append(np.asarray(encoded, dtype=np.uint8))
    capture.release()
    if not frames:
        raise HubError(f"{source} has no frames")
    return frames + frames[::-1], fps


def load_truth(path: Path) -> ClipTruth:
    raw = json.loads(path.read_text(encoding="utf-8"))
    episodes = tuple(
        Episode(e["start"], e["end"], e["shape"], e["x"], e["y"], tuple(e["colour"]))
        for e in raw["episodes"]
    )
    lane = tuple((float(x), float(y)) for x, y in raw["lane"])
    return ClipTruth(raw["video"], raw["fps"], raw["duration_s"], lane, episodes)
