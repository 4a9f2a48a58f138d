"""The contract every registered `gridhub.detectors` plugin keeps."""

from __future__ import annotations

from typing import cast

import pytest

from hub.clock import FakeClock
from hub.config import Camera
from hub.errors import ConfigError
from hub.plugins import load_registry
from hub.seams import DetectorPlugin

PLUGINS = load_registry(["gridhub.detectors"]).plugins["gridhub.detectors"]


@pytest.mark.parametrize("name", sorted(PLUGINS))
def test_plugin_kind_is_its_entry_point_name(name: str) -> None:
    assert cast(DetectorPlugin, PLUGINS[name]).kind == name


@pytest.mark.parametrize("name", sorted(PLUGINS))
def test_an_unknown_setting_is_a_config_error_naming_the_detector(name: str) -> None:
    camera = Camera.model_validate(
        {
            "id": "CAM-X",
            "name": "x",
            "url": "file:///x.avi",
            "location": {"lat": 30.0, "lon": 120.0},
            "zones": [{"id": "z", "kind": "polygon", "points": [[0, 0], [1, 0], [1, 1]]}],
            "detectors": [{"kind": name, "zones": ["z"], "no_such_setting": 1}],
        }
    )
    plugin = cast(DetectorPlugin, PLUGINS[name])
    with pytest.raises(ConfigError, match=rf"cameras\[CAM-X\]\.detectors\[{name}\]"):
        plugin.build(camera, camera.detectors[0], FakeClock())
