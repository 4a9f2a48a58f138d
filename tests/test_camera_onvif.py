"""The ONVIF source against a small local SOAP device, then a real RTSP stream.

There is no ONVIF camera here: the device below answers GetServices, GetProfiles
and GetStreamUri the way the ONVIF Device and Media specifications describe (and
refuses requests without the right WS-Security user), which is the part of ONVIF
the source uses. Everything after the lookup is the real RTSP path.
"""

from __future__ import annotations

import base64
import hashlib
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from hub.cameras.source import make_source
from hub.errors import SourceOpenError
from hub.plugins import load_registry
from hub.seams import SourceOptions
from tests.camera_support import (
    RTSP_PASSWORD,
    RTSP_USER,
    RtspServer,
    rtsp_server,  # noqa: F401  (fixture)
)

REGISTRY = load_registry(["gridhub.sources"])
ENVELOPE = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" '
    'xmlns:tt="http://www.onvif.org/ver10/schema" xmlns:ter="http://www.onvif.org/ver10/error" '
    'xmlns:tds="http://www.onvif.org/ver10/device/wsdl" '
    'xmlns:trt="http://www.onvif.org/ver10/media/wsdl">'
    "<s:Body>{}</s:Body></s:Envelope>"
)
FAULT = (
    "<s:Fault><s:Code><s:Value>s:Sender</s:Value><s:Subcode><s:Value>ter:NotAuthorized"
    '</s:Value></s:Subcode></s:Code><s:Reason><s:Text xml:lang="en">Sender not authorized'
    "</s:Text></s:Reason></s:Fault>"
)


@dataclass
class Device:
    """What the fake device answers: where its media service is and its stream URI."""

    base: str = ""
    stream_uri: str = ""
    requests: list[str] | None = None


def _services(device: Device) -> str:
    def service(ns: str, path: str) -> str:
        return (
            f"<tds:Service><tds:Namespace>{ns}</tds:Namespace>"
            f"<tds:XAddr>{device.base}{path}</tds:XAddr>"
            "<tds:Version><tt:Major>2</tt:Major><tt:Minor>60</tt:Minor></tds:Version></tds:Service>"
        )

    return (
        "<tds:GetServicesResponse>"
        + service("http://www.onvif.org/ver10/device/wsdl", "/onvif/device_service")
        + service("http://www.onvif.org/ver10/media/wsdl", "/onvif/media_service")
        + "</tds:GetServicesResponse>"
    )


def _profiles(_device: Device) -> str:
    return (
        "<trt:GetProfilesResponse>"
        '<trt:Profiles token="main" fixed="true"><tt:Name>mainStream</tt:Name></trt:Profiles>'
        '<trt:Profiles token="sub" fixed="true"><tt:Name>subStream</tt:Name></trt:Profiles>'
        "</trt:GetProfilesResponse>"
    )


def _stream_uri(device: Device) -> str:
    return (
        "<trt:GetStreamUriResponse><trt:MediaUri>"
        f"<tt:Uri>{device.stream_uri}</tt:Uri><tt:InvalidAfterConnect>false</tt:InvalidAfterConnect>"
        "<tt:InvalidAfterReboot>false</tt:InvalidAfterReboot><tt:Timeout>PT0S</tt:Timeout>"
        "</trt:MediaUri></trt:GetStreamUriResponse>"
    )


ANSWERS = {"GetServices": _services, "GetProfiles": _profiles, "GetStreamUri": _stream_uri}


def password_digest_ok(body: str) -> bool:
    """WS-Security UsernameToken: Digest = Base64(SHA-1(nonce + created + password))."""
    found = {
        name: re.search(rf"<(?:[\w-]+:)?{name}(?:\s[^>]*)?>([^<]*)<", body)
        for name in ("Username", "Password", "Nonce", "Created")
    }
    if not all(found.values()):
        return False
    user, digest, nonce, created = (m.group(1) for m in found.values() if m)
    expected = hashlib.sha1(base64.b64decode(nonce) + created.encode() + RTSP_PASSWORD.encode())
    return user == RTSP_USER and digest == base64.b64encode(expected.digest()).decode()


def handler_for(device: Device) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802
            body = self.rfile.read(int(self.headers.get("Content-Length", 0))).decode()
            match = re.search(r"<(?:[\w-]+:)?Body[^>]*>\s*<(?:[\w-]+:)?(\w+)", body)
            operation = match.group(1) if match else "?"
            if device.requests is not None:
                device.requests.append(operation)
            if not password_digest_ok(body):
                self._reply(400, ENVELOPE.format(FAULT))
            elif operation in ANSWERS:
                self._reply(200, ENVELOPE.format(ANSWERS[operation](device)))
            else:
                self._reply(
                    400, ENVELOPE.format(FAULT.replace("NotAuthorized", "ActionNotSupported"))
                )

        def _reply(self, code: int, text: str) -> None:
            data = text.encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/soap+xml; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: object) -> None:
            pass

    return Handler


@pytest.fixture
def onvif_device(rtsp_server: RtspServer) -> Iterator[tuple[str, Device]]:  # noqa: F811
    device = Device(requests=[])
    device.stream_uri = f"rtsp://127.0.0.1:{rtsp_server.port}/cam"  # cameras answer without login
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler_for(device))
    device.base = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"127.0.0.1:{server.server_address[1]}", device
    server.shutdown()
    server.server_close()


OPTIONS = SourceOptions(open_timeout_s=5.0, read_timeout_s=2.0)


@pytest.mark.slow
def test_onvif_discovers_the_stream_and_reads_it(onvif_device: tuple[str, Device]) -> None:
    where, device = onvif_device
    source = make_source(
        REGISTRY, "onvif", f"onvif://{RTSP_USER}:{RTSP_PASSWORD}@{where}/", OPTIONS
    )
    info = source.open()
    assert (info.kind, info.codec, info.width, info.height) == ("onvif", "h264", 320, 240)
    assert source.read().to_bgr(None).shape == (240, 320, 3)
    source.close()
    assert device.requests is not None
    assert {"GetServices", "GetProfiles", "GetStreamUri"} <= set(device.requests)
    assert RTSP_PASSWORD not in source.describe()


@pytest.mark.slow
def test_onvif_errors_are_clear(onvif_device: tuple[str, Device]) -> None:
    where, _device = onvif_device
    unknown = make_source(
        REGISTRY, "onvif", f"onvif://{RTSP_USER}:{RTSP_PASSWORD}@{where}/?profile=third", OPTIONS
    )
    with pytest.raises(SourceOpenError, match=r"no profile 'third' \(has: main, sub\)"):
        unknown.open()
    refused = make_source(REGISTRY, "onvif", f"onvif://intruder:Guess-1@{where}/", OPTIONS)
    with pytest.raises(SourceOpenError, match="ONVIF lookup failed") as failed:
        refused.open()
    assert "Guess-1" not in str(failed.value)
