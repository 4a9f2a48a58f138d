"""The site configuration: grids, patrols, cameras, sensors, services and SLA rules.

A site is one YAML file, modelled here with pydantic v2 (`extra="forbid"`, a
description on every field) so that a typo is an error naming the field. Secrets
(database and broker URLs, camera URLs with credentials) are `SecretStr`: they
never appear in a repr, a log line or an API response.

`load_site(path)` reads, validates and cross-checks a file; every problem is
reported as ``FILE: field.path: what is wrong`` through `ConfigError`.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    IPvAnyNetwork,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)

from hub.errors import ConfigError
from hub.infra.site_yaml import read_site_yaml

GridLevel = Literal["street", "community", "grid", "micro_grid"]
# Which level a grid's parent must have; streets have none.
PARENT_LEVEL: dict[str, str | None] = {
    "street": None,
    "community": "street",
    "grid": "community",
    "micro_grid": "grid",
}
Identifier = Annotated[
    str,
    Field(
        min_length=1,
        max_length=64,
        pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$",
        description="Stable identifier: letters, digits, '_', '.', '-'.",
    ),
]


# One MQTT topic level: no separator, no wildcard, no NUL.
TOPIC_LEVEL = r"^[^/+#\x00]+$"
# The hub's own MQTT identity (deploy/mosquitto/acl): no device may take it.
HUB_MQTT_IDENTITY = "gridhub"


class Strict(BaseModel):
    """Base for every config model: unknown keys are errors, values are immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Location(Strict):
    """A WGS-84 position."""

    lat: float = Field(ge=-90, le=90, description="Latitude in degrees (WGS-84).")
    lon: float = Field(ge=-180, le=180, description="Longitude in degrees (WGS-84).")


class Geometry(Strict):
    """A GeoJSON Polygon or MultiPolygon in WGS-84 (longitude, latitude order)."""

    type: Literal["Polygon", "MultiPolygon"] = Field(description="GeoJSON geometry type.")
    coordinates: list[Any] = Field(description="GeoJSON coordinates, [lon, lat] pairs.")

    @model_validator(mode="after")
    def _valid_shape(self) -> Geometry:
        from hub.geo import geometry_problem

        problem = geometry_problem(self.model_dump())
        if problem:
            raise ValueError(problem)
        return self


class Grid(Strict):
    """One cell of the 街道 → 社区 → 网格 → 微网格 hierarchy."""

    id: Identifier
    name: str = Field(min_length=1, description="Display name, e.g. 梧桐社区第一网格.")
    level: GridLevel = Field(description="street, community, grid or micro_grid.")
    parent: str | None = Field(
        default=None, description="Id of the enclosing grid one level up; none for a street."
    )
    geometry: Geometry = Field(description="Boundary as GeoJSON (WGS-84).")
    leader: str | None = Field(default=None, description="Grid leader (网格长) to escalate to.")


class OwnTracksIdentity(Strict):
    """How an OwnTracks device maps onto a patrol (topic owntracks/{user}/{device})."""

    user: str = Field(
        min_length=1, pattern=TOPIC_LEVEL, description="OwnTracks username in the topic."
    )
    device: str = Field(
        min_length=1, pattern=TOPIC_LEVEL, description="OwnTracks device name in the topic."
    )


class Patrol(Strict):
    """A patrol team or grid member (巡逻队 / 网格员) with a reporting device."""

    id: Identifier
    name: str = Field(min_length=1, description="Display name.")
    grid: str = Field(description="Id of the grid this patrol belongs to.")
    enabled: bool = Field(default=True, description="Disabled patrols are never dispatched.")
    phone: str | None = Field(default=None, description="Contact number for the control room.")
    owntracks: OwnTracksIdentity | None = Field(
        default=None, description="OwnTracks user/device that reports for this patrol."
    )


