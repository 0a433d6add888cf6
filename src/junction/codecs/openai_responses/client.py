"""OpenAI Responses, client side: canonical requests -> ``POST {base}/responses``.

Stateless on purpose: the body always says ``store: false`` and carries the
whole conversation in ``input``; no item ids are sent (with ``store: false``
OpenAI answers 400 "Item with id ... not found" to an id it did not keep), and
reasoning is replayed only through its ``encrypted_content`` (the canonical
``ThinkingPart.signature``), requested with ``include:
["reasoning.encrypted_content"]`` whenever reasoning is asked for. Reasoning
that OpenAI cannot replay (unsigned, or signed by another provider) is left
out, as the Anthropic codec does for foreign thinking.

A leading system message becomes ``instructions``; other system and developer
messages stay input messages. Function tools are flat (``name`` at the top)
and ``strict`` defaults to ``false`` when the canonical tool does not say:
the Responses API would otherwise apply strict mode, which Chat Completions
clients do not expect.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import msgspec

from junction.codecs._shared import openai_errors
from junction.codecs._shared.media import data_url
from junction.codecs._shared.openai_errors import invalid_response
from junction.codecs._shared.reasoning import openai_effort
from junction.codecs.base import Target, auth_headers, join_url
from junction.codecs.openai_responses.client_stream import (
    RESPONSE_DECODER,
    ResponsesStreamDecoder,
    decode_message,
    failure,
    finish_of,
    usage,
)
from junction.types import (
    AudioPart,
    ChatRequest,
    ChatResponse,
    Choice,
    FilePart,
    GatewayError,
    ImagePart,
    Message,
    Part,
    TextPart,
    ThinkingPart,
    ToolCallPart,
    ToolResultPart,
    UpstreamError,
)
from junction.types.http import HttpRequest

_json = msgspec.json.Encoder().encode


def _input_part(part: Part, path: str) -> dict[str, Any]:
    if isinstance(part, TextPart):
        return {"type": "input_text", "text": part.text}
    if isinstance(part, ImagePart):
        url = part.url if part.data is None else data_url(part.data, part.media_type)
        return {"type": "input_image", "image_url": url, "detail": part.detail or "auto"}
    if isinstance(part, FilePart):
        return _file(part)
    if isinstance(part, AudioPart):
        raise GatewayError(
            "invalid_request",
            "the OpenAI Responses API takes no audio input; send text, images or files",
            param=path,
        )
    raise GatewayError(
        "invalid_request",
        f"OpenAI Responses cannot take {part.__class__.__name__} content in a message; "
        "send text, images or files",
        param=path,
    )


def _file(part: FilePart) -> dict[str, Any]:
    if part.file_id and part.data is None and (part.media_type or "").startswith("image/"):
        return {"type": "input_image", "file_id": part.file_id, "detail": "auto"}
    out: dict[str, Any] = {"type": "input_file"}
    if part.file_id is not None:
        out["file_id"] = part.file_id
    if part.data is not None:
        out["file_data"] = data_url(part.data, part.media_type)
    elif part.url is not None:
        out["file_url"] = part.url
    if part.filename is not None:
        out["filename"] = part.filename
    return out


def _content(parts: list[Part], path: str) -> str | list[dict[str, Any]]:
    if all(isinstance(p, TextPart) for p in parts):
        return "".join(p.text for p in parts if isinstance(p, TextPart))
    return [_input_part(p, f"{path}.content[{j}]") for j, p in enumerate(parts)]


class _Turn:
    """One assistant message as input items, in the order the model produced
    them: each text part is an assistant message item, each tool call a
    ``function_call`` item, each signed run of thinking a ``reasoning`` item."""

    def __init__(self, target: Target) -> None:
        self.items: list[dict[str, Any]] = []
        self._target = target
        self._summary: list[str] = []

    def add(self, part: Part) -> None:
        if isinstance(part, ThinkingPart):
            if part.text:
                self._summary.append(part.text)
            if part.signature or part.redacted:
                self._reasoning(part)
            return
        self._summary = []
        if isinstance(part, TextPart):
            if part.text:
                self.items.append({"role": "assistant", "content": part.text})
        elif isinstance(part, ToolCallPart):
            self.items.append(
                {
                    "type": "function_call",
                    "call_id": part.id,
                    "name": part.name,
                    "arguments": part.arguments,
                }
            )

    def _reasoning(self, part: ThinkingPart) -> None:
        summary, self._summary = self._summary, []
        own = part.provider is None or part.provider == self._target.provider
        if not own or not part.signature:
            return
        self.items.append(
            {
                "type": "reasoning",
                "summary": [{"type": "summary_text", "text": t} for t in summary],
                "encrypted_content": part.signature,
            }
        )


def _assistant(message: Message, target: Target) -> list[dict[str, Any]]:
    turn = _Turn(target)
    for part in message.content:
        turn.add(part)
    items = turn.items
    if message.refusal:
        items.append({"role": "assistant", "content": message.refusal})
    return items


def _tool_output(part: ToolResultPart, path: str) -> dict[str, Any]:
    output: str | list[dict[str, Any]]
    if all(isinstance(p, TextPart) for p in part.content):
        output = "".join(p.text for p in part.content if isinstance(p, TextPart))
    else:
        output = [_input_part(p, f"{path}.content[{j}]") for j, p in enumerate(part.content)]
    return {"type": "function_call_output", "call_id": part.tool_call_id, "output": output}


def _input(messages: list[Message], target: Target) -> tuple[str | None, list[dict[str, Any]]]:
    instructions = None
    first = messages[0] if messages else None
    if (
        first is not None
        and first.role == "system"
        and all(isinstance(p, TextPart) for p in first.content)
    ):
        instructions = first.text()
        messages = messages[1:]
    items: list[dict[str, Any]] = []
    for i, m in enumerate(messages):
        path = f"messages[{i}]"
        if m.role == "assistant":
            items.extend(_assistant(m, target))
            continue
        results = [p for p in m.content if isinstance(p, ToolResultPart)]
        items.extend(_tool_output(p, f"{path}.content") for p in results)
        rest: list[Part] = [p for p in m.content if not isinstance(p, ToolResultPart)]
        if rest:
            role = "user" if m.role == "tool" else m.role
            items.append({"role": role, "content": _content(rest, path)})
    return instructions, items


def _tools(request: ChatRequest, body: dict[str, Any]) -> None:
    if request.tools:
        body["tools"] = [
            {
                "type": "function",
                "name": t.name,
                "description": t.description,
                "parameters": t.parameters,
                "strict": bool(t.strict),
            }
            for t in request.tools
        ]
    choice = request.tool_choice
    if choice is not None:
        body["tool_choice"] = (
            {"type": "function", "name": choice.name} if choice.mode == "tool" else choice.mode
        )
    if request.parallel_tool_calls is not None:
        body["parallel_tool_calls"] = request.parallel_tool_calls


def _text(request: ChatRequest, body: dict[str, Any]) -> None:
    fmt = request.response_format
    if fmt is None:
        return
    if fmt.type != "json_schema":
        body["text"] = {"format": {"type": fmt.type}}
        return
    out: dict[str, Any] = {
        "type": "json_schema",
        "name": fmt.name or "response",
        "schema": fmt.schema or {"type": "object"},
    }
    if fmt.strict is not None:
        out["strict"] = fmt.strict
    if fmt.description is not None:
        out["description"] = fmt.description
    body["text"] = {"format": out}


def _reasoning(request: ChatRequest, body: dict[str, Any]) -> None:
    r = request.reasoning
    if r is None:
        return
    out: dict[str, Any] = {}
    effort = openai_effort(r)
    if effort is not None:
        out["effort"] = effort
    if r.summary is not None:
        out["summary"] = r.summary
    if out:
        body["reasoning"] = out
    if effort != "none":
        body["include"] = ["reasoning.encrypted_content"]


_SIMPLE = ("temperature", "top_p", "user", "metadata", "service_tier", "prompt_cache_key")


def encode_body(request: ChatRequest, target: Target) -> dict[str, Any]:
    instructions, items = _input(request.messages, target)
    body: dict[str, Any] = {"model": target.model}
    if instructions is not None:
        body["instructions"] = instructions
    body["input"] = items
    body["store"] = False
    if request.stream:
        body["stream"] = True
    if request.max_tokens is not None:
        body["max_output_tokens"] = request.max_tokens
    for name in _SIMPLE:
        value = getattr(request, name)
        if value is not None:
            body[name] = value
    _tools(request, body)
    _text(request, body)
    _reasoning(request, body)
    for name in target.quirks.pass_extra:
        if name in request.extra:
            body[name] = request.extra[name]
    return body


class OpenAIResponsesCodec:
    """The ``openai_responses`` dialect, client side."""

    name = "openai_responses"

    def encode_request(self, request: ChatRequest, target: Target) -> HttpRequest:
        headers = {"content-type": "application/json"}
        if request.stream:
            headers["accept"] = "text/event-stream"
        headers.update(auth_headers(target))
        headers.update(target.headers)
        return HttpRequest(
            method="POST",
            url=join_url(target.base_url, "responses"),
            headers=headers,
            body=_json(encode_body(request, target)),
            stream=request.stream,
        )

    def decode_response(self, body: bytes, target: Target) -> ChatResponse:
        return decode_response(body, target)

    def stream_decoder(self, target: Target) -> ResponsesStreamDecoder:
        return ResponsesStreamDecoder(target)

    def decode_error(
        self, status: int, headers: Mapping[str, str], body: bytes, target: Target
    ) -> UpstreamError:
        return decode_error(status, headers, body, target)


def decode_response(body: bytes, target: Target) -> ChatResponse:
    try:
        incoming = RESPONSE_DECODER.decode(body)
    except msgspec.DecodeError as exc:
        raise invalid_response(target, str(exc)) from None
    if incoming.error is not None or incoming.status == "failed":
        raise failure(incoming.error, target)
    if incoming.status in ("queued", "in_progress"):
        raise invalid_response(
            target, f"the response is still {incoming.status} (background mode?)"
        )
    if incoming.output is None:
        raise invalid_response(target, "the body has no `output`")
    message = decode_message(incoming.output, target.provider)
    reason, native = finish_of(incoming, bool(message.tool_calls()))
    return ChatResponse(
        id=incoming.id,
        model=incoming.model,
        choices=[
            Choice(index=0, message=message, finish_reason=reason, native_finish_reason=native)
        ],
        usage=usage(incoming.usage) if incoming.usage is not None else None,
        created=int(incoming.created_at),
        provider=target.provider,
        service_tier=incoming.service_tier,
    )


def decode_error(
    status: int, headers: Mapping[str, str], body: bytes, target: Target
) -> UpstreamError:
    """OpenAI's ``{"error": {...}}`` (or anything else a proxy sends)."""
    return openai_errors.decode_error(status, headers, body, target)
