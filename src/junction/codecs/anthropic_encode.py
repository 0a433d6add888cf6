"""Canonical ChatRequest -> Anthropic Messages request body (the egress side)."""

from __future__ import annotations

import base64
import binascii
from typing import Literal

from junction.codecs import anthropic_wire as w
from junction.codecs.base import Target, arguments_object, split_data_url
from junction.types import (
    ChatRequest,
    FilePart,
    GatewayError,
    ImagePart,
    Message,
    Part,
    Reasoning,
    TextPart,
    ThinkingPart,
    ToolCallPart,
    ToolResultPart,
)

DEFAULT_MAX_TOKENS = 4096
"""Anthropic requires ``max_tokens``; sent when the request has none."""

EFFORT_BUDGET: dict[str, int] = {
    "minimal": 1024,
    "low": 1024,
    "medium": 4096,
    "high": 16384,
    "xhigh": 32768,
    "max": 65536,
}
"""Thinking ``budget_tokens`` for a reasoning effort without an explicit budget."""

MIN_BUDGET = 1024
"""Anthropic's smallest accepted ``budget_tokens``."""

_CHOICE_TYPES: dict[str, Literal["auto", "any", "tool", "none"]] = {
    "auto": "auto",
    "none": "none",
    "required": "any",
    "tool": "tool",
}

JSON_OBJECT_INSTRUCTION = "Respond with a single JSON object only."


def encode_body(request: ChatRequest, target: Target) -> w.WRequest:
    system, messages = _encode_messages(request.messages, target)
    max_tokens = request.max_tokens or DEFAULT_MAX_TOKENS
    thinking, max_tokens = _thinking(request.reasoning, max_tokens)
    body = w.WRequest(
        model=target.model,
        messages=messages,
        max_tokens=max_tokens,
        stop_sequences=list(request.stop) or None,
        temperature=request.temperature,
        top_p=request.top_p,
        top_k=request.top_k,
        thinking=thinking,
        cache_control=w.to_wire_cache(request.cache_control),
        stream=True if request.stream else None,
    )
    if request.user:
        body.metadata = w.WMetadata(user_id=request.user)
    _encode_tools(request, body)
    fmt = request.response_format
    if fmt is not None and fmt.type == "json_schema" and fmt.schema is not None:
        body.output_config = w.WOutputConfig(
            format=w.WFormat(type="json_schema", schema=fmt.schema)
        )
    elif fmt is not None and fmt.type == "json_object":
        system.append(w.WText(text=JSON_OBJECT_INSTRUCTION))
    body.system = _system_value(system)
    return body


def _system_value(blocks: list[w.WText]) -> str | list[w.WText] | None:
    if not blocks:
        return None
    if len(blocks) == 1 and blocks[0].cache_control is None:
        return blocks[0].text
    return blocks


def _thinking(reasoning: Reasoning | None, max_tokens: int) -> tuple[w.WThinkingConfig | None, int]:
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
    return w.WThinkingConfig(type="enabled", budget_tokens=budget), max_tokens


def _encode_tools(request: ChatRequest, body: w.WRequest) -> None:
    if not request.tools:
        return
    body.tools = [
        w.WTool(
            name=t.name,
            description=t.description,
            input_schema=t.parameters,
            cache_control=w.to_wire_cache(t.cache_control),
            strict=t.strict,
        )
        for t in request.tools
    ]
    choice = request.tool_choice
    wire: w.WToolChoice | None = None
    if choice is not None:
        kind = _CHOICE_TYPES[choice.mode]
        wire = w.WToolChoice(type=kind, name=choice.name if kind == "tool" else None)
    if request.parallel_tool_calls is False:
        wire = wire or w.WToolChoice(type="auto")
        if wire.type != "none":
            wire.disable_parallel_tool_use = True
    body.tool_choice = wire


