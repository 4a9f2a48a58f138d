"""The `gridhub` command as a person runs it: real processes, real servers."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

from tests.conftest import DEMO_CONFIG, free_port, write_site


def gridhub(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "hub.cli", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def test_help_for_every_command() -> None:
    for args in (["--help"], ["run", "--help"], ["demo", "--help"], ["db", "migrate", "--help"],
                 ["config", "check", "--help"], ["config", "schema", "--help"]):  # fmt: skip
        result = gridhub(*args)
        assert result.returncode == 0, result.stderr
        assert "usage: gridhub" in result.stdout


def test_db_migrate_twice_changes_nothing_the_second_time(fresh_db: str) -> None:
    first = gridhub("db", "migrate", "--url", fresh_db)
    assert first.returncode == 0, first.stderr
    assert "applied: 0001, 0002, 0003, 0004" in first.stdout
    second = gridhub("db", "migrate", "--url", fresh_db)
    assert second.returncode == 0, second.stderr
    assert "applied: none (already up to date)" in second.stdout


def test_unreachable_database_is_one_clear_line(tmp_path: Path, demo_raw: dict[str, Any]) -> None:
    demo_raw["database"] = {"url": f"postgresql://gridhub:pw@127.0.0.1:{free_port()}/grid"}
    result = gridhub("db", "migrate", "--config", str(write_site(tmp_path, demo_raw)))
    assert result.returncode == 2
    assert "gridhub: error: cannot reach database grid at 127.0.0.1:" in result.stderr
    assert "Traceback" not in result.stderr
    assert ":pw@" not in result.stderr


def test_unreachable_broker_is_one_clear_line(
    tmp_path: Path, demo_raw: dict[str, Any], migrated_db: str
) -> None:
    port = free_port()
    demo_raw["database"] = {"url": migrated_db}
    demo_raw["mqtt"] = {"url": f"mqtt://127.0.0.1:{free_port()}"}
    demo_raw["api"] = {"port": port}
    result = gridhub("run", "--config", str(write_site(tmp_path, demo_raw)))
    assert result.returncode == 2
    assert "gridhub: error: cannot reach MQTT broker mqtt://127.0.0.1:" in result.stderr
    assert "Traceback" not in result.stderr


def test_missing_config_file() -> None:
    result = gridhub("run", "--config", "/nonexistent/site.yaml")
    assert result.returncode == 2
    assert result.stderr.strip() == "gridhub: error: /nonexistent/site.yaml: no such file"


def test_port_in_use_is_one_clear_line(tmp_path: Path, demo_raw: dict[str, Any]) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        demo_raw["api"] = {"host": "127.0.0.1", "port": port}
        result = gridhub("run", "--config", str(write_site(tmp_path, demo_raw)))
    assert result.returncode == 2
    assert f"gridhub: error: cannot listen on 127.0.0.1:{port}: Address already in use" in (
        result.stderr
    )


def test_config_check_exit_status(tmp_path: Path) -> None:
    assert gridhub("config", "check", str(DEMO_CONFIG)).returncode == 0
    bad = tmp_path / "bad.yaml"
    bad.write_text("site: {name: x}\ngrids: []\n")
    result = gridhub("config", "check", str(bad))
    assert result.returncode == 2
    assert "grids: List should have at least 1 item" in result.stderr
