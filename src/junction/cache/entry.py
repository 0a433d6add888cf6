"""A cached answer: the canonical response, so any door can write it (and
replay it as a stream)."""

from __future__ import annotations

import msgspec

from junction.types import ChatResponse

_ENCODE = msgspec.msgpack.Encoder().encode
_DECODE = msgspec.msgpack.Decoder(ChatResponse).decode


def encode_entry(response: ChatResponse) -> bytes:
    return _ENCODE(response)


def decode_entry(data: bytes) -> ChatResponse | None:
    """The response, or None for an entry this version cannot read (a
    miss, not an error: it is overwritten on the next answer)."""
    try:
        return _DECODE(data)
    except (msgspec.DecodeError, msgspec.ValidationError):
        return None
