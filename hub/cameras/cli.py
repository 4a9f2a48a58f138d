"""`gridhub camera probe URL` and `gridhub camera add`: check a camera, then register it.

`probe` opens the URL with the frame source its scheme names and reports the
codec, resolution, declared and measured frame rate and how long the first
frame took, and can save that frame as a JPEG. `add` writes a camera into the
site's database; a running hub notices within seconds and starts reading it
(the API's POST /api/cameras does the same at once). Registered through the
`gridhub.cli` entry point; URLs are shown only with credentials removed.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from pydantic import ValidationError

from hub.cameras.source import make_source, redact_url, scheme_of
from hub.config import Camera, field_path, load_site
from hub.errors import ConfigError, CorruptFrame, HubError
from hub.plugins import load_registry
from hub.seams import Capture, CliHooks, Commands, FrameSource, SourceOptions

MAX_CORRUPT = 50  # undecodable pictures tolerated while probing


def register(hooks: CliHooks) -> None:
    """Add `gridhub camera probe|add`."""
    camera = hooks.commands.add_parser("camera", help="check and add cameras")
    commands = camera.add_subparsers(title="camera commands", metavar="COMMAND", required=True)
    probe = commands.add_parser("probe", help="open a camera URL and report what it sends")
    probe.add_argument("url", help="rtsp://, http(s)://, onvif:// or file:// URL")
    probe.add_argument("--snapshot", type=Path, metavar="FILE", help="save the first frame (JPEG)")
    probe.add_argument("--source", help="frame-source plugin (default: the URL's scheme)")
    probe.add_argument("--timeout", type=float, default=10.0, help="open/read timeout, seconds")
    probe.add_argument("--seconds", type=float, default=2.0, help="how long to measure the rate")
    probe.set_defaults(command=cmd_probe)
    add = commands.add_parser("add", help="register a camera in the site's database")
    add.add_argument("--config", type=Path, required=True, help="site YAML file")
    add.add_argument("--id", required=True, help="camera id")
    add.add_argument("--name", required=True, help="display name")
    add.add_argument("--url", required=True, help="stream URL (may hold credentials)")
    add.add_argument("--lat", type=float, required=True, help="latitude (WGS-84)")
    add.add_argument("--lon", type=float, required=True, help="longitude (WGS-84)")
    add.add_argument("--grid", help="grid id (default: the grid holding the location)")
    add.add_argument("--fps", type=float, default=5.0, help="analysis frames per second")
    add.add_argument("--source", help="frame-source plugin (default: the URL's scheme)")
    add.add_argument("--disabled", action="store_true", help="register without reading it")
    add.set_defaults(command=cmd_add)


def cmd_probe(args: argparse.Namespace) -> int:
    registry = load_registry(["gridhub.sources"])
    options = SourceOptions(open_timeout_s=args.timeout, read_timeout_s=args.timeout)
    source = make_source(registry, args.source or scheme_of(args.url), args.url, options)
    started = time.monotonic()
    try:
        info = source.open()
        first = _first_capture(source)
        first_s = time.monotonic() - started
        frames, span = _measure(source, first, args.seconds)
    finally:
        source.close()
    _print(f"source:       {source.describe()}")
    _print(f"codec:        {info.codec}")
    _print(f"resolution:   {info.width}x{info.height}")
    _print(f"declared fps: {info.fps:.2f}" if info.fps else "declared fps: (none)")
    _print(f"first frame:  {first_s:.2f} s after connecting")
    rate = f"{(frames - 1) / span:.2f} over {frames} frames" if span > 0 else "(one frame)"
    _print(f"measured fps: {rate}")
    if args.snapshot:
        from hub.cameras import media

        media.write_jpeg(args.snapshot, first.to_bgr(None))
        _print(f"snapshot:     {args.snapshot}")
    return 0


def _first_capture(source: FrameSource) -> Capture:
    for _ in range(MAX_CORRUPT):
        try:
            return source.read()
        except CorruptFrame:
            continue
    raise HubError(f"{source.describe()}: {MAX_CORRUPT} pictures in a row did not decode")


def _measure(source: FrameSource, first: Capture, seconds: float) -> tuple[int, float]:
    frames, last = 1, first.mono
    while last - first.mono < seconds:
        try:
            last = source.read().mono
        except CorruptFrame:
            continue
        frames += 1
    return frames, last - first.mono


def cmd_add(args: argparse.Namespace) -> int:
    from hub.services import service_endpoints
    from hub.storage import camera_repo
    from hub.storage.db import connect
    from hub.storage.site_repo import grid_exists, grid_index, list_grids, sync_site

    camera = _camera_from(args)
    registry = load_registry(["gridhub.sources"])
    if camera.source_kind not in registry.names("gridhub.sources"):
        raise ConfigError(f"no frame source '{camera.source_kind}' for {redact_url(args.url)}")
    site = load_site(args.config)
    with service_endpoints(site) as endpoints, connect(endpoints.database_url) as conn:
        sync_site(conn, site)  # the grids the camera may refer to
        if camera.grid is not None and not grid_exists(conn, camera.grid):
            raise ConfigError(f"unknown grid '{camera.grid}'")
        grid = camera.grid or grid_index(list_grids(conn)).locate(
            camera.location.lat, camera.location.lon
        )
        if not camera_repo.insert_camera(conn, camera, grid):
            raise HubError(f"camera '{camera.id}' already exists")
        conn.commit()
    _print(f"camera {camera.id} added ({camera.source_kind} {redact_url(args.url)}, grid {grid})")
    return 0


def _camera_from(args: argparse.Namespace) -> Camera:
    try:
        return Camera.model_validate(
            {
                "id": args.id,
                "name": args.name,
                "url": args.url,
                "source": args.source,
                "location": {"lat": args.lat, "lon": args.lon},
                "grid": args.grid,
                "enabled": not args.disabled,
                "analysis_fps": args.fps,
            }
        )
    except ValidationError as exc:
        problems = [f"{field_path(e['loc'])}: {e['msg']}" for e in exc.errors(include_url=False)]
        raise ConfigError("; ".join(problems)) from None


def _print(line: str) -> None:
    print(line, flush=True)  # noqa: T201


plugin = Commands(register)
