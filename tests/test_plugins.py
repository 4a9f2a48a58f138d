"""The entry-point plugin registry, with real installed distributions (dist-info on sys.path)."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from hub.errors import PluginError
from hub.plugins import DETECTORS, NOTIFIERS, load_registry


@pytest.fixture
def plugin_path(tmp_path: Path) -> Iterator[Path]:
    """A directory on sys.path where a test installs a distribution by hand."""
    sys.path.insert(0, str(tmp_path))
    yield tmp_path
    sys.path.remove(str(tmp_path))
    for name in [m for m in sys.modules if m.startswith("acme_")]:
        del sys.modules[name]


def _install(root: Path, dist: str, module: str, source: str, entry: str) -> None:
    (root / f"{module}.py").write_text(source)
    info = root / f"{dist}-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(entry)


SMOKE_PLUGIN = """
from pydantic import BaseModel, ConfigDict
from hub.seams import DetectorScenario

class Settings(BaseModel):
    model_config = ConfigDict(extra="forbid")

class SmokePlume:
    kind = "smoke_plume"
    scenario = DetectorScenario("smoke_plume", "烟雾", "Smoke plume", severity=3)
    settings = Settings

    def build(self, camera, spec, clock):
        raise NotImplementedError

plugin = SmokePlume()
"""


def test_plugins_register_by_entry_point_name(plugin_path: Path) -> None:
    _install(
        plugin_path, "acme_detectors", "acme_smoke", SMOKE_PLUGIN,
        "[gridhub.detectors]\nsmoke_plume = acme_smoke:plugin\n",
    )  # fmt: skip
    registry = load_registry()
    assert "smoke_plume" in registry.names("gridhub.detectors")
    plugin = registry.get(DETECTORS, "smoke_plume")  # typed: a DetectorPlugin
    assert plugin.kind == "smoke_plume" and plugin.scenario.title_zh == "烟雾"


def test_a_plugin_that_misses_its_protocol_stops_startup_naming_what_is_missing(
    plugin_path: Path,
) -> None:
    _install(
        plugin_path, "acme_old", "acme_old_detector",
        "class SmokeDetector:\n    kind = 'smoke_old'\n    def build(self, c, s, k): ...\n"
        "plugin = SmokeDetector()\n",
        "[gridhub.detectors]\nsmoke_old = acme_old_detector:plugin\n",
    )  # fmt: skip
    with pytest.raises(PluginError) as caught:
        load_registry([DETECTORS])
    message = str(caught.value)
    assert "plugin 'smoke_old' (gridhub.detectors) is not a DetectorPlugin" in message
    assert "it lacks scenario, settings" in message


def test_a_bare_function_is_no_longer_a_plugin(plugin_path: Path) -> None:
    _install(
        plugin_path, "acme_fn", "acme_fn_source",
        "def open_cam(url, options):\n    raise OSError\n",
        "[gridhub.sources]\nacme_fn = acme_fn_source:open_cam\n",
    )  # fmt: skip
    with pytest.raises(PluginError, match=r"'acme_fn' \(gridhub.sources\) .* lacks open"):
        load_registry(["gridhub.sources"])


def test_a_broken_plugin_stops_startup_naming_it(plugin_path: Path) -> None:
    _install(
        plugin_path, "acme_broken", "acme_broken_source",
        "import a_module_that_does_not_exist\n",
        "[gridhub.sources]\nacme_cam = acme_broken_source:Source\n",
    )  # fmt: skip
    with pytest.raises(PluginError) as caught:
        load_registry()
    message = str(caught.value)
    assert "plugin 'acme_cam' (gridhub.sources = acme_broken_source:Source)" in message
    assert "No module named 'a_module_that_does_not_exist'" in message


def test_unknown_kind_lists_what_is_installed() -> None:
    registry = load_registry()
    with pytest.raises(PluginError, match="no gridhub.notifiers plugin named 'pager'"):
        registry.get(NOTIFIERS, "pager")


def test_cli_plugins_add_commands(plugin_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _install(
        plugin_path, "acme_cli", "acme_eval",
        "from hub.seams import Commands\n"
        "def register(hooks):\n"
        "    p = hooks.evaluations.add_parser('acme', help='evaluate acme')\n"
        "    p.set_defaults(command=lambda args: print('acme evaluated') or 0)\n"
        "plugin = Commands(register)\n",
        "[gridhub.cli]\nacme = acme_eval:plugin\n",
    )  # fmt: skip
    from hub.cli import main

    assert main(["eval", "acme"]) == 0
    assert "acme evaluated" in capsys.readouterr().out
