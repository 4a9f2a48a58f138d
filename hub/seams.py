"""Every seam between the hub and its plugins, as small Protocols and the records that cross them.

Every entry point names an object called ``plugin``; the registry (hub.plugins)
checks it against its group's Protocol when it is loaded.

- Cameras: a `gridhub.sources` entry point, keyed by URL scheme (file, rtsp,
  http, https, onvif), names a `SourcePlugin`: `open(url, options)` returns a
  `FrameSource` (`SourceOpener` makes one from a factory function). The camera
  worker opens it, reads `Capture`s until it fails, closes it and opens it again
  after a backoff. A `Capture` keeps the decoded picture in the decoder's own format and converts it
  to BGR only when asked (`to_bgr`), so frames that are neither analysed nor kept
  as evidence cost no colour conversion.
- Detectors: a `gridhub.detectors` entry point names a `DetectorPlugin`: it
  declares its `DetectorScenario` (how its alerts become cases) and its
  pydantic settings model (part of the site schema), validates a camera's
  detector settings and builds one `Detector` per camera.
  The camera worker hands each analysed `Frame` to `Detector.process`, which
  returns the alerts that frame confirmed (usually none); they go to the
  `AlertSink` (hub.alerts).
- Notifiers: a `gridhub.notifiers` entry point names a `NotifierPlugin` that
  builds a `Notifier` from its settings; the hub hands it each case event. A
  chat robot (WeCom, DingTalk, Feishu) is a `MessageNotifier` too: it also sends
  a `Message` the hub composed (an escalation naming the people to @mention).
- Commands: a `gridhub.cli` entry point names a `CommandPlugin` whose
  `register(hooks)` adds commands to `CliHooks` (`Commands` makes one from a function).
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt
from pydantic import BaseModel

from hub.cases.feed import CaseEvent
from hub.clock import Clock, SystemClock
from hub.config import Camera, DetectorSpec, NotifierSpec, SiteConfig
from hub.infra.mqtt import MqttLink
from hub.model import Alert, Frame

Image = npt.NDArray[np.uint8]


@dataclass(frozen=True, slots=True)
class SourceInfo:
    """What an opened source reports about its stream (for `camera probe`)."""

    kind: str
    codec: str
    width: int
    height: int
    fps: float | None  # nominal frame rate, when the stream declares one


@dataclass(frozen=True, slots=True)
class Capture:
    """One decoded picture with its capture times; `to_bgr` converts it on demand.

    `to_bgr(width)` returns an H x W x 3 BGR image, scaled to `width` pixels wide
    (keeping the aspect ratio) when given.
    Several threads may call it at once (the analysis, the evidence buffer,
    snapshots and previews): a source makes that safe.
    """

    mono: float
    wall: datetime
    width: int
    height: int
    to_bgr: Callable[[int | None], Image]


@dataclass(frozen=True, slots=True)
class SourceOptions:
    """How a source is opened and read."""

    open_timeout_s: float = 5.0
    read_timeout_s: float = 5.0
    realtime: bool = True  # a file source plays at its native rate (False: as fast as decoded)
    loop: bool = True  # a file source starts again at its end
    poll_fps: float = 5.0  # how often a snapshot URL is fetched (the camera's analysis rate)
    decode_threads: int = 1  # one decoding thread per camera is the most efficient on few cores
    clock: Clock = SystemClock()


@runtime_checkable
class FrameSource(Protocol):
    """A camera stream: open, read captures, close. Not thread-safe: one reader."""

    def open(self) -> SourceInfo:
        """Connect and read the stream header; `SourceOpenError` within the open timeout."""
        ...

    def read(self) -> Capture:
        """The next picture; `SourceReadError` when the stream broke, `SourceEnded` at the end."""
        ...

    def close(self) -> None:
        """Release the connection; safe to call twice or on a source never opened."""
        ...

    def describe(self) -> str:
        """Kind and URL without credentials, for logs and the API."""
        ...


class SourceFactory(Protocol):
    """A function that opens a source: what `SourceOpener` wraps."""

    def __call__(self, url: str, options: SourceOptions) -> FrameSource: ...


@runtime_checkable
class SourcePlugin(Protocol):
    """What a `gridhub.sources` entry point loads."""

    def open(self, url: str, options: SourceOptions) -> FrameSource:
        """A source for `url` (not yet opened); `SourceOpenError` for a URL it cannot read."""
        ...


@dataclass(frozen=True, slots=True)
class SourceOpener:
    """A `SourcePlugin` made from a factory function: ``plugin = SourceOpener(open_file)``."""

    open: SourceFactory


@runtime_checkable
class Detector(Protocol):
    """Watches one camera for one scenario."""

    kind: str

    def process(self, frame: Frame) -> list[Alert]:
        """Consume one frame; return the alerts it confirmed."""
        ...


@dataclass(frozen=True, slots=True)
class DetectorScenario:
    """How a detector's alerts become cases: what it declares beside its settings.

    The titles are templates: ``{camera_id}``, ``{region}`` and the keys of the
    alert's `details` may appear in them. A case takes the alert's own summary
    when it has one, else the zh title; the en title is kept in its details.
    At or above `auto_dispatch_confidence` a case is accepted and dispatched at
    once (None: never). A site's ``scenarios:`` entry for the kind overrides all this.
    """

    kind: str
    title_zh: str
    title_en: str
    severity: int = 2  # 1 low … 4 critical
    auto_dispatch_confidence: float | None = None

    def title(self, alert: Alert, lang: str = "zh") -> str:
        """The title template of `lang` (zh, or en) filled in from `alert`."""
        template = self.title_en if lang == "en" else self.title_zh
        fields = {"camera_id": alert.camera_id, "region": alert.region, **alert.details}
        try:
            return template.format_map(fields)
        except (KeyError, IndexError, ValueError):  # a field this alert lacks: the bare template
            return template


@runtime_checkable
class DetectorPlugin(Protocol):
    """What a `gridhub.detectors` entry point loads."""

    kind: str

    @property
    def scenario(self) -> DetectorScenario:
        """How its alerts become cases."""
        ...

    @property
    def settings(self) -> type[BaseModel]:
        """Its own settings, written beside kind/zones/enabled; ``extra="forbid"``."""
        ...

    def build(self, camera: Camera, spec: DetectorSpec, clock: Clock) -> Detector:
        """Validate `spec`'s settings and build a detector for `camera`.

        Raises `ConfigError` naming the field when a setting is invalid.
        """
        ...


class AlertSink(Protocol):
    """Where alerts go: stored, de-duplicated, turned into cases (hub.alerts)."""

    def submit(self, alert: Alert) -> None:
        """Accept an alert; never raises for a well-formed alert, never blocks long."""
        ...


@runtime_checkable
class AckingAlertSink(AlertSink, Protocol):
    """An alert sink that says when an alert is safe (the MQTT sensor ingest acks then)."""

    def submit_acked(self, alert: Alert, ack: Callable[[], None]) -> None:
        """Accept an alert; call `ack` once it is recorded (or failed or dropped, counted)."""
        ...


@runtime_checkable
class Notifier(Protocol):
    """Sends one case event somewhere; raises `NotifyError` when it could not."""

    def notify(self, event: CaseEvent) -> None: ...


@dataclass(frozen=True, slots=True)
class NotifierContext:
    """What a notifier plugin may use."""

    site: SiteConfig
    mqtt: MqttLink
    clock: Clock = SystemClock()  # what rate limits are measured with


@dataclass(frozen=True, slots=True)
class Message:
    """A chat message the hub composed (hub.notify.templates), ready for a robot."""

    title: str
    lines: tuple[str, ...]  # the body, one fact a line ("网格: 梧桐街道 / 清河社区 / 第二网格")
    link: str | None = None  # the case on the dashboard, when a public URL is configured
    image_url: str | None = None  # the evidence snapshot, where the platform can show one
    mentions: tuple[str, ...] = ()  # platform user ids or mobile numbers to @mention


@runtime_checkable
class MessageNotifier(Protocol):
    """A notifier that also sends composed messages (the chat robots)."""

    language: str  # "zh" or "en": the language its messages are composed in

    def notify(self, event: CaseEvent) -> None: ...

    def send(self, message: Message) -> None:
        """Deliver one message; `NotifyError` (with its outcome) when it could not."""
        ...


@runtime_checkable
class NotifierPlugin(Protocol):
    """What a `gridhub.notifiers` entry point loads."""

    kind: str

    @property
    def settings(self) -> type[BaseModel]:
        """Its settings, `kind` and `name` included; ``extra="forbid"``."""
        ...

    def build(self, spec: NotifierSpec, context: NotifierContext) -> Notifier: ...


@dataclass(frozen=True, slots=True)
class CliHooks:
    """Where `gridhub.cli` plugins add their commands.

    A `CommandPlugin`'s `register` adds parsers to `commands` (top level),
    `evaluations` (`gridhub eval NAME`) or `clip_makers` (`gridhub eval make-clips
    NAME`) and sets ``command=`` on each.
    """

    commands: argparse._SubParsersAction[argparse.ArgumentParser]
    evaluations: argparse._SubParsersAction[argparse.ArgumentParser]
    clip_makers: argparse._SubParsersAction[argparse.ArgumentParser]


@runtime_checkable
class CommandPlugin(Protocol):
    """What a `gridhub.cli` entry point loads."""

    def register(self, hooks: CliHooks) -> None: ...


@dataclass(frozen=True, slots=True)
class Commands:
    """A `CommandPlugin` made from a function: ``plugin = Commands(register)``."""

    register: Callable[[CliHooks], None]
