"""The cache key of a request: what decides the answer, normalised."""

from __future__ import annotations

import hashlib

import msgspec

from junction.types import ChatRequest

IGNORED_EXTRA = frozenset(
    {
        "user",
        "metadata",
        "store",
        "stream_options",
        "safety_identifier",
        "prompt_cache_key",
        "service_tier",
        "provider",
        "drop_params",
        "transforms",
        "usage",
        "include",
        "request_id",
    }
)
"""Body fields that do not change the answer (who asks, how it is billed,
logged or routed, whether usage is reported), left out of the key."""


class _Keyed(msgspec.Struct):
    namespace: str
    request: ChatRequest


_NOT_THE_ANSWER = {
    "stream": False,
    "include_usage": False,
    "user": None,
    "metadata": None,
    "service_tier": None,
    "prompt_cache_key": None,
    "cache_control": None,
}
"""Typed fields that do not change the answer, set to their defaults (which
``omit_defaults`` leaves out of the key). Every other field is keyed, so a
field ChatRequest gains later is keyed too."""


_ENCODE = msgspec.json.Encoder(order="deterministic").encode


def cache_key(request: ChatRequest, namespace: str = "") -> str:
    """A sha256 hex digest of the request's answer-changing fields in
    ``namespace``. A stream and a plain request of the same body share a key
    (the cached answer replays as either); object keys are sorted, so the
    order a client wrote them in does not matter."""
    extra = {k: v for k, v in request.extra.items() if k not in IGNORED_EXTRA}
    answer = msgspec.structs.replace(request, **_NOT_THE_ANSWER, extra=extra)
    keyed = _Keyed(namespace=namespace, request=answer)
    return hashlib.sha256(_ENCODE(keyed)).hexdigest()