class Zone(Strict):
    """A region drawn on a camera image, in normalised image coordinates (0..1)."""

    id: Identifier
    kind: Literal["polygon", "line"] = Field(description="A closed polygon or a polyline.")
    points: list[tuple[float, float]] = Field(
        min_length=2, description="[x, y] vertices, each coordinate between 0 and 1."
    )
    label: str | None = Field(default=None, description="What the zone is, e.g. 消防通道.")

    @field_validator("points")
    @classmethod
    def _normalised(cls, points: list[tuple[float, float]]) -> list[tuple[float, float]]:
        for x, y in points:
            if not (0.0 <= x <= 1.0 and 0.0 <= y <= 1.0):
                raise ValueError(f"point ({x}, {y}) is outside the image; use 0..1")
        return points

    @model_validator(mode="after")
    def _enough_points(self) -> Zone:
        if self.kind == "polygon" and len(self.points) < 3:
            raise ValueError("a polygon zone needs at least 3 points")
        return self


class DetectorSpec(BaseModel):
    """A detector on a camera: `kind` names a `gridhub.detectors` plugin.

    Settings beyond the common fields are the plugin's own; they are validated by
    the plugin's config model when the plugin is loaded.
    """

    model_config = ConfigDict(extra="allow", frozen=True)

    kind: str = Field(min_length=1, description="Detector plugin name, e.g. thrown_object.")
    zones: list[str] = Field(default_factory=list, description="Ids of the camera zones it uses.")
    enabled: bool = Field(default=True, description="Switch the detector off without deleting.")


class Camera(Strict):
    """A camera source (雪亮工程 or the site's own)."""

    id: Identifier
    name: str = Field(min_length=1, description="Display name.")
    url: SecretStr = Field(
        description="Stream URL (rtsp://, http://, file://, onvif://); may hold credentials.",
        json_schema_extra={"pattern": "://"},  # what _has_scheme checks
    )
    source: str | None = Field(
        default=None, description="Frame-source plugin; taken from the URL scheme when unset."
    )
    location: Location = Field(description="Where the camera stands.")
    grid: str | None = Field(
        default=None, description="Grid id; looked up from the location when unset."
    )
    enabled: bool = Field(default=True, description="Disabled cameras are not opened.")
    analysis_fps: float = Field(
        default=5.0, gt=0, le=60, description="Frames per second handed to detectors."
    )
    zones: list[Zone] = Field(default_factory=list, description="Regions drawn on the image.")
    detectors: list[DetectorSpec] = Field(
        default_factory=list, description="Detectors that watch this camera."
    )

    @field_validator("url")
    @classmethod
    def _has_scheme(cls, url: SecretStr) -> SecretStr:
        if "://" not in url.get_secret_value():
            raise ValueError("must be a URL with a scheme, e.g. rtsp://host/stream")
        return url

    @property
    def source_kind(self) -> str:
        """The frame-source plugin that opens this camera."""
        return self.source or self.url.get_secret_value().split("://", 1)[0].lower()


class Sensor(Strict):
    """An IoT sensor that raises alarms over MQTT (smoke, water level, door, manhole…)."""

    id: Identifier
    name: str = Field(min_length=1, description="Display name.")
    type: str = Field(min_length=1, description="smoke, water_level, door, manhole_cover, …")
    location: Location = Field(description="Where the sensor is installed.")
    grid: str | None = Field(default=None, description="Grid id; from the location when unset.")
    threshold: float | None = Field(
        default=None, description="Value at or above which a reading is an alarm."
    )
    debounce_s: float = Field(
        default=0.0, ge=0, description="An alarm must persist this long before it counts."
    )


class GridSla(Strict):
    """Deadlines for one grid, where they differ from the site's."""

    accept_s: float | None = Field(default=None, gt=0, description="Seconds to accept.")
    arrive_s: float | None = Field(default=None, gt=0, description="Seconds to arrive.")


