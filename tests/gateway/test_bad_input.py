"""Bad input gets a clear 4xx in the door's own error shape, and nothing
else: malformed bodies, JSON nested past the limit, parameters out of range."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator, Callable
from typing import Any

import anthropic
import openai
import pytest

from _openapi import validator
from conftest import Stack, serve
from junction.config import parse_config
from junction.server.app import create_app
from junction.server.request_bounds import nests_deeper, text_nests_deeper

OK = '{"role": "user", "content": "hi"}'

CASES = [
    # (name, method, path, body, status, words the message must contain)
    (
        "malformed json",
        "POST",
        "/v1/chat/completions",
        b'{"model": "sim/openai", "messages": [',
        400,
        "not valid JSON",
    ),
    ("empty body", "POST", "/v1/chat/completions", b"", 400, "empty"),
    ("array body", "POST", "/v1/chat/completions", b"[1, 2]", 400, "object"),
    (
        "missing messages",
        "POST",
        "/v1/chat/completions",
        b'{"model": "sim/openai"}',
        400,
        "messages",
    ),
    (
        "missing model",
        "POST",
        "/v1/chat/completions",
        f'{{"messages": [{OK}]}}'.encode(),
        400,
        "model",
    ),
    (
        "messages not a list",
        "POST",
        "/v1/chat/completions",
        b'{"model": "sim/openai", "messages": "hi"}',
        400,
        "$.messages",
    ),
    (
        "empty messages",
        "POST",
        "/v1/chat/completions",
        b'{"model": "sim/openai", "messages": []}',
        400,
        "messages",
    ),
    (
        "bad role",
        "POST",
        "/v1/chat/completions",
        b'{"model": "sim/openai", "messages": [{"role": "wizard", "content": "x"}]}',
        400,
        "role",
    ),
    (
        "wrong type",
        "POST",
        "/v1/chat/completions",
        f'{{"model": "sim/openai", "messages": [{OK}], "temperature": "hot"}}'.encode(),
        400,
        "temperature",
    ),
    (
        "stream not bool",
        "POST",
        "/v1/chat/completions",
        f'{{"model": "sim/openai", "messages": [{OK}], "stream": "yes"}}'.encode(),
        400,
        "stream",
    ),
    (
        "negative max_tokens",
        "POST",
        "/v1/chat/completions",
        f'{{"model": "sim/openai", "messages": [{OK}], "max_tokens": -5}}'.encode(),
        400,
        "max_tokens must be at least 1",
    ),
    (
        "unknown model",
        "POST",
        "/v1/chat/completions",
        f'{{"model": "nope/nope", "messages": [{OK}]}}'.encode(),
        404,
        "nope/nope",
    ),
    (
        "embeddings without input",
        "POST",
        "/v1/embeddings",
        b'{"model": "sim/embedding"}',
        400,
        "input",
    ),
    (
        "chat model for embeddings",
        "POST",
        "/v1/embeddings",
        b'{"model": "sim/openai", "input": "x"}',
        400,
        "chat model",
    ),
    ("unknown path", "GET", "/v1/nothing-here", b"", 404, "/v1/nothing-here"),
    ("wrong method", "GET", "/v1/chat/completions", b"", 405, "GET"),
]


@pytest.mark.parametrize(
    ("name", "method", "path", "body", "status", "words"), CASES, ids=[c[0] for c in CASES]
)
async def test_bad_input(
    gw: Stack, name: str, method: str, path: str, body: bytes, status: int, words: str
) -> None:
    r = await gw.http.request(
        method, path, content=body, headers={"content-type": "application/json"}
    )
    assert r.status_code == status, r.text
    payload = r.json()
    validator("ErrorResponse").validate(payload)
    message = payload["error"]["message"]
    assert words in message
    assert "Traceback" not in r.text
    assert (await gw.sim_stats())["requests"] == 0, "nothing reached the provider"


async def test_oversize_body_is_413(gw: Stack) -> None:
    big = (
        b'{"model": "sim/openai", "messages": [{"role": "user", "content": "'
        + b"x" * 300_000
        + b'"}]}'
    )
    r = await gw.http.post("/v1/chat/completions", content=big)
    assert r.status_code == 413
    assert "262144 bytes" in r.json()["error"]["message"]


async def test_oversize_body_without_content_length_is_413(gw: Stack) -> None:
    async def chunks():  # type: ignore[no-untyped-def]
        yield b'{"model": "sim/openai", "messages": [{"role": "user", "content": "'
        for _ in range(40):
            yield b"y" * 10_000
        yield b'"}]}'

    r = await gw.http.post("/v1/chat/completions", content=chunks())
    assert r.status_code == 413


# --- nesting: free-form JSON is bounded at the door ---------------------------

DEPTH_LIMIT = 64  # request_limits.max_json_depth's default


def nested_object(depth: int) -> str:
    """JSON text of objects nested exactly ``depth`` levels."""
    return '{"a":' * (depth - 1) + "{}" + "}" * (depth - 1)


def nested_list(depth: int) -> str:
    return "[" * depth + "]" * depth


def openai_chat(extra: str, messages: str = f"[{OK}]") -> bytes:
    return f'{{"model": "sim/openai", "messages": {messages}, {extra}}}'.encode()


def responses(extra: str) -> bytes:
    return f'{{"model": "sim/responses", "input": "hi", {extra}}}'.encode()


def anthropic_body(extra: str, messages: str = f"[{OK}]") -> bytes:
    return (
        f'{{"model": "sim/anthropic", "max_tokens": 32, "messages": {messages}, {extra}}}'
    ).encode()


def tool_call_turn(arguments: str) -> str:
    call = {"id": "call_1", "type": "function", "function": {"name": "f", "arguments": arguments}}
    return json.dumps(
        [
            {"role": "user", "content": "hi"},
            {"role": "assistant", "content": None, "tool_calls": [call]},
            {"role": "tool", "tool_call_id": "call_1", "content": "done"},
        ]
    )


def tool_use_turn(tool_input: str) -> str:
    return (
        '[{"role": "user", "content": "hi"}, {"role": "assistant", "content": '
        '[{"type": "tool_use", "id": "toolu_1", "name": "f", "input": ' + tool_input + "}]}, "
        '{"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_1", '
        '"content": "done"}]}]'
    )


def _openai_tool(schema: str) -> str:
    return f'"tools": [{{"type": "function", "function": {{"name": "f", "parameters": {schema}}}}}]'


def _openai_format(schema: str) -> str:
    return (
        '"response_format": {"type": "json_schema", '
        f'"json_schema": {{"name": "x", "schema": {schema}}}}}'
    )


# (name, path, body for a nested JSON text, the parameter the error names)
DEEP_CASES: list[tuple[str, str, Callable[[str], bytes], str]] = [
    (
        "chat tool parameters",
        "/v1/chat/completions",
        lambda deep: openai_chat(_openai_tool(deep)),
        "tools[0].parameters",
    ),
    (
        "chat response_format",
        "/v1/chat/completions",
        lambda deep: openai_chat(_openai_format(deep)),
        "response_format",
    ),
    (
        "chat tool-call arguments",
        "/v1/chat/completions",
        lambda deep: openai_chat('"stream": false', tool_call_turn(deep)),
        "messages",
    ),
    (
        "chat pass-through field",
        "/v1/chat/completions",
        lambda deep: openai_chat(f'"x_vendor_field": {deep}'),
        "x_vendor_field",
    ),
    (
        "responses tool parameters",
        "/v1/responses",
        lambda deep: responses(
            f'"tools": [{{"type": "function", "name": "f", "parameters": {deep}}}]'
        ),
        "tools[0].parameters",
    ),
    (
        "responses text.format",
        "/v1/responses",
        lambda deep: responses(
            f'"text": {{"format": {{"type": "json_schema", "name": "x", "schema": {deep}}}}}'
        ),
        "text.format",
    ),
    (
        "anthropic input_schema",
        "/v1/messages",
        lambda deep: anthropic_body(f'"tools": [{{"name": "f", "input_schema": {deep}}}]'),
        "tools[0].input_schema",
    ),
    (
        "anthropic output_config.format",
        "/v1/messages",
        lambda deep: anthropic_body(
            f'"output_config": {{"format": {{"type": "json_schema", "schema": {deep}}}}}'
        ),
        "output_config.format",
    ),
    (
        "anthropic tool_use input",
        "/v1/messages",
        lambda deep: anthropic_body('"stream": false', tool_use_turn(deep)),
        "messages",
    ),
    (
        "anthropic count_tokens",
        "/v1/messages/count_tokens",
        lambda deep: (
            f'{{"model": "sim/anthropic", "messages": [{OK}], '
            f'"tools": [{{"name": "f", "input_schema": {deep}}}]}}'
        ).encode(),
        "tools[0].input_schema",
    ),
]


def _error_message(path: str, payload: dict[str, Any]) -> tuple[str, str | None]:
    """The message and param, after checking the door's own error shape."""
    if path.startswith("/v1/messages"):
        assert payload["type"] == "error"
        assert payload["error"]["type"] == "invalid_request_error"
        return payload["error"]["message"], None
    validator("ErrorResponse").validate(payload)
    return payload["error"]["message"], payload["error"]["param"]


