"""Secrets out of what the hub shows: camera URLs reduced to where they point.

Cheap IP cameras carry credentials in many shapes: `user:pass@host`, and query
parameters named `pw`, `psw`, `loginpas`, `p`, `token`, `auth`… A list of
secret-looking names always misses one, so `redact_url` keeps only the scheme,
host, port and path: user information becomes `***@`, a query `?***`, a fragment
is dropped, and so is the value of a `key=value` path segment
(`/user=admin_password=x.sdp`).
`scrub` applies it to every URL inside a text: error messages from decoders
embed the URL they failed on, and log lines repeat request bodies.
"""

from __future__ import annotations

import logging
import re
from urllib.parse import urlsplit

# A URL inside free text: a scheme, then everything up to a space or a quote.
_URL_IN_TEXT = re.compile(r"\b[a-zA-Z][a-zA-Z0-9+.\-]{1,15}://[^\s\"'<>`]+")
_PATH_VALUE = re.compile(r"=[^/_&;,]*")
HIDDEN = "***"


def redact_url(url: str) -> str:
    """`scheme://host:port/path` of `url`, with `***@` where it had user information
    and `?***` where it had a query."""
    scheme = url.split("://", 1)[0].lower() if "://" in url else ""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = f":{parts.port}" if parts.port is not None else ""
    except ValueError:
        return f"{scheme or 'unparseable'}://(redacted)"
    if ":" in host:
        host = f"[{host}]"
    path = _PATH_VALUE.sub("=" + HIDDEN, parts.path)
    query = "?" + HIDDEN if parts.query else ""
    userinfo = HIDDEN + "@" if "@" in parts.netloc else ""
    where = f"{userinfo}{host}{port}{path}{query}"
    return f"{scheme}://{where}" if scheme else where


def scrub(text: str) -> str:
    """`text` with each URL in it replaced by its redacted form."""
    return _URL_IN_TEXT.sub(_redact_match, text)


def _redact_match(match: re.Match[str]) -> str:
    url = match.group(0)
    core = url.rstrip(".,:;)")  # punctuation of the sentence around it
    return redact_url(core) + url[len(core) :]


class ScrubFilter(logging.Filter):
    """A logging filter that scrubs URLs out of each record's message (and its
    arguments), so no handler writes a camera's credentials."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = scrub(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True