class SlaRules(Strict):
    """Response deadlines (五分钟响应) and the escalation ladder."""

    accept_s: float = Field(default=300, gt=0, description="Seconds to accept a new case.")
    arrive_s: float = Field(default=300, gt=0, description="Seconds from dispatch to arrival.")
    dispatch_s: float = Field(
        default=300, gt=0, description="Seconds from acceptance to a patrol being dispatched."
    )
    per_grid: dict[str, GridSla] = Field(
        default_factory=dict, description="Grid id -> deadlines that differ from the above."
    )
    dispatch_timeout_s: float = Field(
        default=60, gt=0, description="Seconds a patrol has to accept before the next is asked."
    )
    escalation: list[str] = Field(
        default_factory=lambda: ["grid_member", "grid_leader", "community", "street"],
        min_length=1,
        description="Who is told, in order, each time a deadline is missed.",
    )


class Scenario(Strict):
    """How alerts of one kind become cases."""

    title: str = Field(description="Case title, e.g. 高空抛物.")
    severity: int = Field(default=2, ge=1, le=4, description="1 low … 4 critical.")
    accept_s: float | None = Field(default=None, gt=0, description="Overrides sla.accept_s.")
    arrive_s: float | None = Field(default=None, gt=0, description="Overrides sla.arrive_s.")
    dedupe_window_s: float = Field(
        default=600, ge=0,
        description="A repeat alert joins the case for the same source, kind and region while "
        "it is open, or closed less than this long ago.",
    )  # fmt: skip
    auto_dispatch_confidence: float | None = Field(
        default=None, ge=0, le=1,
        description="At or above this confidence the case is accepted and dispatched at once.",
    )  # fmt: skip
    dispatch: bool = Field(default=True, description="False: never sent to a patrol.")


def default_scenarios() -> dict[str, Scenario]:
    """The hub's own and the sensors' scenarios. A camera detector's scenario is what its
    plugin declares (hub.alerts.scenarios), never one of these."""
    return {
        "camera_offline": Scenario(title="摄像机离线", severity=1, dispatch=False),
        "smoke": Scenario(title="烟感报警", severity=4, auto_dispatch_confidence=0.0),
        "water_level": Scenario(title="水位超限", severity=3),
        "manhole_cover": Scenario(title="井盖异常", severity=2),
        "door": Scenario(title="门禁异常", severity=2),
        "manual": Scenario(title="人工上报", severity=2),
        "patrol_report": Scenario(title="现场上报", severity=2),  # a patrol's own report
    }


class DispatchSettings(Strict):
    """Who counts as available when a case needs a patrol."""

    max_fix_age_s: float = Field(
        default=120, gt=0, description="A patrol whose last fix is older is not dispatched."
    )
    radius_m: float = Field(
        default=3000, gt=0, description="Only patrols within this distance are asked."
    )


class DatabaseSettings(Strict):
    """Where cases, patrols and time series are stored."""

    url: SecretStr | None = Field(
        default=None,
        description="postgresql:// URL; unset starts an embedded PostgreSQL in the data dir. "
        "GRIDHUB_DATABASE_URL overrides it.",
    )
    pool_size: int = Field(default=8, ge=1, le=100, description="Connections in the pool.")
    retention_days: dict[str, int] = Field(
        default_factory=lambda: {"patrol_positions": 90, "alerts": 365, "camera_health": 30},
        description="TimescaleDB retention per time-series table (days).",
    )
    compress_after_days: int = Field(
        default=7, ge=1, description="TimescaleDB compresses chunks older than this."
    )


class MqttSettings(Strict):
    """The MQTT broker patrol devices, sensors and the dashboard talk through."""

    url: SecretStr | None = Field(
        default=None,
        description="mqtt://[user:password@]host[:port]; unset starts an embedded broker. "
        "GRIDHUB_MQTT_URL overrides it.",
    )
    embedded_port: int = Field(
        default=1884, ge=0, le=65535, description="Loopback port of the embedded broker."
    )
    client_id: str = Field(default="gridhub", description="MQTT client id prefix of the hub.")
    persistent_session: bool = Field(
        default=True,
        description="With cluster.instance (or GRIDHUB_INSTANCE) set, connect as "
        "'{client_id}-{instance}' with clean session off, so the broker keeps what it "
        "could not deliver while the hub was down (docs/reliability.md). Without an "
        "instance name the hub connects with a random id and a clean session.",
    )


