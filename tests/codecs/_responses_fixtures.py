"""Recorded OpenAI Responses cassettes and expectations computed from them.

Everything here reads the recordings (plain ``json`` / ``yaml``) and applies
the published format (``ResponseStreamEvent``, ``ResponseUsage``, the brief's
finish-reason vocabulary), never the codec under test, so expected values are
OpenAI's own.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from _cassettes import Interaction, interactions
from _cassettes import params as _params

FOLDER = "test_openai_responses"

BUILTIN_TOOLS = frozenset(
    {
        "web_search",
        "web_search_preview",
        "file_search",
        "code_interpreter",
        "computer_use_preview",
        "image_generation",
        "mcp",
        "local_shell",
        "shell",
        "custom",
    }
)
"""Tool types that are not plain functions: junction refuses them with a 400."""

SKIP_RESPONSE: dict[str, str] = {}
"""Response bodies the golden decode leaves out, and why."""
for _name in (
    "test_background_mode_reasoning_vcr",
    "test_background_mode_vcr",
    "test_background_mode_with_tool_vcr",
    "test_background_mode_streaming_without_starting_after_vcr",
):
    SKIP_RESPONSE[_name] = (
        "background mode: the POST answers a queued Response to poll later; junction never "
        "sends `background` (it keeps no state), so the egress never sees one"
    )


class Exchange(Interaction):
    @property
    def request(self) -> dict[str, Any]:
        body = self.request_parsed
        return body if isinstance(body, dict) else {}

    @property
    def raw(self) -> str | None:
        return None if self.response_body is None else self.response_body.decode()

    @property
    def is_create(self) -> bool:
        """A ``POST /v1/responses`` (not ``/compact``, ``/input_tokens``, GET...)."""
        return self.method == "POST" and self.uri.split("?")[0].endswith("/responses")

    @property
    def is_stream(self) -> bool:
        return self.raw is not None and "data:" in self.raw


EXCHANGES = [x for x in interactions(FOLDER, Exchange) if x.is_create]
OK = [x for x in EXCHANGES if x.status == 200]
JSON_OK = [x for x in OK if not x.is_stream and isinstance(x.parsed, dict)]
STREAMS = [x for x in OK if x.is_stream]
ERRORS = [x for x in EXCHANGES if x.status >= 400]


def params(items: list[Exchange]) -> list[Any]:
    """pytest parameters, one per exchange (see ``_cassettes.params``)."""
    return _params(items, FOLDER)


# --- expectations from the recording alone -------------------------------------------

INCOMPLETE = {"max_output_tokens": "length", "content_filter": "content_filter"}


@dataclass
class Expected:
    text: str = ""
    reasoning: list[str] = field(default_factory=list)
    """Per reasoning item: its summary parts (reasoning text when no summary)."""
    signatures: list[str] = field(default_factory=list)
    calls: list[tuple[str, str, str]] = field(default_factory=list)
    finish: str = "stop"
    native: str = "completed"
    usage: dict[str, Any] | None = None


def _finish(exp: Expected, body: dict[str, Any]) -> None:
    status = body.get("status") or "completed"
    if status == "incomplete":
        reason = (body.get("incomplete_details") or {}).get("reason") or ""
        exp.finish, exp.native = INCOMPLETE.get(reason, "length"), reason
    else:
        exp.finish = "tool_calls" if exp.calls else "stop"
        exp.native = status


def _reasoning_texts(item: dict[str, Any]) -> list[str]:
    texts = [s.get("text", "") for s in item.get("summary") or []]
    if not texts:
        texts = [
            c.get("text", "")
            for c in item.get("content") or []
            if c.get("type") == "reasoning_text"
        ]
    return texts


def expected_json(body: dict[str, Any]) -> Expected:
    exp = Expected()
    for item in body.get("output") or []:
        kind = item.get("type")
        if kind == "message":
            exp.text += "".join(
                c.get("text", "")
                for c in item.get("content") or []
                if c.get("type") == "output_text"
            )
        elif kind == "reasoning":
            texts = _reasoning_texts(item)
            if texts or item.get("encrypted_content"):
                exp.reasoning.append(texts)  # type: ignore[arg-type]
            if item.get("encrypted_content"):
                exp.signatures.append(item["encrypted_content"])
        elif kind == "function_call":
            exp.calls.append((item["call_id"], item["name"], item.get("arguments") or "{}"))
    _finish(exp, body)
    exp.usage = body.get("usage")
    return exp


def sse_frames(raw: str) -> list[tuple[str, str]]:
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


def stream_events(raw: str) -> list[dict[str, Any]]:
    return [json.loads(d) for _, d in sse_frames(raw) if d != "[DONE]"]


@dataclass
class ExpectedStream:
    text: str = ""
    thinking: str = ""
    signatures: list[str] = field(default_factory=list)
    calls: list[tuple[str, str, str]] = field(default_factory=list)
    finish: str = "stop"
    native: str = "completed"
    usage: dict[str, Any] | None = None
    start_id: str = ""


def expected_stream(raw: str) -> ExpectedStream:
    """From the deltas as sent: text, reasoning (summary parts of one item
    separated by a blank line, as the codec documents), calls from the
    finished items, finish and usage from the terminal event."""
    exp = ExpectedStream()
    summaries: dict[int, dict[int, str]] = {}
    order: list[int] = []
    for ev in stream_events(raw):
        kind = ev["type"]
        if kind == "response.created":
            exp.start_id = ev["response"]["id"]
        elif kind == "response.output_text.delta":
            exp.text += ev["delta"]
        elif kind in ("response.reasoning_summary_text.delta", "response.reasoning_text.delta"):
            oi = ev["output_index"]
            if oi not in summaries:
                summaries[oi] = {}
                order.append(oi)
            si = ev.get("summary_index", 0)
            summaries[oi][si] = summaries[oi].get(si, "") + ev["delta"]
        elif kind == "response.output_item.done":
            item = ev["item"]
            if item["type"] == "function_call":
                exp.calls.append((item["call_id"], item["name"], item.get("arguments") or ""))
            elif item["type"] == "reasoning" and item.get("encrypted_content"):
                exp.signatures.append(item["encrypted_content"])
        elif kind in ("response.completed", "response.incomplete"):
            body = ev["response"]
            _finish(exp, body)  # type: ignore[arg-type]
            exp.usage = body.get("usage")
    exp.thinking = "".join(
        "\n\n".join(summaries[oi][k] for k in sorted(summaries[oi])) for oi in order
    )
    return exp


# --- request bodies: what junction must refuse, from the published rules --------------


def refusals(body: dict[str, Any]) -> set[str]:
    """Every ``param`` a stateless, function-tools-only gateway must refuse
    (the decoder reports the first it meets)."""
    out = {k for k in ("previous_response_id", "conversation") if body.get(k) is not None}
    if body.get("background"):
        out.add("background")
    for i, tool in enumerate(body.get("tools") or []):
        if tool.get("type") != "function":
            out.add(f"tools[{i}].type")
    items = body.get("input")
    for i, item in enumerate(items if isinstance(items, list) else []):
        kind = item.get("type") or "message"
        if kind not in ("message", "function_call", "function_call_output", "reasoning"):
            out.add(f"input[{i}].type")
    return out


def normal_input(body: dict[str, Any], replayable: bool = True) -> list[tuple[Any, ...]]:
    """A request's conversation as a flat list of pieces, for comparing bodies
    whose item boundaries legitimately differ. Empty assistant text is
    nothing; ``instructions`` is a leading system text; reasoning counts only
    when it can be replayed statelessly (it has encrypted content)."""
    out: list[tuple[Any, ...]] = []
    if body.get("instructions"):
        out.append(("system", "text", body["instructions"]))
    items = body.get("input")
    if isinstance(items, str):
        return [*out, ("user", "text", items)]
    for item in items or []:
        kind = item.get("type") or "message"
        if kind == "message":
            out.extend(_message_pieces(item))
        elif kind == "function_call":
            out.append(("assistant", "call", item["call_id"], item["name"], item["arguments"]))
        elif kind == "function_call_output":
            output = item["output"]
            out.append(("tool", "output", item["call_id"], json.dumps(output)))
        elif kind == "reasoning" and item.get("encrypted_content") and replayable:
            texts = tuple(s["text"] for s in item.get("summary") or [])
            out.append(("assistant", "reasoning", texts, item["encrypted_content"]))
    return out


def _message_pieces(item: dict[str, Any]) -> list[tuple[Any, ...]]:
    role, content = item["role"], item["content"]
    if isinstance(content, str):
        return [] if role == "assistant" and not content else [(role, "text", content)]
    out: list[tuple[Any, ...]] = []
    for part in content:
        kind = part["type"]
        if kind in ("input_text", "output_text"):
            out.append((role, "text", part["text"]))
        elif kind == "input_image":
            out.append((role, "image", part.get("image_url") or part.get("file_id")))
        elif kind == "input_file":
            where = part.get("file_id") or part.get("file_data") or part.get("file_url")
            out.append((role, "file", where, part.get("filename")))
    return out


def normal_settings(body: dict[str, Any]) -> dict[str, Any]:
    """The request's settings in the form junction's egress writes them."""
    tools = [
        (t["name"], t.get("description"), t.get("parameters"), bool(t.get("strict")))
        for t in body.get("tools") or []
    ]
    fmt = (body.get("text") or {}).get("format")
    reasoning = body.get("reasoning") or {}
    return {
        "tools": tools,
        "tool_choice": body.get("tool_choice"),
        "parallel_tool_calls": body.get("parallel_tool_calls"),
        "max_output_tokens": body.get("max_output_tokens"),
        "temperature": body.get("temperature"),
        "top_p": body.get("top_p"),
        "format": None if fmt is None else {k: v for k, v in fmt.items() if v is not None},
        "effort": reasoning.get("effort"),
        # generate_summary is the deprecated name of summary.
        "summary": reasoning.get("summary") or reasoning.get("generate_summary"),
        "service_tier": body.get("service_tier"),
    }
