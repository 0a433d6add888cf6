"""Bedrock Converse, server side (the simulator): request bodies in,
responses and errors (with ``x-amzn-errortype``) out."""

from __future__ import annotations

import base64
from typing import Any, cast

import msgspec

from junction.codecs._shared.media import arguments_or_empty
from junction.codecs._shared.reasoning import EFFORTS
from junction.codecs._shared.validation import invalid, invalid_body
from junction.codecs.bedrock_converse import wire
from junction.types import (
    CacheControl,
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


def decode_request(body: bytes, *, model: str, stream: bool) -> ChatRequest:
    """Validate and translate a Converse / ConverseStream body; ``model`` is the
    ``modelId`` from the URL path and ``stream`` whether it was ``converse-stream``.

    Raises GatewayError(invalid_request) naming the bad field (``param``)."""
    raw = _parse(body)
    try:
        incoming = msgspec.convert(raw, wire.Request)
    except msgspec.ValidationError as exc:
        raise invalid_body(exc, "invalid Converse request body") from None
    request = ChatRequest(
        model=model,
        messages=_system(incoming.system or []) + _messages(incoming.messages),
        stream=stream,
        include_usage=stream,
        extra={k: v for k, v in raw.items() if k not in wire.REQUEST_FIELDS},
    )
    config = incoming.inference_config
    if config is not None:
        request.max_tokens = config.max_tokens
        request.temperature = config.temperature
        request.top_p = config.top_p
        request.stop = list(config.stop_sequences or [])
    _tools(incoming.tool_config, request)
    _additional(incoming.additional_model_request_fields, request)
    _output(incoming.output_config, request)
    if incoming.request_metadata:
        request.metadata = dict(incoming.request_metadata)
    if incoming.service_tier is not None:
        request.service_tier = incoming.service_tier.type
    return request


def _parse(body: bytes) -> dict[str, Any]:
    try:
        raw = msgspec.json.decode(body)
    except msgspec.DecodeError as exc:
        raise invalid(f"request body is not valid JSON: {exc}", None) from None
    if not isinstance(raw, dict):
        raise invalid("request body must be a JSON object", None)
    if not raw.get("messages"):
        raise invalid(
            "messages: a Converse request needs at least one message "
            '(e.g. [{"role": "user", "content": [{"text": "Hello"}]}])',
            "messages",
        )
    return raw


def _cache(point: wire.CachePoint) -> CacheControl:
    return CacheControl(type="ephemeral", ttl=point.ttl)


def _system(blocks: list[wire.System]) -> list[Message]:
    parts: list[Part] = []
    for i, block in enumerate(blocks):
        if block.text is not None:
            parts.append(TextPart(text=block.text))
        elif block.cache_point is not None:
            if parts and isinstance(parts[-1], TextPart):
                parts[-1].cache_control = _cache(block.cache_point)
        else:
            raise invalid(
                "system blocks other than text and cachePoint (guardContent) are not supported",
                f"system[{i}]",
            )
    return [Message(role="system", content=parts)] if parts else []


def _messages(messages: list[wire.Message]) -> list[Message]:
    out: list[Message] = []
    names: dict[str, str] = {}
    for i, message in enumerate(messages):
        results: list[Part] = []
        rest: list[Part] = []
        last: list[Part] | None = None
        for j, block in enumerate(message.content):
            path = f"messages[{i}].content[{j}]"
            if block.cache_point is not None:
                _attach_cache(last, block.cache_point)
                continue
            if block.tool_result is not None:
                results.append(_tool_result(block.tool_result, names, path))
                last = results
                continue
            part = _part(block, path)
            if isinstance(part, ToolCallPart):
                names[part.id] = part.name
            rest.append(part)
            last = rest
        if results:
            out.append(Message(role="tool", content=results))
        if rest or not results:
            out.append(Message(role=message.role, content=rest))
    return out


def _attach_cache(parts: list[Part] | None, point: wire.CachePoint) -> None:
    if not parts:
        return
    target = parts[-1]
    if isinstance(target, TextPart | ImagePart | FilePart | ToolResultPart):
        target.cache_control = _cache(point)


def _part(block: wire.Block, path: str) -> Part:
    if block.text is not None:
        return TextPart(text=block.text)
    if block.image is not None:
        return _image(block.image)
    if block.document is not None:
        return _document(block.document, path)
    if block.tool_use is not None:
        use = block.tool_use
        if use.type not in (None, "tool_use"):
            raise invalid(
                f"toolUse of type {use.type!r} (a server tool) is not supported", f"{path}.toolUse"
            )
        args = msgspec.json.encode(use.input if use.input is not None else {}).decode()
        return ToolCallPart(id=use.tool_use_id, name=use.name, arguments=args)
    if block.reasoning_content is not None:
        return _reasoning(block.reasoning_content, path)
    kinds = [k for k in wire.Block.__struct_fields__ if getattr(block, k) is not None]
    what = ", ".join(kinds) or "an empty block"
    raise invalid(
        f"content block {what} is not supported; send text, image, document, toolUse, "
        "toolResult, reasoningContent or cachePoint",
        path,
    )


def _reasoning(block: wire.Reasoning, path: str) -> ThinkingPart:
    if block.redacted_content is not None:
        return ThinkingPart(redacted=block.redacted_content)
    if block.reasoning_text is None:
        raise invalid("reasoningContent needs reasoningText or redactedContent", path)
    text = block.reasoning_text
    return ThinkingPart(text=text.text, signature=text.signature or None)


def _image(image: wire.Image) -> ImagePart:
    media = wire.IMAGE_MEDIA.get(image.format, f"image/{image.format}")
    source = image.source
    if source.s3_location is not None:
        return ImagePart(url=source.s3_location.uri, media_type=media)
    return ImagePart(data=source.bytes or "", media_type=media)


def _document(doc: wire.Document, path: str) -> FilePart:
    media = wire.DOCUMENT_MEDIA.get(doc.format or "", "application/octet-stream")
    source = doc.source
    if source.s3_location is not None:
        return FilePart(url=source.s3_location.uri, media_type=media, filename=doc.name)
    if source.bytes is not None:
        return FilePart(data=source.bytes, media_type=media, filename=doc.name)
    if source.text is not None:
        data = base64.b64encode(source.text.encode()).decode()
        return FilePart(data=data, media_type="text/plain", filename=doc.name)
    raise invalid("document source needs bytes, text or s3Location", f"{path}.document.source")


def _tool_result(result: wire.ToolResult, names: dict[str, str], path: str) -> ToolResultPart:
    content: list[TextPart | ImagePart | FilePart] = []
    for k, item in enumerate(result.content):
        if item.text is not None:
            content.append(TextPart(text=item.text))
        elif item.json is not None:
            content.append(TextPart(text=msgspec.json.encode(item.json).decode()))
        elif item.image is not None:
            content.append(_image(item.image))
        elif item.document is not None:
            content.append(_document(item.document, f"{path}.toolResult.content[{k}]"))
        else:
            raise invalid(
                "tool result content must be text, json, image or document",
                f"{path}.toolResult.content[{k}]",
            )
    return ToolResultPart(
        tool_call_id=result.tool_use_id,
        content=content,
        is_error=result.status == "error",
        name=names.get(result.tool_use_id),
    )


def _tools(config: wire.ToolConfig | None, request: ChatRequest) -> None:
    if config is None:
        return
    for i, tool in enumerate(config.tools):
        if tool.cache_point is not None:
            if request.tools:
                request.tools[-1].cache_control = _cache(tool.cache_point)
            continue
        spec = tool.tool_spec
        if spec is None:
            raise invalid(
                "only toolSpec tools (and cachePoint) are supported, not system tools",
                f"toolConfig.tools[{i}]",
            )
        request.tools.append(
            Tool(
                name=spec.name,
                description=spec.description,
                parameters=spec.input_schema.json,
                strict=spec.strict,
            )
        )
    choice = config.tool_choice
    if choice is None:
        return
    if choice.tool is not None:
        request.tool_choice = ToolChoice(mode="tool", name=choice.tool.name)
    elif choice.any is not None:
        request.tool_choice = ToolChoice(mode="required")
    elif choice.auto is not None:
        request.tool_choice = ToolChoice(mode="auto")


def _additional(fields: dict[str, Any] | None, request: ChatRequest) -> None:
    """top_k and reasoning out of ``additionalModelRequestFields``; the rest is
    kept in ``extra["additionalModelRequestFields"]``."""
    if not fields:
        return
    rest = dict(fields)
    top_k = rest.pop("top_k", None)
    nested = rest.get("inferenceConfig")
    if top_k is None and isinstance(nested, dict) and set(nested) == {"topK"}:
        top_k = rest.pop("inferenceConfig")["topK"]
    if top_k is not None:
        if not isinstance(top_k, int) or isinstance(top_k, bool):
            raise invalid("top_k must be an integer", "additionalModelRequestFields.top_k")
        request.top_k = top_k
    thinking = rest.get("thinking")
    if isinstance(thinking, dict):
        kind, budget = thinking.get("type"), thinking.get("budget_tokens")
        if kind == "enabled" and isinstance(budget, int):
            request.reasoning = Reasoning(max_tokens=budget)
            rest.pop("thinking")
        elif kind == "disabled":
            request.reasoning = Reasoning(enabled=False)
            rest.pop("thinking")
    for name in ("reasoning_effort", "reasoning_config"):
        effort = rest.get(name)
        if isinstance(effort, str) and effort in EFFORTS:
            request.reasoning = Reasoning(effort=cast(ReasoningEffort, effort))
            rest.pop(name)
    if rest:
        request.extra["additionalModelRequestFields"] = rest


def _output(config: wire.OutputConfig | None, request: ChatRequest) -> None:
    fmt = config.text_format if config is not None else None
    if fmt is None or fmt.structure.json_schema is None:
        return
    spec = fmt.structure.json_schema
    param = "outputConfig.textFormat.structure.jsonSchema.schema"
    try:
        schema = msgspec.json.decode(spec.schema)
    except msgspec.DecodeError:
        raise invalid("the JSON schema must be JSON text", param) from None
    if not isinstance(schema, dict):
        raise invalid("the JSON schema must be a JSON object", param)
    request.response_format = ResponseFormat(
        type="json_schema", name=spec.name, schema=schema, description=spec.description
    )


def part_to_block(part: Part) -> dict[str, Any] | None:
    if isinstance(part, TextPart):
        return {"text": part.text}
    if isinstance(part, ThinkingPart):
        if part.redacted:
            return {"reasoningContent": {"redactedContent": part.redacted}}
        text: dict[str, Any] = {"text": part.text}
        if part.signature:
            text["signature"] = part.signature
        return {"reasoningContent": {"reasoningText": text}}
    if isinstance(part, ToolCallPart):
        use = {"toolUseId": part.id, "name": part.name, "input": arguments_or_empty(part)}
        return {"toolUse": use}
    return None


def usage_to_wire(usage: Usage | None) -> dict[str, int]:
    usage = usage or Usage()
    fresh = max(usage.prompt_tokens - usage.cached_tokens - usage.cache_write_tokens, 0)
    out = {
        "inputTokens": fresh,
        "outputTokens": usage.completion_tokens,
        "totalTokens": usage.prompt_tokens + usage.completion_tokens,
    }
    if usage.cached_tokens or usage.cache_write_tokens:
        out["cacheReadInputTokens"] = usage.cached_tokens
        out["cacheWriteInputTokens"] = usage.cache_write_tokens
    return out


def encode_response(response: ChatResponse, latency_ms: int = 0) -> bytes:
    """A canonical response as a ConverseResponse (choice 0: Converse has no ``n``)."""
    choice = response.choices[0] if response.choices else None
    content: list[dict[str, Any]] = []
    stop = "end_turn"
    if choice is not None:
        content = [b for p in choice.message.content if (b := part_to_block(p)) is not None]
        if choice.message.refusal and not content:
            content.append({"text": choice.message.refusal})
        stop = wire.native_stop_reason(choice.finish_reason, choice.native_finish_reason)
        if stop == "end_turn" and choice.stop_sequence:
            stop = "stop_sequence"
    return msgspec.json.encode(
        {
            "output": {"message": {"role": "assistant", "content": content}},
            "stopReason": stop,
            "usage": usage_to_wire(response.usage),
            "metrics": {"latencyMs": latency_ms},
        }
    )


def encode_error(err: GatewayError) -> bytes:
    """``{"message": ...}``; the exception name goes in the ``x-amzn-errortype``
    header (see :func:`error_headers`)."""
    return msgspec.json.encode({"message": err.message})


def error_headers(err: GatewayError) -> dict[str, str]:
    name = wire.error_type(err)
    return {"x-amzn-errortype": f"{name}:http://internal.amazon.com/coral/com.amazon.bedrock/"}
