"""The seam between camera workers and the adapters that read cameras.

A `gridhub.sources` entry point, keyed by URL scheme (file, rtsp, http, https,
onvif), names a `SourcePlugin`: its `open(url, options)` returns a
`FrameSource`. The worker opens it, reads `Capture`s until it fails, closes it
and opens it again after a backoff.

A `Capture` keeps the decoded picture in the decoder's own format and converts
it to BGR only when asked (`to_bgr`), so frames that are neither analysed nor
kept as evidence cost no colour conversion. Everything a source says about
itself (`describe`, error messages) goes through `redact_url` (hub/redact.py):
credentials in camera URLs are secrets.
"""

from __future__ import annotations

from hub.errors import PluginError, SourceOpenError
from hub.plugins import SOURCES, Registry
from hub.redact import redact_url
from hub.seams import FrameSource, SourceOptions

__all__ = ["make_source", "redact_url", "scheme_of"]


def scheme_of(url: str) -> str:
    """The URL scheme in lower case: the source kind unless a camera names another."""
    return url.split("://", 1)[0].lower() if "://" in url else ""


def make_source(registry: Registry, kind: str, url: str, options: SourceOptions) -> FrameSource:
    """Build the source of `kind` for `url`, or `SourceOpenError`/`PluginError` saying why."""
    if not kind:
        raise SourceOpenError(f"{redact_url(url)}: not a URL with a scheme")
    try:
        plugin = registry.get(SOURCES, kind)
    except PluginError as exc:
        raise SourceOpenError(f"{redact_url(url)}: {exc}") from None
    return plugin.open(url, options)
