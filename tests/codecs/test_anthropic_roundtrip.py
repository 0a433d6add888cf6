"""Anthropic -> canonical -> Anthropic is lossless for the features junction carries.

Every recorded ``/v1/messages`` request body goes through ``decode_request``
(the ingress door) and back out through ``encode_request`` (the egress); the
result must equal the recorded body up to spelling differences the API treats
as the same (a string vs one text block, ``is_error: false`` vs absent...).
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from _anthropic_fixtures import EXCHANGES, Exchange, params, request_unsupported
from junction.codecs.anthropic_messages import CODEC, decode_request
from junction.codecs.base import Target

REQUESTS = [x for x in EXCHANGES if x.is_messages and x.request.get("messages")]
SUPPORTED = [x for x in REQUESTS if not request_unsupported(x.request)]
SKIPPED = {x.id: request_unsupported(x.request) for x in REQUESTS if request_unsupported(x.request)}


def _text_blocks(content: Any) -> list[dict[str, Any]]:
    if isinstance(content, str):
        return [{"type": "text", "text": content}] if content else []
    return list(content or [])


def _block(b: dict[str, Any]) -> dict[str, Any]:
    b = dict(b)
    if b["type"] == "tool_result":
        content = _text_blocks(b.get("content"))
        b.pop("content", None)
        if content:
            b["content"] = content
        if not b.get("is_error"):
            b.pop("is_error", None)
    return b


def _messages(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for m in messages:
        blocks = [
            _block(b)
            for b in _text_blocks(m["content"])
            if not (b["type"] == "text" and not b["text"] and "cache_control" not in b)
        ]
        if not blocks:
            continue
        if out and out[-1]["role"] == m["role"]:
            out[-1]["content"].extend(blocks)
        else:
            out.append({"role": m["role"], "content": blocks})
    for m in out:
        if m["role"] == "user":
            m["content"].sort(key=lambda b: b["type"] != "tool_result")
    return out


def normalise(body: dict[str, Any]) -> dict[str, Any]:
    out = {k: v for k, v in body.items() if v is not None}
    out["messages"] = _messages(body["messages"])
    system = _text_blocks(body.get("system"))
    out.pop("system", None)
    if system:
        out["system"] = system
    if not out.get("stream"):
        out.pop("stream", None)
    if not out.get("stop_sequences"):
        out.pop("stop_sequences", None)
    if (out.get("thinking") or {}).get("type") == "disabled":
        out.pop("thinking")
    return out


@pytest.mark.parametrize("x", params(SUPPORTED))
def test_request_round_trip(x: Exchange) -> None:
    body = x.request
    request = decode_request(json.dumps(body).encode())
    target = Target(provider="anthropic", base_url="https://api.anthropic.com", model=body["model"])
    http = CODEC.encode_request(request, target)
    assert http.url == "https://api.anthropic.com/v1/messages"
    assert http.stream is bool(body.get("stream"))
    assert normalise(json.loads(http.body)) == normalise(body)


def test_skip_list_is_about_unsupported_features() -> None:
    if not REQUESTS:
        pytest.skip("no recorded fixtures")
    # The supported share must stay large: a codec regression that made every
    # body "unsupported" would otherwise pass silently.
    assert len(SUPPORTED) >= 40
    reasons = {r for rs in SKIPPED.values() for r in rs}
    assert all(
        r.startswith(("top-level field", "server tool", "tool field", "content block", "adaptive"))
        or r.startswith("output_config.")
        for r in reasons
    )
