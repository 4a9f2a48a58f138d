"""Helpers for the dashboard's browser tests: a real hub over HTTP, and Debian's Chromium.

`serve_hub` runs uvicorn in a thread over a hub opened by `hub_factory` (real
PostgreSQL and MQTT); `chromium` launches the system browser through Playwright,
never a downloaded one. Screenshots go to test-output/ (gitignored, kept by CI).
"""

from __future__ import annotations

import os
import shutil
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import uvicorn

from hub.api.app import create_app
from hub.auth import add_user
from hub.hub import Hub
from tests.conftest import REPO, free_port

CHROMIUM = os.environ.get("GRIDHUB_TEST_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]  # fmt: skip
SCREENSHOTS = REPO / "test-output"
PASSWORD = "browser-test-pw"


def chromium_path() -> str:
    """The system Chromium, or skip (fail under CI, where bootstrap installs it)."""
    if shutil.which(CHROMIUM) is None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"{CHROMIUM} is missing (scripts/bootstrap installs it)")
        pytest.skip(f"{CHROMIUM} is missing: run scripts/bootstrap")
    return CHROMIUM


@contextmanager
def serve_hub(hub: Hub) -> Iterator[str]:
    """Serve the hub's API and pages on a free loopback port; yields the base URL."""
    port = free_port()
    config = uvicorn.Config(
        create_app(hub),
        host="127.0.0.1",
        port=port,
        log_level="warning",
        ws="websockets-sansio",
        lifespan="off",
        timeout_graceful_shutdown=1,
    )  # the pages' sockets hold it open
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name=f"uvicorn-{port}", daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test hub's HTTP server did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def add_login(hub: Hub, name: str, role: str, patrol_id: str | None = None) -> str:
    """A user who logs in with `PASSWORD`; returns the name."""
    with hub.pool.connection() as conn:
        add_user(conn, name, role, patrol_id, PASSWORD)
    return name


def screenshot_path(name: str) -> Path:
    SCREENSHOTS.mkdir(exist_ok=True)
    return SCREENSHOTS / f"{name}.png"