def _no_traceback_logged(caplog: pytest.LogCaptureFixture) -> None:
    bad = [r for r in caplog.records if r.exc_info is not None or r.levelno >= logging.ERROR]
    assert not bad, [r.getMessage() for r in bad]


@pytest.mark.parametrize("depth", [100, 5000])
@pytest.mark.parametrize(
    ("name", "path", "body", "param"), DEEP_CASES, ids=[c[0] for c in DEEP_CASES]
)
async def test_deep_free_form_json_is_a_400_in_the_doors_shape(
    gw: Stack,
    caplog: pytest.LogCaptureFixture,
    name: str,
    path: str,
    body: Callable[[str], bytes],
    param: str,
    depth: int,
) -> None:
    deep = nested_object(depth)
    with caplog.at_level(logging.INFO):
        r = await gw.http.post(
            path, content=body(deep), headers={"content-type": "application/json"}
        )
    assert r.status_code == 400, r.text
    message, named = _error_message(path, r.json())
    assert f"more than {DEPTH_LIMIT} levels" in message
    if depth == 100:  # decoded, then measured: the error names the field
        assert param in message
        if named is not None:
            assert named == param
    assert (await gw.sim_stats())["requests"] == 0, "nothing reached the provider"
    _no_traceback_logged(caplog)


