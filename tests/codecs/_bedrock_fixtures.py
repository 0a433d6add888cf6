"""Loading the recorded Bedrock cassettes, and expectations computed from them.

Everything here reads the recording itself (plain ``json`` / ``yaml`` and a
small event-stream reader written from the AWS framing spec, with its own
CRC checks), never the codec under test, so the expected values are the
provider's own.
"""

from __future__ import annotations

import json
import struct
import zlib
from typing import Any
from urllib.parse import unquote

from _cassettes import Interaction, interactions
from _cassettes import params as _params

FOLDER = "test_bedrock"

# Published Converse stopReason -> normalised finish reason (StopReason enum in
# botocore's bedrock-runtime service model; the brief's mapping).
FINISH = {
    "end_turn": "stop",
    "stop_sequence": "stop",
    "max_tokens": "length",
    "model_context_window_exceeded": "length",
    "tool_use": "tool_calls",
    "guardrail_intervened": "content_filter",
    "content_filtered": "content_filter",
    "malformed_model_output": "error",
    "malformed_tool_use": "error",
}


class Exchange(Interaction):
    @property
    def raw(self) -> bytes | None:
        return self.response_body

    @property
    def operation(self) -> str:
        return self.uri.rsplit("/", 1)[-1]

    @property
    def model_id(self) -> str:
        """The modelId of the URL path, percent-decoded."""
        path = self.uri.split("amazonaws.com", 1)[-1]
        return unquote(path.split("/")[2])

    @property
    def is_converse(self) -> bool:
        return "bedrock-runtime" in self.uri and self.operation in ("converse", "converse-stream")

    @property
    def is_stream(self) -> bool:
        return self.operation == "converse-stream" and self.status == 200

    def request_body(self) -> dict[str, Any] | None:
        """The recorded request JSON (None when the recording is not valid JSON)."""
        value = self.request_json()
        return value if isinstance(value, dict) else None

    def response_json(self) -> dict[str, Any]:
        if self.parsed is not None:
            return dict(self.parsed)
        assert self.raw is not None
        return dict(json.loads(self.raw))


EXCHANGES = interactions(FOLDER, Exchange)
CONVERSE = [x for x in EXCHANGES if x.is_converse]


def params(items: list[Exchange]) -> list[Any]:
    """pytest parameters, one per exchange (see ``_cassettes.params``)."""
    return _params(items, FOLDER)


# --- AWS event stream, read from the published framing ----------------------------


def frames(raw: bytes) -> list[tuple[dict[str, str], bytes]]:
    """(headers, payload) of each message; checks both CRC32s."""
    out = []
    pos = 0
    while pos < len(raw):
        total, headers_len, prelude_crc = struct.unpack(">III", raw[pos : pos + 12])
        assert zlib.crc32(raw[pos : pos + 8]) == prelude_crc, "prelude CRC"
        end = pos + total
        (message_crc,) = struct.unpack(">I", raw[end - 4 : end])
        assert zlib.crc32(raw[pos : end - 4]) == message_crc, "message CRC"
        headers: dict[str, str] = {}
        h = pos + 12
        while h < pos + 12 + headers_len:
            name_len = raw[h]
            name = raw[h + 1 : h + 1 + name_len].decode()
            kind = raw[h + 1 + name_len]
            assert kind == 7, "only string headers are expected"
            (value_len,) = struct.unpack(">H", raw[h + 2 + name_len : h + 4 + name_len])
            start = h + 4 + name_len
            headers[name] = raw[start : start + value_len].decode()
            h = start + value_len
        out.append((headers, raw[pos + 12 + headers_len : end - 4]))
        pos = end
    return out


def stream_events(raw: bytes) -> list[tuple[str, dict[str, Any]]]:
    return [(h[":event-type"], json.loads(p)) for h, p in frames(raw)]


