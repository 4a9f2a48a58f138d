"""Camera leases: which hub instance runs which camera when several share one database.

Every instance heartbeats in `hub_instances` and runs only the cameras it holds a
lease on in `camera_leases`. Each `balance()` (the camera manager calls it every
few seconds) renews this instance's leases, gives back those over its fair share
(enabled cameras / live instances, rounded up) and claims free or expired ones up
to it. A lease not renewed within `ttl_s` expires, so the cameras of an instance
that died are taken over by the others within about one TTL. Expiry is judged on
the database's clock, so hosts with skewed clocks agree.

A lease renewal that comes back without a camera means another instance took it
(after this one could not renew in time, e.g. cut off from the database): the
manager stops that camera here, so a camera is analysed by one instance at a
time except for at most the moments around such a cut.

A clean stop gives every lease back at once. At start an instance also clears the
leases of instances that were on this host and whose process is gone (a hub
restarted after a crash takes its cameras back without waiting out the TTL).
"""

from __future__ import annotations

import math
import os
import socket
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg_pool import ConnectionPool

from hub.storage import rows

Conn = psycopg.Connection[Any]


@dataclass(frozen=True, slots=True)
class Instance:
    """This hub process as other instances see it."""

    id: str  # name:pid:random, unique per process
    host_key: str  # hostname and pid namespace: where `pid` can be checked
    pid: int


def this_instance(name: str | None) -> Instance:
    """An identity for this process; `name` (or the host name) is its readable part."""
    host, pid = socket.gethostname(), os.getpid()
    return Instance(f"{name or host}:{pid}:{uuid.uuid4().hex[:6]}", _host_key(host), pid)


def _host_key(host: str) -> str:
    try:
        namespace = os.readlink("/proc/self/ns/pid")
    except OSError:
        namespace = "?"
    return f"{host}/{namespace}"


@dataclass(frozen=True, slots=True)
class LeaseView:
    """The outcome of one balance: what this instance holds and who holds the rest."""

    held: frozenset[str]
    holders: dict[str, str]  # camera id -> instance id, every live lease


@dataclass(frozen=True, slots=True)
class _Lease:
    camera_id: str
    expired: bool


@dataclass(frozen=True, slots=True)
class _Holder:
    camera_id: str
    holder: str


@dataclass(frozen=True, slots=True)
class _Neighbour:
    instance_id: str
    pid: int


class CameraLeases:
    """One instance's side of the camera leases."""

    def __init__(self, pool: ConnectionPool, instance: Instance, ttl_s: float) -> None:
        self.pool, self.instance, self.ttl_s = pool, instance, ttl_s

    def join(self) -> None:
        """Register this instance and clear leases of dead instances from this host."""
        with self.pool.connection() as conn:
            _clear_dead_neighbours(conn, self.instance)
            self._heartbeat(conn)

    def balance(self, enabled: Sequence[str]) -> LeaseView:
        """Heartbeat, renew, give back the surplus and claim up to a fair share.

        Each step commits on its own, so two instances balancing at once never wait
        on each other's row locks in opposite orders.
        """
        with self.pool.connection() as conn:
            self._heartbeat(conn)
            share = math.ceil(len(enabled) / max(1, _live_instances(conn, self.ttl_s)))
            mine = self._renew(conn)
            self._release(conn, mine - set(enabled))
            held = mine & set(enabled)
            surplus = sorted(held)[share:]
            self._release(conn, surplus)
            held -= set(surplus)
            for camera_id in _claim_order(conn, enabled, held):
                if len(held) >= share:
                    break
                if self._claim(conn, camera_id):
                    held.add(camera_id)
            return LeaseView(frozenset(held), _holders(conn))

    def leave(self) -> None:
        """Give back every lease and the heartbeat: the others take over at once."""
        with self.pool.connection() as conn:
            conn.execute("DELETE FROM camera_leases WHERE holder = %s", (self.instance.id,))
            conn.execute("DELETE FROM hub_instances WHERE instance_id = %s", (self.instance.id,))

    def _heartbeat(self, conn: Conn) -> None:
        conn.execute(
            """INSERT INTO hub_instances (instance_id, host_key, pid) VALUES (%s, %s, %s)
               ON CONFLICT (instance_id) DO UPDATE SET heartbeat_at = now()""",
            (self.instance.id, self.instance.host_key, self.instance.pid),
        )
        conn.commit()

    def _renew(self, conn: Conn) -> set[str]:
        renewed = rows.scalars(
            conn,
            """UPDATE camera_leases SET expires_at = now() + make_interval(secs => %s)
               WHERE holder = %s RETURNING camera_id""",
            (self.ttl_s, self.instance.id),
        )
        conn.commit()
        return set(renewed)

    def _release(self, conn: Conn, camera_ids: Iterable[str]) -> None:
        conn.execute(
            "DELETE FROM camera_leases WHERE holder = %s AND camera_id = ANY(%s)",
            (self.instance.id, list(camera_ids)),
        )
        conn.commit()

    def _claim(self, conn: Conn, camera_id: str) -> bool:
        claimed = rows.exists(
            conn,
            """INSERT INTO camera_leases (camera_id, holder, expires_at)
               VALUES (%(camera)s, %(me)s, now() + make_interval(secs => %(ttl)s))
               ON CONFLICT (camera_id) DO UPDATE
                   SET holder = excluded.holder, expires_at = excluded.expires_at,
                       acquired_at = now()
                   WHERE camera_leases.expires_at < now()
               RETURNING camera_id""",
            {"camera": camera_id, "me": self.instance.id, "ttl": self.ttl_s},
        )
        conn.commit()
        return claimed


def _live_instances(conn: Conn, ttl_s: float) -> int:
    return int(
        rows.scalar(
            conn,
            "SELECT count(*) FROM hub_instances"
            " WHERE heartbeat_at > now() - make_interval(secs => %s)",
            (ttl_s,),
        )
    )


def _claim_order(conn: Conn, enabled: Sequence[str], held: set[str]) -> list[str]:
    """Cameras to try: unleased ones first, then those whose lease has expired."""
    leased = {
        lease.camera_id: lease.expired
        for lease in rows.many(
            conn, _Lease, "SELECT camera_id, expires_at < now() AS expired FROM camera_leases"
        )
    }
    free = [c for c in sorted(enabled) if c not in held and c not in leased]
    expired = [c for c in sorted(enabled) if c not in held and leased.get(c)]
    return free + expired


def _holders(conn: Conn) -> dict[str, str]:
    live = rows.many(
        conn, _Holder, "SELECT camera_id, holder FROM camera_leases WHERE expires_at >= now()"
    )
    return {lease.camera_id: lease.holder for lease in live}


def _clear_dead_neighbours(conn: Conn, me: Instance) -> None:
    """Remove instances of this host (same pid namespace) whose process is gone."""
    neighbours = rows.many(
        conn,
        _Neighbour,
        "SELECT instance_id, pid FROM hub_instances WHERE host_key = %s AND instance_id <> %s",
        (me.host_key, me.id),
    )
    dead = [n.instance_id for n in neighbours if not _alive(n.pid)]
    conn.execute("DELETE FROM hub_instances WHERE heartbeat_at < now() - interval '1 day'")
    conn.execute("DELETE FROM camera_leases WHERE holder = ANY(%s)", (dead,))
    conn.execute("DELETE FROM hub_instances WHERE instance_id = ANY(%s)", (dead,))
    conn.commit()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