async def test_the_depth_limit_is_exact(gw: Stack) -> None:
    at_limit = await gw.http.post(
        "/v1/chat/completions", content=openai_chat(f'"x_vendor_field": {nested_object(64)}')
    )
    assert at_limit.status_code == 200, at_limit.text
    over = await gw.http.post(
        "/v1/chat/completions", content=openai_chat(f'"x_vendor_field": {nested_object(65)}')
    )
    assert over.status_code == 400
    assert over.json()["error"]["param"] == "x_vendor_field"


async def test_a_deep_embeddings_body_is_a_400(gw: Stack, caplog: pytest.LogCaptureFixture) -> None:
    body = f'{{"model": "sim/embedding", "input": {nested_list(5000)}}}'.encode()
    with caplog.at_level(logging.INFO):
        r = await gw.http.post("/v1/embeddings", content=body)
    assert r.status_code == 400
    message, _ = _error_message("/v1/embeddings", r.json())
    assert "more than 64 levels" in message
    _no_traceback_logged(caplog)


def test_nesting_measures_match_an_independent_count() -> None:
    """The text measure (tool-call arguments) against a recursive count of
    the decoded value, on awkward JSON: brackets inside strings, escaped
    quotes and backslashes, and invalid (truncated) JSON."""

    def depth(value: Any) -> int:
        if isinstance(value, dict):
            return 1 + max((depth(v) for v in value.values()), default=0)
        if isinstance(value, list):
            return 1 + max((depth(v) for v in value), default=0)
        return 0

    samples = [
        '{"a": "[[[[[[", "b": [1, [2, [3]]]}',
        '["\\\\", ["\\"]]]]]"], {"k\\\\\\"": [[[]]]}]',
        nested_list(10),
        "[" + ",".join(nested_list(i) for i in range(1, 12)) + "]",
        '{"s": "}}}}{{{{", "t": [{"u": [{}]}]}',
    ]
    for text in samples:
        d = depth(json.loads(text))
        for limit in (d - 1, d, d + 1):
            assert text_nests_deeper(text, limit) == (d > limit), (text, limit)
            assert nests_deeper(json.loads(text), limit) == (d > limit), (text, limit)
    # Not JSON (arguments are relayed even then): only real depth counts.
    assert not text_nests_deeper('{"a": [[[', 4)
    assert text_nests_deeper('{"a": [[[', 3)
    assert not text_nests_deeper("]]]]]]]]" + nested_list(3), 3)


# --- ranges: every numeric parameter, in each door's own words ----------------

HI = [{"role": "user", "content": "hi"}]

