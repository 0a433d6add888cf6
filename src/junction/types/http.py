"""The HTTP request spec that codecs produce and the transport sends."""

from __future__ import annotations

import msgspec


class HttpRequest(msgspec.Struct, omit_defaults=True):
    method: str
    url: str
    headers: dict[str, str]
    body: bytes = b""
    stream: bool = False