class ApiSettings(Strict):
    """The HTTP API and dashboard."""

    host: str = Field(default="127.0.0.1", description="Address to listen on.")
    port: int = Field(default=8080, ge=1, le=65535, description="TCP port to listen on.")
    max_body_bytes: int = Field(
        default=1_048_576,
        ge=1024,
        le=1_073_741_824,
        description="Largest request body accepted, in bytes; a larger one is refused with "
        "413. The largest body the API takes is a camera with its zones and detectors "
        "(a few KiB).",
    )
    trusted_proxies: list[IPvAnyNetwork] = Field(
        default_factory=list,
        description="Addresses or networks (CIDR) of reverse proxies whose X-Forwarded-For "
        "and X-Forwarded-Proto headers are believed; from any other peer they are ignored. "
        "Default: none (docs/security.md).",
    )
    token_days: float | None = Field(
        default=None,
        gt=0,
        le=36_500,
        description="Days an API token from `gridhub user add` / `user token` stays valid; "
        "unset: until revoked.",
    )
    max_photo_bytes: int = Field(
        default=10 * 1_048_576,
        ge=1024,
        le=1_073_741_824,
        description="Largest photo a patrol may upload to a case (POST /api/cases/{id}/photos), "
        "in bytes; a larger one is refused with 413 and nothing is stored.",
    )


class ClusterSettings(Strict):
    """Several hub instances sharing one database and broker (see docs/deploy.md)."""

    instance: str | None = Field(
        default=None,
        min_length=1,
        max_length=100,
        description="Name of this hub instance in logs and camera leases; defaults to the "
        "host name. GRIDHUB_INSTANCE overrides it.",
    )
    lease_ttl_s: float = Field(
        default=15.0,
        ge=3,
        le=600,
        description="Seconds a camera lease lasts without renewal: how long the cameras of "
        "a failed instance stay dark before another instance takes them over.",
    )
    shared_history: bool = Field(
        default=False,
        description="Store patrol fixes from an MQTT shared subscription, so instances sharing "
        "a broker store each fix once; set it on every instance of a multi-instance site "
        "(needs Mosquitto 2 or another broker with shared subscriptions).",
    )


class NotifierSpec(BaseModel):
    """A notifier: `kind` names a `gridhub.notifiers` plugin; other keys are its settings."""

    model_config = ConfigDict(extra="allow", frozen=True)

    kind: str = Field(min_length=1, description="Notifier plugin, e.g. mqtt or webhook.")
    name: str | None = Field(
        default=None, description="Unique name (its delivery cursor); defaults to the kind."
    )


class Contact(Strict):
    """A person an escalation rung messages (hub/notify/escalation.py)."""

    name: str = Field(min_length=1, description="Person's name, e.g. 张建国.")
    role: str = Field(min_length=1, description="Their role, e.g. 网格长.")
    grid: str = Field(description="Grid id they answer for (cases in it and below it).")
    rung: str = Field(description="Escalation rung (a name in sla.escalation) they are on.")
    notifier: str = Field(description="Name of the robot notifier that reaches them.")
    target: str | None = Field(
        default=None, description="Who to @mention: a platform user id or a mobile number."
    )


class NotifySettings(Strict):
    """Who chat messages name, and where their links point (docs/notifications.md)."""

    public_url: str | None = Field(
        default=None, pattern=r"^https?://[^/\s]+",
        description="The hub's address as message readers reach it (case links, snapshots).",
    )  # fmt: skip
    contacts: list[Contact] = Field(
        default_factory=list, description="People messaged when a case climbs to their rung."
    )


