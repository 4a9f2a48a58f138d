"""Camera wall benchmark: the hub's CPU with a 9-tile wall open in Chromium vs closed.

`python -m bench.wall [--cameras 9] [--seconds 60]` runs a hub (fresh database,
private Mosquitto) with N cameras reading one local RTSP test stream (gst-rtsp-server,
320x240 H.264 at 25 fps, one RTSP session per camera), serves it, and measures the
hub process's CPU (user + system, all threads) over the same time twice: with no page
open; with one client holding an MJPEG preview of every camera (1 fps, 480 px, what
the wall replaces); then with `/wall` open in headless Chromium (every tile refreshing
a 480 px snapshot once a second, health and cases polled every 5 s). The RTSP server
and the browser are other processes: only the hub is counted.
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx
import yaml
from playwright.sync_api import sync_playwright

from bench.common import fresh_database, private_broker
from bench.dashboard import CHROMIUM_ARGS, serving
from hub.auth import add_user, issue_token
from hub.cli import DEMO_CONFIG
from hub.config import SiteConfig
from hub.hub import open_hub
from hub.services import Endpoints

TOKEN = [""]  # the API token of the preview client


def cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def measure(seconds: float) -> float:
    """The hub process's CPU use over `seconds`, in % of one core."""
    start_cpu, start = cpu_s(), time.monotonic()
    time.sleep(seconds)
    return 100 * (cpu_s() - start_cpu) / (time.monotonic() - start)


def measure_previews(base: str, cameras: int, seconds: float) -> float:
    """CPU while one client holds an MJPEG preview (1 fps, 480 px) of every camera open."""
    stop = threading.Event()
    headers = {"Authorization": f"Bearer {TOKEN[0]}"}

    def watch(camera: str) -> None:
        url = f"{base}/api/cameras/{camera}/stream.mjpg?fps=1&width=480"
        with httpx.stream("GET", url, headers=headers, timeout=30) as reply:
            for _ in reply.iter_bytes():
                if stop.is_set():
                    return

    threads = [threading.Thread(target=watch, args=(f"CAM-WALL-{i}",), daemon=True)
               for i in range(cameras)]  # fmt: skip
    for thread in threads:
        thread.start()
    time.sleep(3)
    try:
        return measure(seconds)
    finally:
        stop.set()


def site_with_cameras(url: str, count: int, data_dir: Path) -> SiteConfig:
    raw = yaml.safe_load(Path(DEMO_CONFIG).read_text(encoding="utf-8"))
    raw["site"]["data_dir"] = str(data_dir)
    raw["cameras"] = [
        {"id": f"CAM-WALL-{i}", "name": f"墙 {i}", "url": url, "analysis_fps": 5,
         "location": {"lat": 30.2768 + i * 1e-4, "lon": 120.1443}}
        for i in range(count)
    ]  # fmt: skip
    return SiteConfig.model_validate(raw)


def run(cameras: int, seconds: float, url: str) -> tuple[float, float, float]:
    with (
        tempfile.TemporaryDirectory() as data_dir,
        fresh_database() as db_url,
        private_broker() as broker,
        open_hub(
            site_with_cameras(url, cameras, Path(data_dir)), Endpoints(db_url, False, broker, False)
        ) as hub,  # fmt: skip
        serving(hub) as base,
        sync_playwright() as pw,
    ):
        with hub.pool.connection() as conn:
            add_user(conn, "bench-op", "operator", password="bench-pw")
            TOKEN[0] = issue_token(conn, add_user(conn, "bench-api", "operator"))
        time.sleep(10)  # the cameras connect and settle
        closed = measure(seconds)
        previews = measure_previews(base, cameras, seconds)
        browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        page = browser.new_page(base_url=base, viewport={"width": 1600, "height": 900})
        page.goto("/login")
        page.fill("input[name=name]", "bench-op")
        page.fill("input[name=password]", "bench-pw")
        page.click("button[type=submit]")
        page.wait_for_url("**/")
        page.goto("/wall")
        page.wait_for_function("[...document.querySelectorAll('.tile img')].length > 0 && "
                               "[...document.querySelectorAll('.tile img')]"
                               ".every((img) => img.naturalWidth > 0)", timeout=60_000)  # fmt: skip
        opened = measure(seconds)
        browser.close()
    return closed, previews, opened


def main() -> None:
    from tests.camera_support import RtspServer, gst_rtsp_available
    from tests.conftest import free_port

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cameras", type=int, default=9)
    parser.add_argument("--seconds", type=float, default=60.0)
    args = parser.parse_args()
    if gst_rtsp_available() is not None:
        raise SystemExit("gst-rtsp-server missing: run ./scripts/bootstrap as root")
    server = RtspServer(free_port())
    server.start()
    try:
        closed, previews, opened = run(args.cameras, args.seconds, server.url)
    finally:
        server.stop()
    print(f"camera wall benchmark, {datetime.now(UTC):%Y-%m-%d}, {args.cameras} cameras, "
          f"{args.seconds:.0f} s each")  # fmt: skip
    print(f"  hub CPU, nothing open: {closed:.0f} % of one core")
    print(f"  hub CPU, {args.cameras} MJPEG previews (1 fps, 480 px) open: {previews:.0f} %")
    print(f"  hub CPU, wall open (snapshots 1/s, 480 px): {opened:.0f} %")


if __name__ == "__main__":
    main()
