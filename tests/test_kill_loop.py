"""The kill loop, short: the hub SIGKILLed three times and the broker restarted under load.

bench/kill_loop.py does the work (a private persistent Mosquitto, `gridhub run` as a
subprocess on this test's database, three publishers of numbered messages); the
benchmark runs it with ten kills and prints the figures docs/reliability.md quotes.
Every number the broker acknowledged to a publisher must be stored exactly once.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import psycopg
import pytest

from bench.kill_loop import LoopPlan, report, run_loop
from hub.infra.embedded import EmbeddedPostgres
from hub.storage.migrate import migrate
from hub.storage.timescale import TimeseriesPolicy
from tests.conftest import _unavailable

pytestmark = [pytest.mark.slow, pytest.mark.postgres, pytest.mark.mqtt]


def test_nothing_is_lost_or_stored_twice_across_sigkills_and_a_broker_restart(
    migrated_db: str, tmp_path: Path
) -> None:
    if shutil.which("mosquitto") is None:
        _unavailable("mosquitto is not installed")
    plan = LoopPlan(kills=3, seconds=20, rate=10, broker_restart=True, seed=7)
    result = run_loop(plan, migrated_db, tmp_path)
    print(report(plan, result))  # noqa: T201  (shown with -s, and in the failure output)
    assert (result.kills, result.broker_restarts) == (3, 1)
    for name, tally in result.tallies.items():
        assert tally.sent >= 0.9 * plan.seconds * plan.rate / 2, (name, tally)
        assert (tally.lost, tally.duplicates) == (0, 0), (name, tally)


def test_nothing_is_lost_when_the_hub_dies_while_postgresql_is_down(tmp_path: Path) -> None:
    """PostgreSQL (a server of this test's own) stopped 10 s; halfway through, the hub,
    holding in memory what it could not write (and had not acknowledged), is killed."""
    if shutil.which("mosquitto") is None:
        _unavailable("mosquitto is not installed")
    plan = LoopPlan(kills=2, seconds=15, rate=10, broker_restart=False, seed=3, db_outage_s=10)
    server = EmbeddedPostgres(tmp_path / "pg")
    url = server.start()
    try:
        with psycopg.connect(url, autocommit=True) as conn:
            migrate(conn, TimeseriesPolicy())
        result = run_loop(plan, url, tmp_path, server)
    finally:
        server.stop()
    print(report(plan, result))  # noqa: T201
    assert (result.kills, result.db_outages) == (3, 1)
    for name, tally in result.tallies.items():
        assert tally.sent >= 0.9 * plan.seconds * plan.rate / 2, (name, tally)
        assert (tally.lost, tally.duplicates) == (0, 0), (name, tally)
