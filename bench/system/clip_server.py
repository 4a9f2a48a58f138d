"""An RTSP server of recorded cameras for the system benchmark: gst-rtsp-server, looping clips.

Run with the system interpreter (/usr/bin/python3, where python3-gi lives), not the
project's virtualenv:

    /usr/bin/python3 bench/system/clip_server.py --port 8554 --stats stats.json \\
        --mount /cam000=thrown.au@0 --mount /cam001=lane.au@250 ...

Each mount plays one stream file (below) in an endless loop from frame OFFSET, at
the file's frame rate, as a live camera does: the H.264 access units are sent as
they are (no re-encoding, so the server costs little CPU), each with a timestamp
one frame after the last, and the RTSP media's sinks release them on the clock.
Mounts that share a file share its bytes in memory. Every second the server writes
`--stats`: per mount, the frames it has sent, and its monotonic clock, so the
benchmark can tell a hub that fell behind from a server that did. It prints READY
once it listens.

Stream file (`gridhub.bench.au/1`, written by bench/system/clips.py): one JSON line
`{"format", "fps", "width", "height", "frames"}`, then `frames` records of a 4-byte
big-endian length and one Annex-B access unit (no B-frames; the first one an IDR
with its SPS and PPS).
"""

from __future__ import annotations

import argparse
import json
import os
import struct
import sys
from dataclasses import dataclass, field
from typing import Any

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstRtspServer", "1.0")
from gi.repository import GLib, Gst, GstRtspServer  # noqa: E402

FORMAT = "gridhub.bench.au/1"
LAUNCH = (
    "( appsrc name=src is-live=false format=time ! h264parse ! "
    "rtph264pay name=pay0 pt=96 config-interval=1 )"
)


@dataclass
class Clip:
    """One stream file in memory."""

    fps: int
    width: int
    height: int
    units: list[bytes]


@dataclass
class Feed:
    """One mount's position in its clip; a fresh media (a new session) starts at `offset`."""

    clip: Clip
    offset: int
    sent: int = 0
    _index: int = field(default=0, init=False)

    def restart(self) -> None:
        self._index = 0

    def need_data(self, source: Any, _length: int) -> None:
        clip = self.clip
        duration = Gst.SECOND // clip.fps
        unit = clip.units[(self.offset + self._index) % len(clip.units)]
        buffer = Gst.Buffer.new_wrapped(unit)
        buffer.pts = buffer.dts = self._index * duration
        buffer.duration = duration
        self._index += 1
        self.sent += 1
        source.emit("push-buffer", buffer)


def load_clip(path: str) -> Clip:
    with open(path, "rb") as f:
        header = json.loads(f.readline())
        if header.get("format") != FORMAT:
            raise SystemExit(f"{path}: not a {FORMAT} stream file")
        units = []
        for _ in range(int(header["frames"])):
            (size,) = struct.unpack(">I", f.read(4))
            units.append(f.read(size))
    return Clip(int(header["fps"]), int(header["width"]), int(header["height"]), units)


def add_mount(server: Any, path: str, feed: Feed) -> None:
    factory = GstRtspServer.RTSPMediaFactory()
    factory.set_launch(LAUNCH)
    factory.set_shared(True)
    clip = feed.clip
    caps = Gst.Caps.from_string(
        f"video/x-h264,stream-format=byte-stream,alignment=au,"
        f"width={clip.width},height={clip.height},framerate={clip.fps}/1"
    )

    def configure(_factory: Any, media: Any) -> None:
        source = media.get_element().get_by_name("src")
        source.set_property("caps", caps)
        feed.restart()
        source.connect("need-data", feed.need_data)

    factory.connect("media-configure", configure)
    server.get_mount_points().add_factory(path, factory)


def write_stats(path: str, feeds: dict[str, Feed]) -> bool:
    mounts = {mount: {"sent": feed.sent} for mount, feed in feeds.items()}
    body = json.dumps({"mono": GLib.get_monotonic_time() / 1e6, "mounts": mounts})
    with open(f"{path}.part", "w") as f:
        f.write(body)
    os.replace(f"{path}.part", path)
    return True  # keep the GLib timer


def parse_mount(text: str) -> tuple[str, str, int]:
    """`/path=FILE@OFFSET` → (path, file, offset)."""
    path, _, rest = text.partition("=")
    file, _, offset = rest.rpartition("@")
    if not path.startswith("/") or not file:
        raise SystemExit(f"--mount {text}: expected /PATH=FILE@OFFSET")
    return path, file, int(offset or 0)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--mount", action="append", default=[], help="/PATH=FILE@OFFSET")
    parser.add_argument("--stats", required=True, help="JSON file of frames sent per mount")
    args = parser.parse_args()
    Gst.init(None)
    server = GstRtspServer.RTSPServer()
    server.set_address("127.0.0.1")
    server.set_service(str(args.port))
    clips: dict[str, Clip] = {}
    feeds: dict[str, Feed] = {}
    for text in args.mount:
        path, file, offset = parse_mount(text)
        clip = clips.get(file) or clips.setdefault(file, load_clip(file))
        feeds[path] = Feed(clip, offset)
        add_mount(server, path, feeds[path])
    if server.attach(None) == 0:
        print("FAILED to listen", flush=True)  # noqa: T201
        return 1
    GLib.timeout_add(1000, write_stats, args.stats, feeds)
    print("READY", flush=True)  # noqa: T201
    GLib.MainLoop().run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
