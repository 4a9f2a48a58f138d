"""Which client a request comes from, believing proxy headers only from trusted proxies.

`X-Forwarded-For` and `X-Forwarded-Proto` are headers anyone can send. The hub's
server is started with uvicorn's own proxy handling off; this ASGI middleware
reads them only when the direct peer is in `api.trusted_proxies`, and then takes
the client as the right-most `X-Forwarded-For` address that is not itself a
trusted proxy (what each proxy appended, not what the client claimed). From any
other peer the headers are ignored, so they cannot dodge the login limits.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Iterable, Sequence

from starlette.types import ASGIApp, Receive, Scope, Send

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
TrustedCheck = Callable[[str], bool]


class TrustedProxies:
    """Rewrites `scope["client"]` and `scope["scheme"]` for requests through a trusted proxy."""

    def __init__(self, app: ASGIApp, networks: Sequence[Network] = ()) -> None:
        self.app = app
        self.networks = tuple(networks)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket") and self.networks:
            client = scope.get("client")
            if client and self.trusted(client[0]):
                scope = dict(scope)
                _apply_forwarded(scope, self.trusted)
        await self.app(scope, receive, send)

    def trusted(self, address: str) -> bool:
        try:
            ip = ipaddress.ip_address(address.strip())
        except ValueError:
            return False
        return any(ip in network for network in self.networks)


def _apply_forwarded(scope: Scope, trusted: TrustedCheck) -> None:
    headers = {k.lower(): v.decode("latin-1") for k, v in scope.get("headers", ())}
    hops = [h.strip() for h in headers.get(b"x-forwarded-for", "").split(",") if h.strip()]
    client = _first_untrusted(reversed(hops), trusted)
    if client is not None:
        scope["client"] = (client, 0)
    proto = headers.get(b"x-forwarded-proto", "").split(",")[-1].strip().lower()
    if proto in ("http", "https"):
        ws = scope["type"] == "websocket"
        scope["scheme"] = {"http": "ws", "https": "wss"}[proto] if ws else proto


def _first_untrusted(hops: Iterable[str], trusted: TrustedCheck) -> str | None:
    last = None
    for hop in hops:
        try:
            ipaddress.ip_address(hop)
        except ValueError:
            return last  # a hop that is no address: stop at what the proxies vouched for
        if not trusted(hop):
            return hop
        last = hop
    return last
