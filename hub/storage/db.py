"""Connecting to PostgreSQL: a checked first connection and the connection pool.

Every connection failure becomes a `StorageError` that names the server (never
the password) and says why, so the CLI can print one line instead of a traceback.
"""

from __future__ import annotations

from dataclasses import dataclass

import psycopg
from psycopg.conninfo import conninfo_to_dict
from psycopg_pool import ConnectionPool

from hub.errors import StorageError
from hub.storage import rows
from hub.storage.timescale import installed_version

CONNECT_TIMEOUT_S = 5
# How long a caller waits for a pooled connection before `PoolTimeout` (the API's 503).
# psycopg_pool's default, 30 s, held every request that long while the database was down.
POOL_WAIT_S = 5.0


def describe_server(url: str) -> str:
    """A password-free description of where a database URL points."""
    try:
        params = conninfo_to_dict(url)
    except psycopg.ProgrammingError:
        return "an unparseable database URL"
    host = params.get("host") or "localhost"
    port = params.get("port") or "5432"
    where = host if str(host).startswith("/") else f"{host}:{port}"
    return f"{params.get('dbname') or params.get('user') or 'postgres'} at {where}"


def connect(url: str, *, autocommit: bool = False) -> psycopg.Connection[tuple[object, ...]]:
    """Open one connection, or raise `StorageError` saying which server and why."""
    try:
        return psycopg.connect(url, connect_timeout=CONNECT_TIMEOUT_S, autocommit=autocommit)
    except psycopg.Error as exc:
        reason = str(exc).strip().splitlines()[-1] if str(exc).strip() else type(exc).__name__
        raise StorageError(f"cannot reach database {describe_server(url)}: {reason}") from exc


def open_pool(url: str, size: int) -> ConnectionPool:
    """A started pool; the first connection is checked so a bad URL fails here."""
    connect(url).close()
    pool = ConnectionPool(
        url,
        min_size=1,
        max_size=size,
        kwargs={"connect_timeout": CONNECT_TIMEOUT_S},
        name="gridhub",
        timeout=POOL_WAIT_S,
        # A connection broken by a database restart is replaced, not handed out.
        check=ConnectionPool.check_connection,
        open=False,
    )
    pool.open(wait=True, timeout=CONNECT_TIMEOUT_S * 2)
    return pool


@dataclass(frozen=True, slots=True)
class ServerInfo:
    """What the hub reports about its database in /api/health."""

    version: str
    timescaledb: str | None


def server_info(conn: psycopg.Connection[tuple[object, ...]]) -> ServerInfo:
    """The server version and the installed TimescaleDB version, if any."""
    version = rows.scalar(conn, "SHOW server_version")
    return ServerInfo(
        version="unknown" if version is None else str(version),
        timescaledb=installed_version(conn),
    )
