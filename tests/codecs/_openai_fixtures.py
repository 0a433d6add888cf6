"""Recorded OpenAI-dialect cassettes and expectations computed from them.

Everything here reads the recordings (plain ``json`` / ``yaml``), never the
codec under test, so expected values are the providers' own.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from _cassettes import Interaction, interactions
from _cassettes import params as params

DIRS = (
    "test_openai",
    "test_groq",
    "test_deepseek",
    "test_mistral",
    "test_openrouter",
    "test_cerebras",
    "test_ollama",
)

# Cassettes whose features junction does not support, and why.
SKIP_RESPONSE: dict[str, str] = {
    "test_openai/test_invalid_response": (
        "the server answers a JSON body that is not a chat completion; covered by "
        "test_invalid_bodies_raise instead"
    ),
    "test_openai/test_text_response": (
        "the server answers text/plain; covered by test_invalid_bodies_raise instead"
    ),
}
SKIP_REQUEST: dict[str, str] = {
    "test_openrouter/test_openrouter_video_url_public_api": (
        "video_url content parts: junction has no video part, so the request is refused (400)"
    ),
}
_SERVER_TOOLS = (
    "OpenRouter server tools (type 'openrouter:web_search' / 'openrouter:advisor') are not "
    "supported: junction refuses non-function tools with a 400"
)
for _name in (
    "test_openrouter_advisor_tool",
    "test_openrouter_advisor_tool_stream",
    "test_openrouter_web_search_annotations",
    "test_openrouter_web_search_annotations_stream",
    "test_openrouter_web_search_tool_full_params",
    "test_openrouter_web_search_tool_usage",
    "test_openrouter_web_search_tool_usage_stream",
):
    SKIP_REQUEST[f"test_openrouter/{_name}"] = _SERVER_TOOLS
SKIP_ROUND_TRIP: dict[str, str] = {
    "test_mistral/test_mistral_model_thinking_part": (
        "Mistral thinking content parts in assistant history are dropped on the way out "
        "(no reasoning field for Mistral)"
    ),
    "test_openrouter/test_eager_input_streaming_sent_to_openrouter[anthropic-enabled]": (
        "tool-level eager_input_streaming (an Anthropic hint via OpenRouter) is not carried"
    ),
}

# The published finish-reason normalisation (brief / OpenRouter's vocabulary).
FINISH = {
    "stop": "stop",
    "length": "length",
    "tool_calls": "tool_calls",
    "content_filter": "content_filter",
    "function_call": "tool_calls",
    "eos": "stop",
    "model_length": "length",
    "insufficient_system_resource": "error",
    "error": "error",
}


def normal_finish(native: str) -> str:
    return FINISH.get(native, "stop")


class Exchange(Interaction):
    @property
    def id(self) -> str:
        return f"{self.folder}/{self.name}#{self.index}"

    @property
    def request(self) -> dict[str, Any]:
        body = self.request_parsed
        return body if isinstance(body, dict) else {}

    @property
    def raw(self) -> str | None:
        return None if self.response_body is None else self.response_body.decode()

    @property
    def is_chat(self) -> bool:
        return self.uri.split("#")[0].split("?")[0].endswith("/chat/completions")

    @property
    def is_stream(self) -> bool:
        return self.raw is not None and "data:" in self.raw and bool(self.request.get("stream"))

    def flat_headers(self) -> dict[str, str]:
        return {k: v[0] if isinstance(v, list) else str(v) for k, v in self.headers.items()}


EXCHANGES = [x for folder in DIRS for x in interactions(folder, Exchange) if not x.binary]
CHAT = [x for x in EXCHANGES if x.is_chat]


# --- expectations, computed from the recording alone ---------------------------


@dataclass
class Expected:
    text: dict[int, str] = field(default_factory=dict)
    reasoning: dict[int, str] = field(default_factory=dict)
    calls: dict[int, list[tuple[str | None, str, str]]] = field(default_factory=dict)
    finish: dict[int, tuple[str, str]] = field(default_factory=dict)
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    cached_tokens: int = 0
    reasoning_tokens: int = 0
    error: str | None = None


def _content_text(content: Any) -> tuple[str, str]:
    """(text, thinking) of a message / delta ``content`` (string or Mistral parts)."""
    if isinstance(content, str):
        return content, ""
    text, thinking = "", ""
    for part in content or []:
        if part.get("type") == "text":
            text += part.get("text") or ""
        elif part.get("type") == "thinking":
            inner = part.get("thinking")
            if isinstance(inner, list):
                thinking += "".join(i.get("text", "") for i in inner)
            else:
                thinking += inner or ""
    return text, thinking


def _usage_into(exp: Expected, usage: dict[str, Any]) -> None:
    exp.prompt_tokens = usage.get("prompt_tokens") or 0
    exp.completion_tokens = usage.get("completion_tokens") or 0
    details = usage.get("prompt_tokens_details") or {}
    exp.cached_tokens = details.get("cached_tokens") or usage.get("prompt_cache_hit_tokens") or 0
    exp.reasoning_tokens = (usage.get("completion_tokens_details") or {}).get(
        "reasoning_tokens"
    ) or 0


def _finish_into(exp: Expected, choice: dict[str, Any]) -> None:
    reason = choice.get("finish_reason")
    if reason is not None and choice.get("index", 0) not in exp.finish:
        native = choice.get("native_finish_reason") or reason
        exp.finish[choice.get("index", 0)] = (normal_finish(reason), native)


def expected_json(body: dict[str, Any], reasoning_key: str | None = None) -> Expected:
    exp = Expected()
    for choice in body["choices"]:
        i = choice.get("index", 0)
        msg = choice.get("message") or {}
        text, thinking = _content_text(msg.get("content"))
        exp.text[i] = text
        keys = [reasoning_key] if reasoning_key else ["reasoning", "reasoning_content"]
        extra = next((msg[k] for k in keys if msg.get(k)), "")
        exp.reasoning[i] = extra + thinking
        exp.calls[i] = [
            # A call recorded without arguments is an empty object (junction's convention).
            (c.get("id") or None, c["function"]["name"], c["function"].get("arguments") or "{}")
            for c in msg.get("tool_calls") or []
        ]
        _finish_into(exp, choice)
    if body.get("usage"):
        _usage_into(exp, body["usage"])
    return exp


def _sse_frames(raw: str) -> list[tuple[str, str]]:
    """(event name, data) pairs: a small independent SSE reader for recordings."""
    frames: list[tuple[str, str]] = []
    event, data = "message", []
    for line in [*raw.replace("\r\n", "\n").split("\n"), ""]:
        if not line:
            if data:
                frames.append((event, "\n".join(data)))
            event, data = "message", []
        elif line.startswith(":"):
            continue
        elif line.startswith("event:"):
            event = line[6:].strip()
        elif line.startswith("data:"):
            data.append(line[5:].removeprefix(" "))
    return frames


def _stream_choice(exp: Expected, choice: dict[str, Any], reasoning_key: str | None) -> None:
    i = choice.get("index", 0)
    delta = choice.get("delta") or {}
    text, thinking = _content_text(delta.get("content"))
    exp.text[i] = exp.text.get(i, "") + text
    keys = [reasoning_key] if reasoning_key else ["reasoning", "reasoning_content"]
    extra = next((delta[k] for k in keys if delta.get(k)), "")
    exp.reasoning[i] = exp.reasoning.get(i, "") + extra + thinking
    calls = exp.calls.setdefault(i, [])
    for pos, call in enumerate(delta.get("tool_calls") or []):
        n = call.get("index", pos)
        fn = call.get("function") or {}
        if n >= len(calls):
            calls.append((call.get("id") or None, fn.get("name") or "", ""))
        cid, name, args = calls[n]
        calls[n] = (cid, name, args + (fn.get("arguments") or ""))
    _finish_into(exp, choice)


def expected_stream(raw: str, reasoning_key: str | None = None) -> Expected:
    exp = Expected()
    for event, data in _sse_frames(raw):
        if data == "[DONE]":
            break
        chunk = json.loads(data)
        if event == "error" or chunk.get("error"):
            exp.error = chunk["error"]["message"]
            break
        for choice in chunk.get("choices") or []:
            _stream_choice(exp, choice, reasoning_key)
        usage = chunk.get("usage") or (chunk.get("x_groq") or {}).get("usage")
        if usage:
            _usage_into(exp, usage)
    return exp


def sse_json_frames(raw: bytes) -> list[Any]:
    """Every ``data:`` payload of an SSE body we produced, JSON-parsed (``[DONE]`` kept)."""
    out: list[Any] = []
    for _, data in _sse_frames(raw.decode()):
        out.append(data if data == "[DONE]" else json.loads(data))
    return out


# The published schema lives in tests/_openapi.py.
