"""Anthropic Messages, server side: ``/v1/messages`` bodies in (door and
simulator), responses and errors out."""

from __future__ import annotations

import base64
from typing import Any, Literal, cast

import msgspec

from junction.codecs._shared.media import arguments_or_empty
from junction.codecs._shared.reasoning import EFFORTS
from junction.codecs._shared.validation import invalid_body
from junction.codecs.anthropic_messages import wire
from junction.types import (
    ChatRequest,
    ChatResponse,
    FilePart,
    GatewayError,
    ImagePart,
    Message,
    Part,
    Reasoning,
    ReasoningEffort,
    ResponseFormat,
    TextPart,
    ThinkingPart,
    Tool,
    ToolCallPart,
    ToolChoice,
    ToolResultPart,
    Usage,
)

_CHOICE_MODES: dict[str, Literal["auto", "none", "required", "tool"]] = {
    "auto": "auto",
    "any": "required",
    "tool": "tool",
    "none": "none",
}


def decode_request(body: bytes, *, count_tokens: bool = False) -> ChatRequest:
    """Validate and translate an Anthropic ``/v1/messages`` body.

    ``count_tokens``: the ``/v1/messages/count_tokens`` body, which has no
    ``max_tokens``. Raises GatewayError(invalid_request) naming the bad
    field (``param``)."""
    raw = _parse(body, count_tokens)
    try:
        incoming = msgspec.convert(raw, wire.Request)
    except msgspec.ValidationError as exc:
        raise invalid_body(exc, "invalid request body") from None
    request = ChatRequest(
        model=incoming.model,
        messages=_system(incoming.system) + _messages(incoming.messages),
        stream=bool(incoming.stream),
        max_tokens=incoming.max_tokens,
        temperature=incoming.temperature,
        top_p=incoming.top_p,
        top_k=incoming.top_k,
        stop=list(incoming.stop_sequences or []),
        cache_control=wire.from_wire_cache(incoming.cache_control),
        extra={k: v for k, v in raw.items() if k not in wire.REQUEST_FIELDS},
    )
    if incoming.metadata is not None and incoming.metadata.user_id is not None:
        request.user = incoming.metadata.user_id
    _tools(incoming, request)
    _reasoning(incoming, request, raw)
    return request


def _parse(body: bytes, count_tokens: bool) -> dict[str, Any]:
    try:
        raw = msgspec.json.decode(body)
    except msgspec.DecodeError as exc:
        raise GatewayError("invalid_request", f"request body is not valid JSON: {exc}") from None
    if not isinstance(raw, dict):
        raise GatewayError("invalid_request", "request body must be a JSON object")
    if count_tokens:
        raw.setdefault("max_tokens", 1)
    for name in ("model", "messages", "max_tokens"):
        if name not in raw:
            raise GatewayError(
                "invalid_request",
                f"{name}: field required (Anthropic Messages needs model, messages and max_tokens)",
                param=name,
            )
    return raw


def _system(system: str | list[wire.Text] | None) -> list[Message]:
    if system is None or system == "":
        return []
    if isinstance(system, str):
        return [Message(role="system", content=[TextPart(text=system)])]
    parts: list[Part] = [
        TextPart(text=b.text, cache_control=wire.from_wire_cache(b.cache_control)) for b in system
    ]
    return [Message(role="system", content=parts)] if parts else []


def _messages(messages: list[wire.Message]) -> list[Message]:
    out: list[Message] = []
    tool_names: dict[str, str] = {}
    for message in messages:
        if isinstance(message.content, str):
            out.append(Message(role=message.role, content=[TextPart(text=message.content)]))
            continue
        results: list[Part] = []
        rest: list[Part] = []
        for block in message.content:
            if isinstance(block, wire.ToolResult):
                results.append(_tool_result(block, tool_names.get(block.tool_use_id)))
                continue
            if isinstance(block, wire.ToolUse):
                tool_names[block.id] = block.name
            rest.append(_part(block))
        if results:
            out.append(Message(role="tool", content=results))
        if rest or not results:
            out.append(Message(role=message.role, content=rest))
    return out


def _part(block: wire.Block) -> Part:
    if isinstance(block, wire.Text):
        return TextPart(text=block.text, cache_control=wire.from_wire_cache(block.cache_control))
    if isinstance(block, wire.Image):
        return _image(block)
    if isinstance(block, wire.Document):
        return _document(block)
    if isinstance(block, wire.ToolUse):
        args = msgspec.json.encode(block.input).decode()
        return ToolCallPart(id=block.id, name=block.name, arguments=args)
    if isinstance(block, wire.Thinking):
        return ThinkingPart(text=block.thinking, signature=block.signature or None)
    if isinstance(block, wire.Redacted):
        return ThinkingPart(redacted=block.data)
    raise AssertionError("tool_result blocks are handled by the caller")  # pragma: no cover


def _image(block: wire.Image) -> ImagePart:
    cache = wire.from_wire_cache(block.cache_control)
    src = block.source
    if isinstance(src, wire.Base64Source):
        return ImagePart(data=src.data, media_type=src.media_type, cache_control=cache)
    return ImagePart(url=src.url, cache_control=cache)


def _document(block: wire.Document) -> FilePart:
    cache = wire.from_wire_cache(block.cache_control)
    src = block.source
    name = block.title
    if isinstance(src, wire.Base64Source):
        return FilePart(
            data=src.data, media_type=src.media_type, filename=name, cache_control=cache
        )
    if isinstance(src, wire.UrlSource):
        return FilePart(url=src.url, filename=name, cache_control=cache)
    if isinstance(src, wire.TextSource):
        data = base64.b64encode(src.data.encode()).decode()
        return FilePart(data=data, media_type=src.media_type, filename=name, cache_control=cache)
    return FilePart(file_id=src.file_id, filename=name, cache_control=cache)


