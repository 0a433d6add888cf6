"""Anthropic ``/v1/messages/count_tokens`` on its recorded exchanges.

The expected count is the ``input_tokens`` Anthropic answered, read from the
cassette with plain ``yaml``; the expected request is the body pydantic-ai
sent (and Anthropic counted), restricted to the fields that are counted.
"""

from __future__ import annotations

import json

import pytest

from _anthropic_fixtures import EXCHANGES, Exchange, params
from junction.codecs import anthropic_messages
from junction.codecs.base import Target
from junction.types import GatewayError

COUNTS = [x for x in EXCHANGES if x.is_count_tokens and x.status == 200]

# The request fields Anthropic's count_tokens counts (its published request
# body: model, messages, system, tools, tool_choice, thinking).
COUNTED = ("model", "messages", "system", "tools", "tool_choice", "thinking")

# Recorded requests the door refuses (400, naming the field), and the field.
REFUSED = {
    # An Anthropic server tool (type memory_20250818): custom tools only.
    "test_anthropic_count_tokens_keeps_memory_tool": "tools[0].type",
    # A tool_reference block inside a tool_result (tool search): not carried.
    "test_anthropic_count_tokens_with_tool_search_replay": "messages[2].content[0].content[0].type",
}
SKIP_ROUND_TRIP = {
    "test_anthropic_count_tokens_with_adaptive_thinking_and_output_tools": (
        "adaptive thinking (canonical Reasoning has no adaptive mode)"
    ),
}
ROUND_TRIP = [x for x in COUNTS if x.name not in REFUSED]


def _target(x: Exchange) -> Target:
    return Target(
        provider="anthropic", base_url="https://api.anthropic.com", model=x.request["model"]
    )


def test_recordings_cover_count_tokens() -> None:
    if not EXCHANGES:
        pytest.skip("recorded fixtures are missing (restore with scripts/sync-fixtures)")
    assert len(COUNTS) >= 7
    assert len([x for x in ROUND_TRIP if x.name not in SKIP_ROUND_TRIP]) >= 4
    assert {x.name for x in COUNTS} >= set(REFUSED) | set(SKIP_ROUND_TRIP)


@pytest.mark.parametrize("x", params(COUNTS))
def test_decode_recorded_count(x: Exchange) -> None:
    recorded = x.parsed["input_tokens"]
    assert isinstance(recorded, int)
    assert recorded > 0
    assert anthropic_messages.CODEC.decode_count_tokens(x.body_bytes()) == recorded


@pytest.mark.parametrize("x", params(ROUND_TRIP))
def test_count_tokens_request_round_trip(x: Exchange) -> None:
    if x.name in SKIP_ROUND_TRIP:
        pytest.skip(SKIP_ROUND_TRIP[x.name])
    body = x.request
    request = anthropic_messages.decode_request(json.dumps(body).encode(), count_tokens=True)
    http = anthropic_messages.CODEC.encode_count_tokens(request, _target(x))
    assert http.method == "POST"
    assert http.url == "https://api.anthropic.com/v1/messages/count_tokens"
    assert http.url.split("/v1/")[1] == x.uri.split("/v1/")[1].split("?")[0]
    assert json.loads(http.body) == {k: v for k, v in body.items() if k in COUNTED}


@pytest.mark.parametrize("x", params([x for x in COUNTS if x.name in REFUSED]))
def test_unsupported_count_tokens_request_is_refused(x: Exchange) -> None:
    with pytest.raises(GatewayError) as info:
        anthropic_messages.decode_request(json.dumps(x.request).encode(), count_tokens=True)
    assert info.value.kind == "invalid_request"
    assert info.value.status == 400
    assert info.value.param == REFUSED[x.name]