class SiteInfo(Strict):
    """Who runs this hub."""

    name: str = Field(min_length=1, description="Site name, e.g. 梧桐街道综治中心.")
    timezone: str = Field(default="Asia/Shanghai", description="IANA time zone for display.")
    data_dir: Path = Field(
        default=Path("data"),
        description="Evidence, embedded database and spool; relative to the config file. "
        "GRIDHUB_DATA_DIR overrides it.",
    )


class VideoSettings(Strict):
    """How camera workers read, reconnect, and keep evidence (the same for every camera)."""

    open_timeout_s: float = Field(
        default=5.0, gt=0, le=60, description="Seconds to connect and read a stream header."
    )
    read_timeout_s: float = Field(
        default=5.0, gt=0, le=60, description="Seconds without a frame before a stream is lost."
    )
    reconnect_initial_s: float = Field(
        default=0.25, gt=0, description="First reconnection delay; doubles on each failure."
    )
    reconnect_max_s: float = Field(
        default=2.0, gt=0, description="Cap of the reconnection delay (jittered to half..full)."
    )
    offline_alert_s: float = Field(
        default=300.0, gt=0, description="A camera dark this long raises camera_offline."
    )
    queue_size: int = Field(
        default=2, ge=1, le=100, description="Frames waiting for analysis before the oldest drops."
    )
    evidence_fps: float = Field(
        default=8.0, gt=0, le=30, description="Frames per second kept in the evidence buffer."
    )
    evidence_width: int = Field(
        default=640, ge=64, le=3840, description="Width in pixels of evidence clip frames."
    )
    ring_s: float = Field(
        default=20.0, gt=0, le=120, description="Seconds of each camera kept for clips."
    )
    clip_before_s: float = Field(
        default=5.0, ge=0, le=60, description="Seconds of clip before an alert started."
    )
    clip_after_s: float = Field(
        default=5.0, ge=0, le=60, description="Seconds of clip after an alert was confirmed."
    )
    evidence_max_mb: int = Field(
        default=2048, ge=1, description="Disk budget for evidence; oldest files go first."
    )


class SiteConfig(Strict):
    """A whole site: the root of the YAML file."""

    site: SiteInfo = Field(description="Site identity and data directory.")
    database: DatabaseSettings = Field(default_factory=DatabaseSettings, description="Storage.")
    mqtt: MqttSettings = Field(default_factory=MqttSettings, description="MQTT broker.")
    api: ApiSettings = Field(default_factory=ApiSettings, description="HTTP API.")
    cluster: ClusterSettings = Field(
        default_factory=ClusterSettings, description="Hub instances sharing cameras."
    )
    sla: SlaRules = Field(default_factory=SlaRules, description="Deadlines and escalation.")
    dispatch: DispatchSettings = Field(
        default_factory=DispatchSettings, description="Nearest-available patrol rules."
    )
    notifiers: list[NotifierSpec] = Field(
        default_factory=list, description="Where case events are sent (MQTT, webhooks, …)."
    )
    notify: NotifySettings = Field(
        default_factory=NotifySettings, description="Escalation contacts and message links."
    )
    scenarios: dict[str, Scenario] = Field(
        default_factory=dict,
        description="Alert kind -> how it becomes a case; replaces, for that kind, what a "
        "detector plugin declares and the built-in sensor scenarios.",
    )

    def scenario(self, kind: str) -> Scenario:
        """The site's rules for `kind`: given, built-in (sensors, the hub's own), or plain.

        Camera alerts take their detector plugin's scenario first (hub.alerts.scenarios).
        """
        return self.scenarios.get(kind) or default_scenarios().get(kind) or Scenario(title=kind)

    def has(self, kind: str) -> bool:
        """Whether the site file or the built-in table names `kind`."""
        return kind in self.scenarios or kind in default_scenarios()

    def deadlines(self, kind: str, grid_id: str | None) -> tuple[float, float]:
        """(accept_s, arrive_s) for a case of `kind` in `grid_id`."""
        scenario = self.scenario(kind)
        grid = self.sla.per_grid.get(grid_id or "") or GridSla()
        accept = grid.accept_s or scenario.accept_s or self.sla.accept_s
        arrive = grid.arrive_s or scenario.arrive_s or self.sla.arrive_s
        return accept, arrive

    grids: list[Grid] = Field(min_length=1, description="The grid hierarchy.")
    patrols: list[Patrol] = Field(default_factory=list, description="Patrol teams.")
    cameras: list[Camera] = Field(default_factory=list, description="Cameras.")
    sensors: list[Sensor] = Field(default_factory=list, description="Sensors.")
    video: VideoSettings = Field(
        default_factory=VideoSettings, description="Camera reading, reconnection and evidence."
    )


