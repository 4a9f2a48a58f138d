"""A third-party detector written from docs/plugins.md alone, installed as a separate package.

The package is built in a temporary directory from the code and the entry-point
table on docs/plugins.md, with a real ``.dist-info`` on ``sys.path`` (what pip
writes): it loads through its entry point, the site schema describes its
settings, the case it raises through the real alert sink on PostgreSQL carries
its declared zh title, and a broken package stops start-up naming itself.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from hub.cases.store import get_case
from hub.cli import main
from hub.clock import FakeClock
from hub.config import Camera
from hub.errors import PluginError
from hub.model import Frame
from hub.plugins import DETECTORS, load_registry
from hub.testing.contracts import check_detector_plugin
from tests.conftest import REPO, HubFactory, write_site

DOC = (REPO / "docs" / "plugins.md").read_text(encoding="utf-8")


def _doc_block(starts: str) -> str:
    """The fenced code block on docs/plugins.md whose first line starts with `starts`."""
    for block in re.findall(r"```(?:python|toml)\n(.*?)```", DOC, re.DOTALL):
        if block.startswith(starts):
            return str(block)
    raise AssertionError(f"docs/plugins.md has no block starting {starts!r}")


def _entry_points(group: str) -> str:
    """The doc's pyproject table for `group`, as a dist-info entry_points.txt section."""
    table = _doc_block("[project]").split(f'[project.entry-points."{group}"]\n')[1]
    lines = table.split("\n\n")[0].replace('"', "").splitlines()
    return f"[{group}]\n" + "\n".join(lines) + "\n"


def _install(root: Path, dist: str, files: dict[str, str], entry_points: str) -> None:
    """What pip writes for a package: its modules and a dist-info with entry points."""
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text, encoding="utf-8")
    info = root / f"{dist}-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(entry_points)


@pytest.fixture
def site_packages(tmp_path: Path) -> Iterator[Path]:
    root = tmp_path / "site-packages"
    root.mkdir()
    sys.path.insert(0, str(root))
    yield root
    sys.path.remove(str(root))
    for name in [m for m in sys.modules if m.startswith("acme_")]:
        del sys.modules[name]


@pytest.fixture
def acme(site_packages: Path) -> Path:
    files = {"acme_gridhub/__init__.py": "", "acme_gridhub/smoke.py": _doc_block('"""Smoke plume')}
    _install(site_packages, "acme_gridhub", files, _entry_points("gridhub.detectors"))
    return site_packages


def _frames(camera_id: str, count: int) -> list[Frame]:
    start = datetime.now(UTC)
    image = np.full((120, 160, 3), 128, np.uint8)  # all grey: smoke, for this detector
    return [Frame(camera_id, i, i / 5, start + timedelta(seconds=i / 5), image)
            for i in range(count)]  # fmt: skip


@pytest.mark.usefixtures("acme")
def test_it_loads_through_its_entry_point_and_keeps_the_contract() -> None:
    plugin = load_registry([DETECTORS]).get(DETECTORS, "smoke_plume")
    assert plugin.scenario.title_zh == "烟雾报警（{region}）"
    check_detector_plugin(plugin, "smoke_plume")


@pytest.mark.usefixtures("acme")
def test_the_site_schema_describes_its_settings(
    tmp_path: Path, demo_raw: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["config", "schema"]) == 0
    schema = json.loads(capsys.readouterr().out)
    smoke = schema["$defs"]["smoke_plume_detector"]["properties"]
    assert smoke["min_ratio"]["description"] == "Share of the zone that is grey."
    demo_raw["cameras"][2]["zones"] = [{"id": "roof", "kind": "polygon",
                                        "points": [[0, 0], [1, 0], [1, 1]]}]  # fmt: skip
    demo_raw["cameras"][2]["detectors"] = [{"kind": "smoke_plume", "zones": ["roof"],
                                            "min_ratoi": 0.5}]  # fmt: skip
    assert main(["config", "check", str(write_site(tmp_path, demo_raw))]) == 2
    err = capsys.readouterr().err
    assert "cameras[2].detectors[0].smoke_plume.min_ratoi: Extra inputs are not permitted" in err


@pytest.mark.usefixtures("acme")
def test_its_case_carries_its_declared_zh_title(hub_factory: HubFactory) -> None:
    hub = hub_factory(clock=FakeClock(current=datetime.now(UTC)))
    camera = Camera.model_validate({
        "id": "CAM-QH-L01", "name": "北门", "url": "file:///none.mp4",
        "location": {"lat": 30.2726, "lon": 120.1427},
        "zones": [{"id": "roof", "kind": "polygon", "points": [[0, 0], [1, 0], [1, 1]]}],
        "detectors": [{"kind": "smoke_plume", "zones": ["roof"], "frames": 2}],
    })  # fmt: skip
    plugin = load_registry([DETECTORS]).get(DETECTORS, "smoke_plume")
    detector = plugin.build(camera, camera.detectors[0], hub.clock)
    alerts = [a for f in _frames(camera.id, 4) for a in detector.process(f)]
    assert len(alerts) == 1
    outcome = hub.cases.record(alerts[0])
    assert outcome.case_id is not None
    with hub.pool.connection() as conn:
        case = get_case(conn, outcome.case_id)
    assert (case.kind, case.title, case.severity) == ("smoke_plume", "烟雾报警（roof）", 3)
    assert case.details["title_en"] == "Smoke in roof"


def test_a_broken_plugin_stops_startup_naming_it(
    site_packages: Path, hub_factory: HubFactory
) -> None:
    smoke = _doc_block('"""Smoke plume').replace("    scenario = ", "    draft = ")
    _install(site_packages, "acme_broken", {"acme_broken_smoke.py": smoke},
             "[gridhub.detectors]\nsmoke_plume = acme_broken_smoke:plugin\n")  # fmt: skip
    with pytest.raises(PluginError) as caught:
        hub_factory()
    message = str(caught.value)
    assert "plugin 'smoke_plume' (gridhub.detectors) is not a DetectorPlugin" in message
    assert "it lacks scenario" in message