def response_from_stream(raw: bytes) -> dict[str, Any]:
    """The ConverseResponse a stream describes, accumulated by the published rules."""
    blocks: dict[int, dict[str, Any]] = {}
    response: dict[str, Any] = {}
    for kind, ev in stream_events(raw):
        if kind == "contentBlockStart":
            start = ev["start"]
            if "toolUse" in start:
                blocks[ev["contentBlockIndex"]] = {"toolUse": {**start["toolUse"], "input": ""}}
            else:
                blocks[ev["contentBlockIndex"]] = {"other": start}
        elif kind == "contentBlockDelta":
            _apply(blocks.setdefault(ev["contentBlockIndex"], {}), ev["delta"])
        elif kind == "messageStop":
            response["stopReason"] = ev["stopReason"]
        elif kind == "metadata":
            response["usage"] = ev["usage"]
    content = []
    for i in sorted(blocks):
        block = blocks[i]
        if "toolUse" in block:
            block["toolUse"]["input"] = json.loads(block["toolUse"]["input"] or "{}")
        content.append(block)
    response["output"] = {"message": {"role": "assistant", "content": content}}
    return response


def _apply(block: dict[str, Any], delta: dict[str, Any]) -> None:
    if "text" in delta:
        block["text"] = block.get("text", "") + delta["text"]
    elif "toolUse" in delta and "toolUse" in block:
        block["toolUse"]["input"] += delta["toolUse"]["input"]
    elif "reasoningContent" in delta:
        r = delta["reasoningContent"]
        rc = block.setdefault("reasoningContent", {})
        if "redactedContent" in r:
            rc["redactedContent"] = rc.get("redactedContent", "") + r["redactedContent"]
        else:
            rt = rc.setdefault("reasoningText", {"text": ""})
            rt["text"] += r.get("text", "")
            if "signature" in r:
                rt["signature"] = r["signature"]


# --- expectations -----------------------------------------------------------------------


def recorded_response(x: Exchange) -> dict[str, Any]:
    if x.is_stream and x.raw is not None:
        return response_from_stream(x.raw)
    return x.response_json()


def unsupported_blocks(response: dict[str, Any]) -> set[str]:
    """Blocks junction does not carry: server-tool use and results, others."""
    out = set()
    for b in response["output"]["message"]["content"]:
        if "toolUse" in b and b["toolUse"].get("type") not in (None, "tool_use"):
            out.add(f"toolUse {b['toolUse']['type']}")
        elif not ({"text", "toolUse", "reasoningContent"} & set(b)):
            out.add(",".join(sorted(b)))
    return out


def expected_parts(response: dict[str, Any]) -> list[tuple[Any, ...]]:
    """The content as comparable tuples; empty text carries nothing, adjacent
    text blocks read as one text (a stream does not separate them)."""
    out: list[tuple[Any, ...]] = []
    for b in response["output"]["message"]["content"]:
        if b.get("text"):
            if out and out[-1][0] == "text":
                out[-1] = ("text", out[-1][1] + b["text"])
            else:
                out.append(("text", b["text"]))
        elif "reasoningContent" in b:
            rc = b["reasoningContent"]
            if "redactedContent" in rc:
                out.append(("redacted", rc["redactedContent"]))
            else:
                rt = rc["reasoningText"]
                out.append(("thinking", rt.get("text", ""), rt.get("signature")))
        elif "toolUse" in b and b["toolUse"].get("type") in (None, "tool_use"):
            use = b["toolUse"]
            out.append(("tool", use["toolUseId"], use["name"], use.get("input") or {}))
    return out


def expected_usage(response: dict[str, Any]) -> dict[str, int]:
    u = response["usage"]
    read = u.get("cacheReadInputTokens") or 0
    write = u.get("cacheWriteInputTokens") or 0
    return {
        "prompt_tokens": u["inputTokens"] + read + write,
        "completion_tokens": u["outputTokens"],
        "cached_tokens": read,
        "cache_write_tokens": write,
    }