def load_site(path: Path) -> SiteConfig:
    """Read, validate and cross-check a site file, or raise `ConfigError`."""
    raw = read_site_yaml(path)
    try:
        site = SiteConfig.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(describe_validation(path, exc)) from None
    problems = list(reference_problems(site))
    if problems:
        raise ConfigError("\n".join(f"{path}: {where}: {what}" for where, what in problems))
    return _resolve(site, path)


def describe_validation(path: Path, exc: ValidationError) -> str:
    lines = []
    for error in exc.errors(include_url=False):
        where = field_path(error["loc"]) or "(top level)"
        lines.append(f"{path}: {where}: {error['msg']}")
    return "\n".join(lines)


def field_path(loc: Iterable[int | str]) -> str:
    """Render a pydantic error location as ``cameras[2].location.lat``."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def reference_problems(site: SiteConfig) -> Iterable[tuple[str, str]]:
    """Yield (field path, problem) for ids that clash or point nowhere."""
    yield from _duplicate_ids("grids", [g.id for g in site.grids])
    yield from _duplicate_ids("patrols", [p.id for p in site.patrols])
    yield from _duplicate_ids("cameras", [c.id for c in site.cameras])
    yield from _duplicate_ids("sensors", [s.id for s in site.sensors])
    yield from _grid_parent_problems(site.grids)
    grid_ids = {g.id for g in site.grids}
    for i, patrol in enumerate(site.patrols):
        if patrol.grid not in grid_ids:
            yield f"patrols[{i}].grid", f"unknown grid '{patrol.grid}'"
    yield from _owntracks_clashes(site.patrols)
    yield from _mqtt_identity_clashes(site)
    for i, camera in enumerate(site.cameras):
        if camera.grid is not None and camera.grid not in grid_ids:
            yield f"cameras[{i}].grid", f"unknown grid '{camera.grid}'"
        yield from _zone_reference_problems(f"cameras[{i}]", camera)
    for i, sensor in enumerate(site.sensors):
        if sensor.grid is not None and sensor.grid not in grid_ids:
            yield f"sensors[{i}].grid", f"unknown grid '{sensor.grid}'"
    yield from _contact_problems(site, grid_ids)


def _contact_problems(site: SiteConfig, grid_ids: set[str]) -> Iterable[tuple[str, str]]:
    notifiers: set[str] = set()
    for i, spec in enumerate(site.notifiers):
        if (spec.name or spec.kind) in notifiers:
            yield f"notifiers[{i}].name", f"two notifiers named '{spec.name or spec.kind}'"
        notifiers.add(spec.name or spec.kind)
    for i, contact in enumerate(site.notify.contacts):
        where = f"notify.contacts[{i}]"
        if contact.grid not in grid_ids:
            yield f"{where}.grid", f"unknown grid '{contact.grid}'"
        if contact.rung not in site.sla.escalation:
            yield f"{where}.rung", f"'{contact.rung}' is not in sla.escalation"
        if contact.notifier not in notifiers:
            yield f"{where}.notifier", f"no notifier named '{contact.notifier}'"


def _duplicate_ids(section: str, ids: list[str]) -> Iterable[tuple[str, str]]:
    seen: set[str] = set()
    for i, ident in enumerate(ids):
        if ident in seen:
            yield f"{section}[{i}].id", f"duplicate id '{ident}'"
        seen.add(ident)


def _grid_parent_problems(grids: list[Grid]) -> Iterable[tuple[str, str]]:
    level_of = {g.id: g.level for g in grids}
    for i, grid in enumerate(grids):
        wanted = PARENT_LEVEL[grid.level]
        if wanted is None and grid.parent is not None:
            yield f"grids[{i}].parent", "a street has no parent"
        elif wanted is not None and grid.parent is None:
            yield f"grids[{i}].parent", f"a {grid.level} needs a parent {wanted}"
        elif grid.parent is not None and grid.parent not in level_of:
            yield f"grids[{i}].parent", f"unknown grid '{grid.parent}'"
        elif grid.parent is not None and level_of[grid.parent] != wanted:
            yield (
                f"grids[{i}].parent",
                f"'{grid.parent}' is a {level_of[grid.parent]}; a {grid.level}'s parent "
                f"must be a {wanted}",
            )


def _owntracks_clashes(patrols: list[Patrol]) -> Iterable[tuple[str, str]]:
    seen: dict[tuple[str, str], str] = {}
    for i, patrol in enumerate(patrols):
        if patrol.owntracks is None:
            continue
        key = (patrol.owntracks.user, patrol.owntracks.device)
        if key in seen:
            yield f"patrols[{i}].owntracks", f"{key[0]}/{key[1]} already maps to '{seen[key]}'"
        seen[key] = patrol.id


def _mqtt_identity_clashes(site: SiteConfig) -> Iterable[tuple[str, str]]:
    """One MQTT identity, one device: the broker's ACL (deploy/mosquitto/acl) lets a
    username publish on the topics named after it — a patrol id, an OwnTracks user, a
    sensor id — so a name used by two of them would let one act for the other."""
    owners: dict[str, str] = {HUB_MQTT_IDENTITY: "the hub"}
    claims = [(f"patrols[{i}].id", p.id, f"patrol {p.id}") for i, p in enumerate(site.patrols)]
    claims += [(f"patrols[{i}].owntracks.user", p.owntracks.user, f"patrol {p.id}")
               for i, p in enumerate(site.patrols) if p.owntracks is not None]  # fmt: skip
    claims += [(f"sensors[{i}].id", s.id, f"sensor {s.id}") for i, s in enumerate(site.sensors)]
    for where, name, owner in claims:
        first = owners.setdefault(name, owner)
        if first != owner:
            yield where, f"MQTT identity '{name}' is already {first}'s; one identity per device"


def _zone_reference_problems(where: str, camera: Camera) -> Iterable[tuple[str, str]]:
    zone_ids = [z.id for z in camera.zones]
    yield from _duplicate_ids(f"{where}.zones", zone_ids)
    for d, spec in enumerate(camera.detectors):
        for z, zone in enumerate(spec.zones):
            if zone not in zone_ids:
                yield f"{where}.detectors[{d}].zones[{z}]", f"unknown zone '{zone}'"


def _resolve(site: SiteConfig, path: Path) -> SiteConfig:
    """Apply environment overrides and anchor the data dir at the config file."""
    data_dir = Path(os.environ.get("GRIDHUB_DATA_DIR") or site.site.data_dir)
    if not data_dir.is_absolute():
        data_dir = (path.parent / data_dir).resolve()
    updates: dict[str, Any] = {"site": site.site.model_copy(update={"data_dir": data_dir})}
    if db_url := os.environ.get("GRIDHUB_DATABASE_URL"):
        updates["database"] = site.database.model_copy(update={"url": SecretStr(db_url)})
    if mqtt_url := os.environ.get("GRIDHUB_MQTT_URL"):
        updates["mqtt"] = site.mqtt.model_copy(update={"url": SecretStr(mqtt_url)})
    if instance := os.environ.get("GRIDHUB_INSTANCE"):
        updates["cluster"] = site.cluster.model_copy(update={"instance": instance})
    return site.model_copy(update=updates)