def _encode_messages(
    messages: list[Message], target: Target
) -> tuple[list[w.WText], list[w.WMessage]]:
    system: list[w.WText] = []
    out: list[w.WMessage] = []
    for i, message in enumerate(messages):
        if message.role in ("system", "developer"):
            system.extend(
                w.WText(text=p.text, cache_control=w.to_wire_cache(p.cache_control))
                for p in message.content
                if isinstance(p, TextPart) and p.text
            )
            continue
        role: Literal["user", "assistant"] = "assistant" if message.role == "assistant" else "user"
        blocks: list[w.Block] = []
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
            out.append(w.WMessage(role=role, content=blocks))
    for m in out:
        if m.role == "user" and isinstance(m.content, list):
            # Tool results must open the user turn that answers a tool_use.
            m.content.sort(key=lambda b: not isinstance(b, w.WToolResult))
    return system, out


def _encode_part(part: Part, target: Target, path: str) -> w.Block | None:
    if isinstance(part, TextPart):
        if not part.text and part.cache_control is None:
            return None  # Anthropic refuses empty text blocks.
        return w.WText(text=part.text, cache_control=w.to_wire_cache(part.cache_control))
    if isinstance(part, ImagePart):
        return _image(part, path)
    if isinstance(part, FilePart):
        return _document(part, path)
    if isinstance(part, ThinkingPart):
        return _thinking_block(part, target)
    if isinstance(part, ToolCallPart):
        return w.WToolUse(
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


def _thinking_block(part: ThinkingPart, target: Target) -> w.Block | None:
    """Signed thinking goes back to the provider that made it; unsigned
    reasoning (another vendor's) cannot be replayed to Anthropic and is dropped."""
    if part.provider is not None and part.provider != target.provider:
        return None
    if part.redacted:
        return w.WRedacted(data=part.redacted)
    if part.signature:
        return w.WThinking(thinking=part.text, signature=part.signature)
    return None


def _image(part: ImagePart, path: str) -> w.WImage:
    cache = w.to_wire_cache(part.cache_control)
    if part.data is not None:
        if not part.media_type:
            raise GatewayError(
                "invalid_request", "inline image data needs a media_type", param=path
            )
        return w.WImage(source=w.WBase64Source(part.media_type, part.data), cache_control=cache)
    if part.url:
        inline = split_data_url(part.url)
        if inline is not None:
            return w.WImage(source=w.WBase64Source(*inline), cache_control=cache)
        return w.WImage(source=w.WUrlSource(part.url), cache_control=cache)
    raise GatewayError("invalid_request", "image has neither url nor data", param=path)


def _document(part: FilePart, path: str) -> w.WDocument:
    source: w.DocumentSource
    if part.file_id:
        source = w.WFileSource(part.file_id)
    elif part.data is not None:
        source = _inline_document(part.data, part.media_type or "application/pdf", path)
    elif part.url:
        inline = split_data_url(part.url)
        if inline is not None:
            source = _inline_document(inline[1], inline[0], path)
        else:
            source = w.WUrlSource(part.url)
    else:
        raise GatewayError("invalid_request", "file has neither file_id, url nor data", param=path)
    return w.WDocument(
        source=source, title=part.filename, cache_control=w.to_wire_cache(part.cache_control)
    )


def _inline_document(data: str, media_type: str, path: str) -> w.DocumentSource:
    if media_type != "text/plain":
        return w.WBase64Source(media_type, data)
    try:
        text = base64.b64decode(data, validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        raise GatewayError(
            "invalid_request", "text/plain file data must be base64 of UTF-8 text", param=path
        ) from None
    return w.WTextSource(media_type=media_type, data=text)


def _tool_result(part: ToolResultPart, path: str) -> w.WToolResult:
    blocks: list[w.ResultBlock] = []
    for k, item in enumerate(part.content):
        if isinstance(item, TextPart):
            blocks.append(w.WText(item.text, w.to_wire_cache(item.cache_control)))
        elif isinstance(item, ImagePart):
            blocks.append(_image(item, f"{path}.content[{k}]"))
        else:
            blocks.append(_document(item, f"{path}.content[{k}]"))
    content: str | list[w.ResultBlock] | None = blocks or None
    if len(blocks) == 1 and isinstance(blocks[0], w.WText) and blocks[0].cache_control is None:
        content = blocks[0].text
    return w.WToolResult(
        tool_use_id=part.tool_call_id,
        content=content,
        is_error=part.is_error,
        cache_control=w.to_wire_cache(part.cache_control),
    )
