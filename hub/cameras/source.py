"""The seam between camera workers and the adapters that read cameras.

A `gridhub.sources` entry point, keyed by URL scheme (file, rtsp, http, https,
onvif), names a `SourcePlugin`: its `open(url, options)` returns a
`FrameSource`. The worker opens it, reads `Capture`s until it fails, closes it
and opens it again after a backoff.

A `Capture` keeps the decoded picture in the decoder's own format and converts
it to BGR only when asked (`to_bgr`), so frames that are neither analysed nor
kept as evidence cost no colour conversion. Everything a source says about
itself (`describe`, error messages) goes through `redact_url`: credentials in
camera URLs are secrets.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from hub.errors import PluginError, SourceOpenError
from hub.plugins import SOURCES, Registry
from hub.seams import FrameSource, SourceOptions

# Query parameters that carry secrets in snapshot URLs of common camera brands.
SECRET_PARAMS = re.compile(r"pass|pwd|token|key|secret|auth|sig", re.IGNORECASE)


def scheme_of(url: str) -> str:
    """The URL scheme in lower case: the source kind unless a camera names another."""
    return url.split("://", 1)[0].lower() if "://" in url else ""


def redact_url(url: str) -> str:
    """`url` without user name, password or secret-looking query parameters."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        return f"{scheme_of(url) or 'unparseable'}://(redacted)"
    if ":" in host:
        host = f"[{host}]"
    query = urlencode(
        [(k, "***" if SECRET_PARAMS.search(k) else v) for k, v in parse_qsl(parts.query)]
    )
    userinfo = "***@" if parts.username or parts.password else ""
    return urlunsplit((parts.scheme, f"{userinfo}{host}{port}", parts.path, query, ""))


def make_source(registry: Registry, kind: str, url: str, options: SourceOptions) -> FrameSource:
    """Build the source of `kind` for `url`, or `SourceOpenError`/`PluginError` saying why."""
    if not kind:
        raise SourceOpenError(f"{redact_url(url)}: not a URL with a scheme")
    try:
        plugin = registry.get(SOURCES, kind)
    except PluginError as exc:
        raise SourceOpenError(f"{redact_url(url)}: {exc}") from None
    return plugin.open(url, options)