CHAT_RANGES: list[tuple[dict[str, Any], str, str]] = [
    # (parameters, the param named, words of the message)
    ({"max_tokens": 10**30}, "max_tokens", "max_tokens must be at most 2147483647"),
    (
        {"max_completion_tokens": 2**31},
        "max_completion_tokens",
        "max_completion_tokens must be at most 2147483647",
    ),
    ({"n": 1_000_000}, "n", "n must be at most 128"),
    ({"n": 0}, "n", "must be at least 1"),
    ({"temperature": 2.5}, "temperature", "temperature must be at most 2"),
    ({"temperature": -0.1}, "temperature", "temperature must be at least 0"),
    ({"top_p": 1.01}, "top_p", "top_p must be at most 1"),
    ({"presence_penalty": -3}, "presence_penalty", "at least -2"),
    ({"frequency_penalty": 9}, "frequency_penalty", "at most 2"),
    ({"logprobs": True, "top_logprobs": 21}, "top_logprobs", "top_logprobs must be at most 20"),
    ({"seed": 2**64}, "seed", "seed must be at most 9223372036854775807"),
    ({"logit_bias": {"50256": 101}}, "logit_bias.50256", "at most 100"),
    ({"extra_body": {"top_k": -1}}, "top_k", "top_k must be at least 0"),
    (
        {"extra_body": {"reasoning": {"max_tokens": 10**12}}},
        "reasoning.max_tokens",
        "reasoning.max_tokens must be at most 2147483647",
    ),
]


def _openai(gw: Stack) -> openai.AsyncOpenAI:
    return openai.AsyncOpenAI(base_url=f"{gw.url}/v1", api_key="k", max_retries=0)


@pytest.mark.parametrize(("params", "param", "words"), CHAT_RANGES, ids=[c[1] for c in CHAT_RANGES])
async def test_chat_parameters_out_of_range(
    gw: Stack, caplog: pytest.LogCaptureFixture, params: dict[str, Any], param: str, words: str
) -> None:
    with caplog.at_level(logging.INFO), pytest.raises(openai.BadRequestError) as caught:
        await _openai(gw).chat.completions.create(model="sim/openai", messages=HI, **params)
    body = caught.value.body
    assert isinstance(body, dict)
    assert body["param"] == param
    assert words in body["message"]
    assert (await gw.sim_stats())["requests"] == 0
    _no_traceback_logged(caplog)


async def test_streamed_requests_are_checked_before_the_stream_starts(gw: Stack) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        await _openai(gw).chat.completions.create(
            model="sim/openai", messages=HI, n=129, stream=True
        )
    assert "n must be at most 128" in caught.value.message


async def test_in_range_edges_are_accepted(gw: Stack) -> None:
    answer = await _openai(gw).chat.completions.create(
        model="sim/openai",
        messages=HI,
        temperature=2,
        top_p=0,
        presence_penalty=-2,
        seed=2**63 - 1,
        max_tokens=2**31 - 1,
    )
    assert answer.choices[0].message.content


@pytest.mark.parametrize(
    ("params", "param", "words"),
    [
        ({"max_output_tokens": 10**30}, "max_output_tokens", "max_output_tokens must be at most"),
        ({"temperature": 3}, "temperature", "temperature must be at most 2"),
        ({"top_p": -1}, "top_p", "top_p must be at least 0"),
    ],
)
async def test_responses_parameters_out_of_range(
    gw: Stack, caplog: pytest.LogCaptureFixture, params: dict[str, Any], param: str, words: str
) -> None:
    with caplog.at_level(logging.INFO), pytest.raises(openai.BadRequestError) as caught:
        await _openai(gw).responses.create(model="sim/responses", input="hi", **params)
    body = caught.value.body
    assert isinstance(body, dict)
    assert body["param"] == param
    assert words in body["message"]
    assert (await gw.sim_stats())["requests"] == 0
    _no_traceback_logged(caplog)