def _tool_result(block: wire.ToolResult, name: str | None) -> ToolResultPart:
    content: list[TextPart | ImagePart | FilePart] = []
    if isinstance(block.content, str):
        content.append(TextPart(text=block.content))
    elif block.content is not None:
        for item in block.content:
            if isinstance(item, wire.Text):
                content.append(TextPart(item.text, wire.from_wire_cache(item.cache_control)))
            elif isinstance(item, wire.Image):
                content.append(_image(item))
            else:
                content.append(_document(item))
    return ToolResultPart(
        tool_call_id=block.tool_use_id,
        content=content,
        is_error=block.is_error,
        name=name,
        cache_control=wire.from_wire_cache(block.cache_control),
    )


def _tools(incoming: wire.Request, request: ChatRequest) -> None:
    for i, tool in enumerate(incoming.tools or []):
        if tool.type not in (None, "custom"):
            raise GatewayError(
                "invalid_request",
                f"tool type {tool.type!r} (an Anthropic server tool) is not supported; "
                "junction forwards custom tools with an input_schema only",
                param=f"tools[{i}].type",
            )
        if tool.input_schema is None:
            raise GatewayError(
                "invalid_request", f"tools[{i}] needs an input_schema", param=f"tools[{i}]"
            )
        request.tools.append(
            Tool(
                name=tool.name,
                description=tool.description,
                parameters=tool.input_schema,
                strict=tool.strict,
                cache_control=wire.from_wire_cache(tool.cache_control),
            )
        )
    choice = incoming.tool_choice
    if choice is None:
        return
    if choice.type == "tool" and not choice.name:
        raise GatewayError(
            "invalid_request",
            'tool_choice of type "tool" needs the tool\'s name',
            param="tool_choice.name",
        )
    mode = _CHOICE_MODES[choice.type]
    request.tool_choice = ToolChoice(mode=mode, name=choice.name if mode == "tool" else None)
    if choice.disable_parallel_tool_use:
        request.parallel_tool_calls = False


def _reasoning(incoming: wire.Request, request: ChatRequest, raw: dict[str, Any]) -> None:
    thinking = incoming.thinking
    if thinking is not None:
        if thinking.type == "enabled":
            if thinking.budget_tokens is None:
                raise GatewayError(
                    "invalid_request",
                    'thinking of type "enabled" needs budget_tokens',
                    param="thinking.budget_tokens",
                )
            request.reasoning = Reasoning(max_tokens=thinking.budget_tokens)
        elif thinking.type == "disabled":
            request.reasoning = Reasoning(enabled=False)
        else:
            request.reasoning = Reasoning()
    config = incoming.output_config
    if config is None:
        return
    if config.effort is not None:
        if config.effort not in EFFORTS:
            raise GatewayError(
                "invalid_request",
                f"output_config.effort {config.effort!r} is not one of {sorted(EFFORTS)}",
                param="output_config.effort",
            )
        request.reasoning = request.reasoning or Reasoning()
        request.reasoning.effort = cast(ReasoningEffort, config.effort)
    if config.format is not None:
        request.response_format = ResponseFormat(type="json_schema", schema=config.format.schema)
    rest = {k: v for k, v in raw["output_config"].items() if k not in ("effort", "format")}
    if rest:
        request.extra["output_config"] = rest


def part_to_block(part: Part) -> dict[str, Any] | None:
    if isinstance(part, TextPart):
        return {"type": "text", "text": part.text}
    if isinstance(part, ThinkingPart):
        if part.redacted:
            return {"type": "redacted_thinking", "data": part.redacted}
        return {"type": "thinking", "thinking": part.text, "signature": part.signature or ""}
    if isinstance(part, ToolCallPart):
        return {
            "type": "tool_use",
            "id": part.id,
            "name": part.name,
            "input": arguments_or_empty(part),
        }
    return None


def usage_to_wire(usage: Usage | None) -> wire.ServerUsage:
    usage = usage or Usage()
    fresh = usage.prompt_tokens - usage.cached_tokens - usage.cache_write_tokens
    return wire.ServerUsage(
        input_tokens=max(fresh, 0),
        output_tokens=usage.completion_tokens,
        cache_creation_input_tokens=usage.cache_write_tokens,
        cache_read_input_tokens=usage.cached_tokens,
        output_tokens_details=(
            {"thinking_tokens": usage.reasoning_tokens} if usage.reasoning_tokens else None
        ),
    )


def encode_response(response: ChatResponse) -> bytes:
    """A canonical response as an Anthropic ``message`` (choice 0 only: no ``n``)."""
    choice = response.choices[0] if response.choices else None
    content: list[dict[str, Any]] = []
    stop_reason: str | None = None
    stop_sequence: str | None = None
    if choice is not None:
        content = [b for p in choice.message.content if (b := part_to_block(p)) is not None]
        if choice.message.refusal and not content:
            content.append({"type": "text", "text": choice.message.refusal})
        stop_reason = wire.native_stop_reason(choice.finish_reason, choice.native_finish_reason)
        stop_sequence = choice.stop_sequence
        if stop_reason == "end_turn" and stop_sequence:
            stop_reason = "stop_sequence"
    return msgspec.json.encode(
        {
            "id": response.id,
            "type": "message",
            "role": "assistant",
            "model": response.model,
            "content": content,
            "stop_reason": stop_reason,
            "stop_sequence": stop_sequence,
            "usage": usage_to_wire(response.usage),
        }
    )


def encode_error(err: GatewayError) -> bytes:
    """``{"type": "error", "error": {"type", "message"}}``."""
    return wire.error_body(err)
