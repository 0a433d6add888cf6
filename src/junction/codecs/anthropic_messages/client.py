"""Anthropic Messages, client side: canonical request -> ``POST /v1/messages``
and what Anthropic sends back (response bodies, errors, token counts).
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from typing import Any, Literal

import msgspec

from junction.codecs._shared.media import arguments_object, split_data_url
from junction.codecs._shared.reasoning import MIN_THINKING_BUDGET, THINKING_BUDGET
from junction.codecs.anthropic_messages import wire
from junction.codecs.anthropic_messages.client_stream import (
    AnthropicStreamDecoder,
    error_from_object,
    usage_from_wire,
)
from junction.codecs.base import Target, auth_headers, join_url
from junction.types import (
    ChatRequest,
    ChatResponse,
    Choice,
    FilePart,
    GatewayError,
    HttpRequest,
    ImagePart,
    Message,
    Part,
    Reasoning,
    TextPart,
    ThinkingPart,
    ToolCallPart,
    ToolResultPart,
    UpstreamError,
    upstream_error,
)

DEFAULT_ANTHROPIC_VERSION = "2023-06-01"


class AnthropicMessagesCodec:
    """Client side of the Anthropic Messages API."""

    name = "anthropic_messages"

    def encode_request(self, request: ChatRequest, target: Target) -> HttpRequest:
        body = encode_body(request, target)
        return HttpRequest(
            method="POST",
            url=_messages_url(target.base_url),
            headers=_headers(target),
            body=msgspec.json.encode(body),
            stream=request.stream,
        )

    def decode_response(self, body: bytes, target: Target) -> ChatResponse:
        return decode_response(body, target)

    def stream_decoder(self, target: Target) -> AnthropicStreamDecoder:
        return AnthropicStreamDecoder(target)

    def decode_error(
        self, status: int, headers: Mapping[str, str], body: bytes, target: Target
    ) -> UpstreamError:
        return decode_error(status, headers, body, target)

    def encode_count_tokens(self, request: ChatRequest, target: Target) -> HttpRequest:
        """``POST /v1/messages/count_tokens``: the request's model, system,
        messages, tools, tool choice and thinking, nothing else."""
        full = msgspec.to_builtins(encode_body(request, target))
        body = {k: v for k, v in full.items() if k in _COUNTED}
        return HttpRequest(
            method="POST",
            url=_messages_url(target.base_url) + "/count_tokens",
            headers=_headers(target),
            body=msgspec.json.encode(body),
        )

    def decode_count_tokens(self, body: bytes) -> int:
        return msgspec.json.decode(body, type=wire.TokenCount).input_tokens


_COUNTED = frozenset({"model", "messages", "system", "tools", "tool_choice", "thinking"})


def _messages_url(base_url: str) -> str:
    if base_url.rstrip("/").endswith("/v1"):
        return join_url(base_url, "messages")
    return join_url(base_url, "/v1/messages")


def _headers(target: Target) -> dict[str, str]:
    headers = {
        "content-type": "application/json",
        "anthropic-version": target.api_version or DEFAULT_ANTHROPIC_VERSION,
    }
    if target.quirks.auth == "bearer":
        if target.api_key:
            headers["x-api-key"] = target.api_key
    else:
        headers.update(auth_headers(target))
    headers.update(target.headers)
    return headers


DEFAULT_MAX_TOKENS = 4096
"""Anthropic requires ``max_tokens``; sent when the request has none."""


EFFORT_BUDGET = THINKING_BUDGET


MIN_BUDGET = MIN_THINKING_BUDGET


_CHOICE_TYPES: dict[str, Literal["auto", "any", "tool", "none"]] = {
    "auto": "auto",
    "none": "none",
    "required": "any",
    "tool": "tool",
}


JSON_OBJECT_INSTRUCTION = "Respond with a single JSON object only."


def encode_body(request: ChatRequest, target: Target) -> wire.Request:
    system, messages = _encode_messages(request.messages, target)
    max_tokens = request.max_tokens or DEFAULT_MAX_TOKENS
    thinking, max_tokens = _thinking(request.reasoning, max_tokens)
    body = wire.Request(
        model=target.model,
        messages=messages,
        max_tokens=max_tokens,
        stop_sequences=list(request.stop) or None,
        temperature=request.temperature,
        top_p=request.top_p,
        top_k=request.top_k,
        thinking=thinking,
        cache_control=wire.to_wire_cache(request.cache_control),
        stream=True if request.stream else None,
    )
    if request.user:
        body.metadata = wire.Metadata(user_id=request.user)
    _encode_tools(request, body)
    fmt = request.response_format
    if fmt is not None and fmt.type == "json_schema" and fmt.schema is not None:
        body.output_config = wire.OutputConfig(
            format=wire.Format(type="json_schema", schema=fmt.schema)
        )
    elif fmt is not None and fmt.type == "json_object":
        system.append(wire.Text(text=JSON_OBJECT_INSTRUCTION))
    body.system = _system_value(system)
    return body


def _system_value(blocks: list[wire.Text]) -> str | list[wire.Text] | None:
    if not blocks:
        return None
    if len(blocks) == 1 and blocks[0].cache_control is None:
        return blocks[0].text
    return blocks


def _thinking(
    reasoning: Reasoning | None, max_tokens: int
) -> tuple[wire.ThinkingConfig | None, int]:
    """The ``thinking`` config and the ``max_tokens`` to send with it.

    Anthropic counts thinking inside ``max_tokens`` and wants the budget
    below it: when it is not, ``max_tokens`` becomes budget + the requested
    answer length.
    """
    if reasoning is None or not reasoning.enabled or reasoning.effort == "none":
        return None, max_tokens
    budget = reasoning.max_tokens or EFFORT_BUDGET[reasoning.effort or "medium"]
    budget = max(budget, MIN_BUDGET)
    if max_tokens <= budget:
        max_tokens = budget + max_tokens
    return wire.ThinkingConfig(type="enabled", budget_tokens=budget), max_tokens


def _encode_tools(request: ChatRequest, body: wire.Request) -> None:
    if not request.tools:
        return
    body.tools = [
        wire.Tool(
            name=t.name,
            description=t.description,
            input_schema=t.parameters,
            cache_control=wire.to_wire_cache(t.cache_control),
            strict=t.strict,
        )
        for t in request.tools
    ]
    choice = request.tool_choice
    incoming: wire.ToolChoice | None = None
    if choice is not None:
        kind = _CHOICE_TYPES[choice.mode]
        incoming = wire.ToolChoice(type=kind, name=choice.name if kind == "tool" else None)
    if request.parallel_tool_calls is False:
        incoming = incoming or wire.ToolChoice(type="auto")
        if incoming.type != "none":
            incoming.disable_parallel_tool_use = True
    body.tool_choice = incoming


def _encode_messages(
    messages: list[Message], target: Target
) -> tuple[list[wire.Text], list[wire.Message]]:
    system: list[wire.Text] = []
    out: list[wire.Message] = []
    for i, message in enumerate(messages):
        if message.role in ("system", "developer"):
            system.extend(
                wire.Text(text=p.text, cache_control=wire.to_wire_cache(p.cache_control))
                for p in message.content
                if isinstance(p, TextPart) and p.text
            )
            continue
        role: Literal["user", "assistant"] = "assistant" if message.role == "assistant" else "user"
        blocks: list[wire.Block] = []
        for j, part in enumerate(message.content):
            block = _encode_part(part, target, f"messages[{i}].content[{j}]")
            if block is not None:
                blocks.append(block)
        if not blocks:
            continue
        if out and out[-1].role == role:
            prev = out[-1].content
            assert isinstance(prev, list)
            prev.extend(blocks)
        else:
            out.append(wire.Message(role=role, content=blocks))
    for m in out:
        if m.role == "user" and isinstance(m.content, list):
            # Tool results must open the user turn that answers a tool_use.
            m.content.sort(key=lambda b: not isinstance(b, wire.ToolResult))
    return system, out


def _encode_part(part: Part, target: Target, path: str) -> wire.Block | None:
    if isinstance(part, TextPart):
        if not part.text and part.cache_control is None:
            return None  # Anthropic refuses empty text blocks.
        return wire.Text(text=part.text, cache_control=wire.to_wire_cache(part.cache_control))
    if isinstance(part, ImagePart):
        return _image(part, path)
    if isinstance(part, FilePart):
        return _document(part, path)
    if isinstance(part, ThinkingPart):
        return _thinking_block(part, target)
    if isinstance(part, ToolCallPart):
        return wire.ToolUse(
            id=part.id,
            name=part.name,
            input=arguments_object(part, path, "Anthropic needs tool_use input"),
        )
    if isinstance(part, ToolResultPart):
        return _tool_result(part, path)
    raise GatewayError(
        "invalid_request",
        f"Anthropic Messages cannot take {part.__class__.__name__} content; "
        "send text, images, documents or tool calls",
        param=path,
    )


def _thinking_block(part: ThinkingPart, target: Target) -> wire.Block | None:
    """Signed thinking goes back to the provider that made it; unsigned
    reasoning (another vendor's) cannot be replayed to Anthropic and is dropped."""
    if part.provider is not None and part.provider != target.provider:
        return None
    if part.redacted:
        return wire.Redacted(data=part.redacted)
    if part.signature:
        return wire.Thinking(thinking=part.text, signature=part.signature)
    return None


def _image(part: ImagePart, path: str) -> wire.Image:
    cache = wire.to_wire_cache(part.cache_control)
    if part.data is not None:
        if not part.media_type:
            raise GatewayError(
                "invalid_request", "inline image data needs a media_type", param=path
            )
        return wire.Image(source=wire.Base64Source(part.media_type, part.data), cache_control=cache)
    if part.url:
        inline = split_data_url(part.url)
        if inline is not None:
            return wire.Image(source=wire.Base64Source(*inline), cache_control=cache)
        return wire.Image(source=wire.UrlSource(part.url), cache_control=cache)
    raise GatewayError("invalid_request", "image has neither url nor data", param=path)


def _document(part: FilePart, path: str) -> wire.Document:
    source: wire.DocumentSource
    if part.file_id:
        source = wire.FileSource(part.file_id)
    elif part.data is not None:
        source = _inline_document(part.data, part.media_type or "application/pdf", path)
    elif part.url:
        inline = split_data_url(part.url)
        if inline is not None:
            source = _inline_document(inline[1], inline[0], path)
        else:
            source = wire.UrlSource(part.url)
    else:
        raise GatewayError("invalid_request", "file has neither file_id, url nor data", param=path)
    return wire.Document(
        source=source, title=part.filename, cache_control=wire.to_wire_cache(part.cache_control)
    )


def _inline_document(data: str, media_type: str, path: str) -> wire.DocumentSource:
    if media_type != "text/plain":
        return wire.Base64Source(media_type, data)
    try:
        text = base64.b64decode(data, validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        raise GatewayError(
            "invalid_request", "text/plain file data must be base64 of UTF-8 text", param=path
        ) from None
    return wire.TextSource(media_type=media_type, data=text)


def _tool_result(part: ToolResultPart, path: str) -> wire.ToolResult:
    blocks: list[wire.ResultBlock] = []
    for k, item in enumerate(part.content):
        if isinstance(item, TextPart):
            blocks.append(wire.Text(item.text, wire.to_wire_cache(item.cache_control)))
        elif isinstance(item, ImagePart):
            blocks.append(_image(item, f"{path}.content[{k}]"))
        else:
            blocks.append(_document(item, f"{path}.content[{k}]"))
    content: str | list[wire.ResultBlock] | None = blocks or None
    if len(blocks) == 1 and isinstance(blocks[0], wire.Text) and blocks[0].cache_control is None:
        content = blocks[0].text
    return wire.ToolResult(
        tool_use_id=part.tool_call_id,
        content=content,
        is_error=part.is_error,
        cache_control=wire.to_wire_cache(part.cache_control),
    )


_response_decoder = msgspec.json.Decoder(wire.Response)


def decode_response(body: bytes, target: Target) -> ChatResponse:
    try:
        incoming = _response_decoder.decode(body)
    except (msgspec.DecodeError, msgspec.ValidationError) as exc:
        raise UpstreamError(
            "provider_unavailable",
            f"{target.provider} sent a response that is not an Anthropic message: {exc}",
            provider=target.provider,
        ) from None
    if incoming.type == "error":
        raise error_from_object(target.provider, incoming.error or {}, None)
    parts: list[Part] = []
    warnings: list[str] = []
    for block in incoming.content:
        part = block_to_part(block, target.provider)
        if part is None:
            warnings.append(f"dropped Anthropic content block of type {block.get('type')!r}")
        else:
            parts.append(part)
    choice = Choice(
        index=0,
        message=Message(role="assistant", content=parts),
        finish_reason=wire.finish_reason(incoming.stop_reason),
        native_finish_reason=incoming.stop_reason,
        stop_sequence=incoming.stop_sequence,
    )
    return ChatResponse(
        id=incoming.id,
        model=incoming.model or target.model,
        choices=[choice],
        usage=usage_from_wire(incoming.usage) if incoming.usage is not None else None,
        provider=target.provider,
        warnings=warnings,
    )


def block_to_part(block: dict[str, Any], provider: str) -> Part | None:
    """One response content block as a canonical part (None: not one junction carries,
    such as server-tool blocks)."""
    kind = block.get("type")
    if kind == "text":
        return TextPart(text=str(block.get("text", "")))
    if kind == "thinking":
        signature = block.get("signature") or None
        return ThinkingPart(
            text=str(block.get("thinking", "")), signature=signature, provider=provider
        )
    if kind == "redacted_thinking":
        return ThinkingPart(redacted=str(block.get("data", "")), provider=provider)
    if kind == "tool_use":
        args = msgspec.json.encode(block.get("input") or {}).decode()
        return ToolCallPart(
            id=str(block.get("id", "")), name=str(block.get("name", "")), arguments=args
        )
    return None


def decode_error(
    status: int, headers: Mapping[str, str], body: bytes, target: Target
) -> UpstreamError:
    retry_after = _retry_after(headers)
    try:
        data = msgspec.json.decode(body)
    except msgspec.DecodeError:
        data = None
    error = data.get("error") if isinstance(data, dict) else None
    if isinstance(error, dict):
        return error_from_object(target.provider, error, status, retry_after)
    text = body.decode("utf-8", errors="replace").strip()[:500] or "(empty body)"
    return upstream_error(target.provider, status, text, retry_after=retry_after)


def _retry_after(headers: Mapping[str, str]) -> float | None:
    lowered = {k.lower(): v for k, v in headers.items()}
    for name, scale in (("retry-after-ms", 1000.0), ("retry-after", 1.0)):
        value = lowered.get(name)
        if value is None:
            continue
        try:
            return max(float(value) / scale, 0.0)
        except ValueError:
            continue  # an HTTP date: not worth parsing here
    return None