@pytest.mark.parametrize(
    ("params", "words"),
    [
        ({"max_tokens": 10**30}, "max_tokens must be at most 2147483647"),
        # This SDK's create() has no temperature / top_k: sent as extra fields.
        ({"max_tokens": 64, "extra_body": {"temperature": 7}}, "temperature must be at most 2"),
        ({"max_tokens": 64, "extra_body": {"top_k": -5}}, "top_k must be at least 0"),
        (
            {"max_tokens": 64, "thinking": {"type": "enabled", "budget_tokens": 10**12}},
            "thinking.budget_tokens must be at most 2147483647",
        ),
    ],
)
async def test_anthropic_parameters_out_of_range(
    gw: Stack, caplog: pytest.LogCaptureFixture, params: dict[str, Any], words: str
) -> None:
    client = anthropic.AsyncAnthropic(base_url=gw.url, api_key="k", max_retries=0)
    with caplog.at_level(logging.INFO), pytest.raises(anthropic.BadRequestError) as caught:
        # An explicit timeout: the SDK refuses a large max_tokens without one.
        await client.messages.create(model="sim/anthropic", messages=HI, timeout=30, **params)  # type: ignore[arg-type]
    body = caught.value.body
    assert isinstance(body, dict)
    assert body["type"] == "error"
    assert body["error"]["type"] == "invalid_request_error"
    assert words in body["error"]["message"]
    assert (await gw.sim_stats())["requests"] == 0
    _no_traceback_logged(caplog)


@pytest.mark.parametrize(
    ("params", "param", "words"),
    [
        ({"input": ["x"] * 2049}, "input", "input holds 2049 items; send at most 2048"),
        ({"input": "x", "dimensions": 10**9}, "dimensions", "dimensions must be at most 65536"),
        ({"input": [[1, 2, 2**40]]}, "input[0]", "at most 2147483647"),
    ],
)
async def test_embeddings_out_of_range(
    gw: Stack, params: dict[str, Any], param: str, words: str
) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        await _openai(gw).embeddings.create(model="sim/embedding", **params)
    body = caught.value.body
    assert isinstance(body, dict)
    assert body["param"] == param
    assert words in body["message"]
    assert (await gw.sim_stats())["requests"] == 0


# --- configured limits and a model's own output limit ---------------------------

LIMITED = """\
request_limits: {{max_json_depth: 8, max_n: 2, max_embedding_inputs: 3}}
models:
  small/model:
    deployments:
      - {{provider: openai, name: a, model: a, base_url: '{sim}/v1', max_output_tokens: 100}}
      - {{provider: openai, name: b, model: b, base_url: '{sim}/v1', max_output_tokens: 40}}
  open/model:
    deployments:
      - {{provider: openai, name: c, model: c, base_url: '{sim}/v1', max_output_tokens: 10}}
      - {{provider: openai, name: d, model: d, base_url: '{sim}/v1'}}
  small/embed:
    kind: embedding
    deployments:
      - {{provider: openai, model: e, base_url: '{sim}/v1'}}
"""


@pytest.fixture(scope="module")
async def limited(stack: Stack) -> AsyncIterator[openai.AsyncOpenAI]:
    app = create_app(parse_config(LIMITED.format(sim=stack.sim_url), {}))
    server, task, url = await serve(app)
    try:
        yield openai.AsyncOpenAI(base_url=f"{url}/v1", api_key="k", max_retries=0)
    finally:
        server.should_exit = True
        await task


async def test_configured_limits_are_the_ones_applied(limited: openai.AsyncOpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        await limited.chat.completions.create(model="small/model", messages=HI, n=3)
    assert "n must be at most 2 (request_limits.max_n)" in caught.value.message
    assert (await limited.chat.completions.create(model="small/model", messages=HI, n=2)).choices

    schema = json.loads(nested_object(9))
    tool = {"type": "function", "function": {"name": "f", "parameters": schema}}
    with pytest.raises(openai.BadRequestError) as caught:
        await limited.chat.completions.create(model="small/model", messages=HI, tools=[tool])  # type: ignore[list-item]
    assert "more than 8 levels" in caught.value.message

    with pytest.raises(openai.BadRequestError) as caught:
        await limited.embeddings.create(model="small/embed", input=["a", "b", "c", "d"])
    assert "at most 3 per request" in caught.value.message


async def test_max_tokens_is_bounded_by_the_models_deployments(
    limited: openai.AsyncOpenAI,
) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        await limited.chat.completions.create(model="small/model", messages=HI, max_tokens=101)
    message = caught.value.message
    assert "max_tokens must be at most 100" in message
    assert "small/model" in message
    ok = await limited.chat.completions.create(model="small/model", messages=HI, max_tokens=100)
    assert ok.choices[0].message.content
    # One deployment states no limit: only the 32-bit bound applies.
    wide = await limited.chat.completions.create(model="open/model", messages=HI, max_tokens=5000)
    assert wide.choices[0].message.content
    # A fallback model with a larger limit widens the bound.
    fallback = await limited.chat.completions.create(
        model="open/model",
        messages=HI,
        max_tokens=120,
        extra_body={"models": ["small/model"]},
    )
    assert fallback.choices
