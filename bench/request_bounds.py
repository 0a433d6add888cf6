"""What the door's request checks cost: ``python bench/request_bounds.py``.

Builds OpenAI chat requests of about 5 KB (a typical agent turn: eight
tools with JSON schemas, a short conversation with a tool call) and about
1 MB (a long conversation, the same tools, tool calls with large
arguments), plus two adversarial 1 MB bodies that are all free-form JSON
(one tool schema, one tool call's arguments, both within the depth limit
so every byte is measured). For each it prints the microseconds of
``RequestBounds.check_chat`` (nesting and ranges) next to the
microseconds of decoding the same body with the OpenAI door's codec, and
what parsing the adversarial arguments costs an egress codec that must.
"""

from __future__ import annotations

import json
import timeit
from typing import Any

import msgspec

from junction.codecs import openai_chat
from junction.config import RequestLimits
from junction.server.request_bounds import RequestBounds, wire_namer


def _tool(i: int) -> dict[str, Any]:
    return {
        "type": "function",
        "function": {
            "name": f"tool_{i}",
            "description": "Look something up [with brackets] and {braces} in the text.",
            "parameters": {
                "type": "object",
                "properties": {
                    "query": {"type": "string", "description": "what to look for"},
                    "filters": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "properties": {
                                "field": {"type": "string"},
                                "values": {"type": "array", "items": {"type": "string"}},
                            },
                        },
                    },
                    "limit": {"type": "integer", "minimum": 1, "maximum": 100},
                },
                "required": ["query"],
            },
        },
    }


def _turn(i: int, text: str, arguments: str) -> list[dict[str, Any]]:
    call = {
        "id": f"call_{i}",
        "type": "function",
        "function": {"name": "tool_0", "arguments": arguments},
    }
    return [
        {"role": "user", "content": text},
        {"role": "assistant", "content": None, "tool_calls": [call]},
        {"role": "tool", "tool_call_id": f"call_{i}", "content": text},
    ]


def chat_request(size: int) -> bytes:
    """An agent conversation grown turn by turn until it passes ``size`` bytes."""
    messages: list[dict[str, Any]] = [{"role": "system", "content": "You are a helpful agent."}]
    body: dict[str, Any] = {
        "model": "m",
        "messages": messages,
        "tools": [_tool(i) for i in range(8)],
        "temperature": 0.7,
        "max_tokens": 1024,
    }
    text = 'A paragraph of "quoted" prose, with [brackets] and {braces} in it. ' * 4
    arguments = json.dumps(
        {"query": "weather", "filters": [{"field": "city", "values": ["Paris"]}]}
    )
    i = 0
    while len(json.dumps(body)) < size:
        messages.extend(_turn(i, text, arguments))
        i += 1
    return json.dumps(body).encode()


def schema_request(size: int) -> bytes:
    """One tool whose schema is ~``size`` bytes of nested objects."""
    leaf = {"type": "object", "properties": {"a": {"type": "string"}, "b": {"type": "integer"}}}
    props: dict[str, Any] = {}
    n = 0
    while len(json.dumps(props)) < size:
        props[f"p{n}"] = {
            "type": "object",
            "properties": {"x": leaf, "y": {"type": "array", "items": leaf}},
        }
        n += 1
    tool = {
        "type": "function",
        "function": {"name": "f", "parameters": {"type": "object", "properties": props}},
    }
    return json.dumps(
        {"model": "m", "messages": [{"role": "user", "content": "hi"}], "tools": [tool]}
    ).encode()


def arguments_request(size: int) -> bytes:
    """One tool call whose ~``size``-byte arguments are lists nested 32 deep."""
    unit = "[" * 32 + '"x"' + "]" * 32
    arguments = "[" + ",".join([unit] * (size // (len(unit) + 1))) + "]"
    call = {"id": "c", "type": "function", "function": {"name": "f", "arguments": arguments}}
    messages = [
        {"role": "user", "content": "hi"},
        {"role": "assistant", "content": None, "tool_calls": [call]},
        {"role": "tool", "tool_call_id": "c", "content": "ok"},
    ]
    return json.dumps({"model": "m", "messages": messages}).encode()


def _per_call_us(fn: Any, budget_s: float = 1.0) -> float:
    number, took = timeit.Timer(fn).autorange()
    repeat = max(3, int(budget_s / max(took, 1e-9)))
    best = min(timeit.Timer(fn).repeat(repeat=min(repeat, 20), number=number))
    return best / number * 1e6


def main() -> None:
    bounds = RequestBounds(RequestLimits(), lambda model: None)
    cases = [
        ("typical 5 KB", chat_request(5_000)),
        ("conversation 1 MB", chat_request(1_000_000)),
        ("one 1 MB tool schema", schema_request(1_000_000)),
        ("one 1 MB tool-call arguments", arguments_request(1_000_000)),
    ]
    print(f"{'request':<30} {'bytes':>9} {'decode us':>11} {'check us':>10} {'check/decode':>13}")
    for name, body in cases:
        req = openai_chat.decode_request(body)
        namer = wire_namer("openai_chat", body)
        decode = _per_call_us(lambda body=body: openai_chat.decode_request(body))
        check = _per_call_us(lambda req=req, namer=namer: bounds.check_chat(req, namer))
        print(f"{name:<30} {len(body):>9} {decode:>11.1f} {check:>10.1f} {check / decode:>12.1%}")
    arguments = openai_chat.decode_request(cases[-1][1]).messages[1].tool_calls()[0].arguments
    parse = _per_call_us(lambda: msgspec.json.decode(arguments))
    print(
        f"decoding those 1 MB of arguments, as an egress codec that sends them as "
        f"an object (Anthropic, Gemini, Bedrock) does: {parse:.1f} us"
    )


if __name__ == "__main__":
    main()
