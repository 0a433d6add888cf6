"""Loading the recorded Anthropic cassettes, and expectations computed from them.

Everything here reads the recording itself (plain ``json`` / ``yaml``), never
the codec under test, so the expected values are the provider's own.
"""

from __future__ import annotations

import json
from typing import Any

from _cassettes import Interaction, interactions
from _cassettes import params as _params

FOLDER = "test_anthropic"

SUPPORTED_BLOCKS = {"text", "thinking", "redacted_thinking", "tool_use"}
REQUEST_BLOCKS = SUPPORTED_BLOCKS | {"tool_result", "image", "document"}
REQUEST_FIELDS = {
    "model",
    "messages",
    "max_tokens",
    "system",
    "stop_sequences",
    "temperature",
    "top_p",
    "top_k",
    "tools",
    "tool_choice",
    "thinking",
    "metadata",
    "cache_control",
    "stream",
    "output_config",
}

# Published Anthropic stop_reason -> normalised finish reason (the brief's table).
FINISH = {
    "end_turn": "stop",
    "stop_sequence": "stop",
    "pause_turn": "stop",
    "max_tokens": "length",
    "model_context_window_exceeded": "length",
    "tool_use": "tool_calls",
    "refusal": "content_filter",
}


class Exchange(Interaction):
    @property
    def request(self) -> dict[str, Any]:
        body = self.request_parsed
        return body if isinstance(body, dict) else {}

    @property
    def raw(self) -> bytes | None:
        return self.response_body

    @property
    def is_messages(self) -> bool:
        return "/v1/messages" in self.uri and "count_tokens" not in self.uri

    @property
    def is_count_tokens(self) -> bool:
        return "/v1/messages/count_tokens" in self.uri

    @property
    def is_stream(self) -> bool:
        return self.raw is not None and b"event: message_start" in self.raw


EXCHANGES = interactions(FOLDER, Exchange)


def params(items: list[Exchange]) -> list[Any]:
    """pytest parameters, one per exchange (see ``_cassettes.params``)."""
    return _params(items, FOLDER)


# --- SSE, parsed independently of junction's own parser ------------------------------


def sse_events(raw: bytes) -> list[dict[str, Any]]:
    events = []
    for chunk in raw.decode().replace("\r\n", "\n").split("\n\n"):
        data = [line[5:].lstrip() for line in chunk.split("\n") if line.startswith("data:")]
        if data:
            events.append(json.loads("\n".join(data)))
    return events


def message_from_stream(raw: bytes) -> dict[str, Any]:
    """The final message a stream describes, accumulated by the published rules."""
    message: dict[str, Any] = {}
    blocks: dict[int, dict[str, Any]] = {}
    json_bufs: dict[int, str] = {}
    for ev in sse_events(raw):
        kind = ev.get("type")
        if kind == "message_start":
            message = dict(ev["message"])
            message["usage"] = dict(message.get("usage") or {})
        elif kind == "content_block_start":
            blocks[ev["index"]] = dict(ev["content_block"])
        elif kind == "content_block_delta":
            _apply_delta(blocks[ev["index"]], ev["delta"], json_bufs, ev["index"])
        elif kind == "content_block_stop" and ev["index"] in json_bufs:
            blocks[ev["index"]]["input"] = json.loads(json_bufs.pop(ev["index"]) or "{}")
        elif kind == "message_delta":
            message.update({k: v for k, v in ev["delta"].items()})
            message["usage"].update(
                {k: v for k, v in (ev.get("usage") or {}).items() if v is not None}
            )
    message["content"] = [blocks[i] for i in sorted(blocks)]
    return message


def _apply_delta(
    block: dict[str, Any], delta: dict[str, Any], bufs: dict[int, str], i: int
) -> None:
    kind = delta["type"]
    if kind == "text_delta":
        block["text"] = block.get("text", "") + delta["text"]
    elif kind == "thinking_delta":
        block["thinking"] = block.get("thinking", "") + delta["thinking"]
    elif kind == "signature_delta":
        block["signature"] = delta["signature"]
    elif kind == "input_json_delta":
        bufs[i] = bufs.get(i, "") + delta["partial_json"]


# --- expectations -----------------------------------------------------------------------


def recorded_message(x: Exchange) -> dict[str, Any]:
    return message_from_stream(x.raw) if x.is_stream and x.raw is not None else dict(x.parsed)


def unsupported_blocks(message: dict[str, Any]) -> set[str]:
    return {b["type"] for b in message.get("content") or []} - SUPPORTED_BLOCKS


def expected_parts(message: dict[str, Any]) -> list[tuple[Any, ...]]:
    """The content as comparable tuples; empty text blocks carry nothing."""
    out: list[tuple[Any, ...]] = []
    for b in message.get("content") or []:
        kind = b["type"]
        if kind == "text" and b.get("text"):
            out.append(("text", b["text"]))
        elif kind == "thinking":
            out.append(("thinking", b.get("thinking", ""), b.get("signature") or None))
        elif kind == "redacted_thinking":
            out.append(("redacted", b["data"]))
        elif kind == "tool_use":
            out.append(("tool", b["id"], b["name"], b.get("input") or {}))
    return out


def expected_usage(message: dict[str, Any]) -> dict[str, int]:
    u = message["usage"]
    cache_write = u.get("cache_creation_input_tokens") or 0
    cache_read = u.get("cache_read_input_tokens") or 0
    return {
        "prompt_tokens": u["input_tokens"] + cache_write + cache_read,
        "completion_tokens": u["output_tokens"],
        "cached_tokens": cache_read,
        "cache_write_tokens": cache_write,
    }


def request_unsupported(body: dict[str, Any]) -> list[str]:
    """Why a recorded request cannot go Anthropic -> canonical -> Anthropic unchanged."""
    reasons = [f"top-level field {k!r}" for k in body if k not in REQUEST_FIELDS]
    for tool in body.get("tools") or []:
        if tool.get("type") not in (None, "custom"):
            reasons.append(f"server tool {tool['type']}")
        extra = set(tool) - {
            "name",
            "description",
            "input_schema",
            "cache_control",
            "strict",
            "type",
        }
        reasons.extend(f"tool field {k!r}" for k in sorted(extra))
    for message in body.get("messages") or []:
        if isinstance(message["content"], list):
            reasons.extend(
                f"content block {b['type']}"
                for b in message["content"]
                if b["type"] not in REQUEST_BLOCKS
            )
    thinking = body.get("thinking") or {}
    if thinking.get("type") == "adaptive":
        reasons.append("adaptive thinking (canonical Reasoning has no adaptive mode)")
    config = body.get("output_config") or {}
    reasons.extend(f"output_config.{k}" for k in config if k != "format")
    return sorted(set(reasons))
