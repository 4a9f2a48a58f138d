"""Site file validation: the demo is valid, and each broken file names its field."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from hub.cli import main
from hub.config import load_site
from hub.errors import ConfigError
from hub.plugins import DETECTORS, load_registry
from tests.conftest import DEMO_CONFIG, write_site

Edit = Callable[[dict[str, Any]], None]


def test_demo_site_is_valid_and_believable() -> None:
    site = load_site(DEMO_CONFIG)
    levels = [g.level for g in site.grids]
    assert levels.count("street") == 1
    assert levels.count("community") == 2
    assert levels.count("grid") >= 6
    assert len(site.patrols) >= 8
    assert len(site.cameras) >= 4
    assert site.site.data_dir.is_absolute()


def _set(path: str, value: Any) -> Edit:
    """An edit that sets a dotted path (list indices as numbers) to `value`."""

    def edit(raw: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        node: Any = raw
        for key in parents:
            node = node[int(key)] if key.isdigit() else node[key]
        node[int(last) if last.isdigit() else last] = value

    return edit


def _delete(path: str) -> Edit:
    def edit(raw: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        node: Any = raw
        for key in parents:
            node = node[int(key)] if key.isdigit() else node[key]
        del node[last]

    return edit


def _duplicate_patrol(raw: dict[str, Any]) -> None:
    raw["patrols"].append(dict(raw["patrols"][0]))


BROKEN: list[tuple[str, Edit, str]] = [
    ("unknown key", _set("site.colour", "red"), "site.colour: Extra inputs are not permitted"),
    ("missing site", _delete("site"), "site: Field required"),
    ("no grids", _set("grids", []), "grids: List should have at least 1 item"),
    (
        "latitude out of range",
        _set("cameras.2.location.lat", 95),
        "cameras[2].location.lat: Input should be less than or equal to 90",
    ),
    (
        "bad level",
        _set("grids.1.level", "district"),
        "grids[1].level: Input should be 'street', 'community', 'grid' or 'micro_grid'",
    ),
    (
        "self-intersecting polygon",
        _set("grids.0.geometry.coordinates", [[[0, 0], [1, 1], [1, 0], [0, 1], [0, 0]]]),
        "grids[0].geometry: Value error, the polygon is not valid: Self-intersection",
    ),
    (
        "lat/lon swapped",
        _set(
            "grids.0.geometry.coordinates",
            [[[30.27, 120.14], [30.28, 120.14], [30.28, 120.16], [30.27, 120.14]]],
        ),
        "grids[0].geometry: Value error, coordinates must be [longitude, latitude]",
    ),
    (
        "patrol in unknown grid",
        _set("patrols.3.grid", "NOWHERE"),
        "patrols[3].grid: unknown grid 'NOWHERE'",
    ),
    ("duplicate patrol id", _duplicate_patrol, "patrols[10].id: duplicate id 'P01'"),
    (
        "community without parent",
        _delete("grids.1.parent"),
        "grids[1].parent: a community needs a parent street",
    ),
    (
        "grid under a street",
        _set("grids.2.parent", "WT"),
        "grids[2].parent: 'WT' is a street; a grid's parent must be a community",
    ),
    (
        "camera URL without scheme",
        _set("cameras.0.url", "192.168.1.10/stream"),
        "cameras[0].url: Value error, must be a URL with a scheme",
    ),
    (
        "zone point outside image",
        _set("cameras.0.zones.0.points", [[0, 0], [1.5, 0], [1, 1]]),
        "cameras[0].zones[0].points: Value error, point (1.5, 0.0) is outside the image",
    ),
    (
        "detector on unknown zone",
        _set("cameras.0.detectors", [{"kind": "x", "zones": ["roof"]}]),
        "cameras[0].detectors[0].zones[0]: unknown zone 'roof'",
    ),
    (
        "negative fps",
        _set("cameras.1.analysis_fps", -1),
        "cameras[1].analysis_fps: Input should be greater than 0",
    ),
    (
        "SLA as text",
        _set("sla.accept_s", "five minutes"),
        "sla.accept_s: Input should be a valid number",
    ),
    (
        "owntracks clash",
        _set("patrols.7.owntracks", {"user": "wg07", "device": "phone"}),
        "patrols[7].owntracks: wg07/phone already maps to 'P07'",
    ),
    (
        "OwnTracks user is another patrol's MQTT identity",
        _set("patrols.6.owntracks", {"user": "P02", "device": "phone"}),
        "patrols[6].owntracks.user: MQTT identity 'P02' is already patrol P02's; one identity "
        "per device",
    ),
    (
        "one OwnTracks user for two patrols",
        _set("patrols.7.owntracks", {"user": "wg07", "device": "tablet"}),
        "patrols[7].owntracks.user: MQTT identity 'wg07' is already patrol P07's",
    ),
    (
        "a device takes the hub's MQTT identity",
        _set("patrols.6.owntracks", {"user": "gridhub", "device": "phone"}),
        "patrols[6].owntracks.user: MQTT identity 'gridhub' is already the hub's",
    ),
    (
        "OwnTracks user with a topic separator",
        _set("patrols.6.owntracks", {"user": "wg/07", "device": "phone"}),
        "patrols[6].owntracks.user: String should match pattern",
    ),
    (
        "sensor id is a patrol's MQTT identity",
        _set("sensors.0.id", "P01"),
        "sensors[0].id: MQTT identity 'P01' is already patrol P01's",
    ),
]


@pytest.mark.parametrize(("case", "edit", "message"), BROKEN, ids=[b[0] for b in BROKEN])
def test_broken_site_names_the_field(
    tmp_path: Path, demo_raw: dict[str, Any], case: str, edit: Edit, message: str
) -> None:
    edit(demo_raw)
    path = write_site(tmp_path, demo_raw)
    with pytest.raises(ConfigError) as caught:
        load_site(path)
    assert f"{path}: {message}" in str(caught.value)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("site: [unclosed", "line 1, column 16: not valid YAML: expected .,. or .\\]."),
        ("- just\n- a list\n", "the top level must be a mapping"),
        ("", "the top level must be a mapping"),
    ],
)
def test_unreadable_file_is_a_clear_error(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(content)
    with pytest.raises(ConfigError, match=message):
        load_site(path)


def test_config_check_command(
    tmp_path: Path, demo_raw: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["config", "check", str(DEMO_CONFIG)]) == 0
    assert "ok (11 grids, 10 patrols" in capsys.readouterr().out

    demo_raw["patrols"][0]["grid"] = "NOWHERE"
    assert main(["config", "check", str(write_site(tmp_path, demo_raw))]) == 2
    err = capsys.readouterr().err
    assert err.startswith("gridhub: error: ")
    assert "patrols[0].grid: unknown grid 'NOWHERE'" in err
    assert "Traceback" not in err

    assert main(["config", "check", str(tmp_path / "missing.yaml")]) == 2
    assert "missing.yaml: no such file" in capsys.readouterr().err


def test_schema_command_prints_json_schema(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["config", "schema"]) == 0
    schema = json.loads(capsys.readouterr().out)
    assert schema["title"] == "SiteConfig"
    assert "grids" in schema["required"]
    camera = schema["$defs"]["Camera"]
    assert camera["additionalProperties"] is False
    assert all("description" in f for f in camera["properties"].values() if "$ref" not in f)


def test_secrets_stay_out_of_reprs(demo_raw: dict[str, Any], tmp_path: Path) -> None:
    demo_raw["database"] = {"url": "postgresql://hub:s3cret@db/gridhub"}
    site = load_site(write_site(tmp_path, demo_raw))
    assert "s3cret" not in repr(site)
    assert "change-me" not in repr(site.cameras)


def test_environment_overrides_service_urls(
    demo_raw: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GRIDHUB_DATABASE_URL", "postgresql://db.example/grid")
    monkeypatch.setenv("GRIDHUB_MQTT_URL", "mqtt://broker.example:1883")
    site = load_site(write_site(tmp_path, demo_raw))
    assert site.database.url is not None
    assert site.database.url.get_secret_value() == "postgresql://db.example/grid"
    assert site.mqtt.url is not None
    assert site.mqtt.url.get_secret_value() == "mqtt://broker.example:1883"


def _with_fire_lane(raw: dict[str, Any], **settings: Any) -> dict[str, Any]:
    camera = raw["cameras"][2]
    camera["zones"] = [{"id": "lane", "kind": "polygon", "points": [[0, 0], [1, 0], [1, 1]]}]
    camera["detectors"] = [{"kind": "fire_lane", "zones": ["lane"], **settings}]
    return raw


def test_config_check_catches_a_misspelt_detector_setting(
    tmp_path: Path, demo_raw: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    good = write_site(tmp_path, _with_fire_lane(demo_raw, dwell_s=60), "good.yaml")
    assert main(["config", "check", str(good)]) == 0
    capsys.readouterr()
    bad = write_site(tmp_path, _with_fire_lane(demo_raw, dwel_s=60), "bad.yaml")
    assert main(["config", "check", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "cameras[2].detectors[0].fire_lane.dwel_s: Extra inputs are not permitted" in err
    assert "Traceback" not in err


def test_config_check_lists_the_installed_kinds_for_an_unknown_one(
    tmp_path: Path, demo_raw: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    raw = _with_fire_lane(demo_raw)
    raw["cameras"][2]["detectors"][0]["kind"] = "firelane"
    assert main(["config", "check", str(write_site(tmp_path, raw))]) == 2
    err = capsys.readouterr().err
    assert "cameras[2].detectors[0]: Input tag 'firelane' found using 'kind'" in err
    assert "'fire_lane', 'intrusion'" in err


def test_schema_describes_every_installed_detectors_settings(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["config", "schema"]) == 0
    schema = json.loads(capsys.readouterr().out)
    detectors = schema["$defs"]["Camera"]["properties"]["detectors"]["items"]
    kinds = sorted(detectors["discriminator"]["mapping"])
    assert kinds == sorted(load_registry([DETECTORS]).names(DETECTORS))
    lane = schema["$defs"]["fire_lane_detector"]
    assert lane["additionalProperties"] is False
    assert lane["properties"]["dwell_s"]["description"] == "Seconds blocked before the alert."
    assert all("description" in f for f in lane["properties"].values() if "$ref" not in f)
