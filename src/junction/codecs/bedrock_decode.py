"""Bedrock Converse request body -> canonical ChatRequest (the ingress / simulator side)."""

from __future__ import annotations

import base64
import re
from typing import Any, cast, get_args

import msgspec

from junction.codecs import bedrock_wire as w
from junction.types import (
    CacheControl,
    ChatRequest,
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
)

_PATH = re.compile(r"^(?P<msg>.*?)(?: - at `\$\.?(?P<path>[^`]*)`)?$", re.S)
_EFFORTS = frozenset(get_args(ReasoningEffort))


def _invalid(message: str, param: str | None) -> GatewayError:
    return GatewayError("invalid_request", message, param=param)


def decode_request(body: bytes, *, model: str, stream: bool) -> ChatRequest:
    """Validate and translate a Converse / ConverseStream body; ``model`` is the
    ``modelId`` from the URL path and ``stream`` whether it was ``converse-stream``.

    Raises GatewayError(invalid_request) naming the bad field (``param``)."""
    raw = _parse(body)
    try:
        wire = msgspec.convert(raw, w.WRequest)
    except msgspec.ValidationError as exc:
        match = _PATH.match(str(exc))
        msg = match["msg"] if match else str(exc)
        param = match["path"] if match and match["path"] else None
        where = f" at {param}" if param else ""
        raise _invalid(f"invalid Converse request body{where}: {msg}", param) from None
    request = ChatRequest(
        model=model,
        messages=_system(wire.system or []) + _messages(wire.messages),
        stream=stream,
        include_usage=stream,
        extra={k: v for k, v in raw.items() if k not in w.REQUEST_FIELDS},
    )
    config = wire.inference_config
    if config is not None:
        request.max_tokens = config.max_tokens
        request.temperature = config.temperature
        request.top_p = config.top_p
        request.stop = list(config.stop_sequences or [])
    _tools(wire.tool_config, request)
    _additional(wire.additional_model_request_fields, request)
    _output(wire.output_config, request)
    if wire.request_metadata:
        request.metadata = dict(wire.request_metadata)
    if wire.service_tier is not None:
        request.service_tier = wire.service_tier.type
    return request


def _parse(body: bytes) -> dict[str, Any]:
    try:
        raw = msgspec.json.decode(body)
    except msgspec.DecodeError as exc:
        raise _invalid(f"request body is not valid JSON: {exc}", None) from None
    if not isinstance(raw, dict):
        raise _invalid("request body must be a JSON object", None)
    if not raw.get("messages"):
        raise _invalid(
            "messages: a Converse request needs at least one message "
            '(e.g. [{"role": "user", "content": [{"text": "Hello"}]}])',
            "messages",
        )
    return raw


def _cache(point: w.WCachePoint) -> CacheControl:
    return CacheControl(type="ephemeral", ttl=point.ttl)


def _system(blocks: list[w.WSystem]) -> list[Message]:
    parts: list[Part] = []
    for i, block in enumerate(blocks):
        if block.text is not None:
            parts.append(TextPart(text=block.text))
        elif block.cache_point is not None:
            if parts and isinstance(parts[-1], TextPart):
                parts[-1].cache_control = _cache(block.cache_point)
        else:
            raise _invalid(
                "system blocks other than text and cachePoint (guardContent) are not supported",
                f"system[{i}]",
            )
    return [Message(role="system", content=parts)] if parts else []


def _messages(messages: list[w.WMessage]) -> list[Message]:
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


def _attach_cache(parts: list[Part] | None, point: w.WCachePoint) -> None:
    if not parts:
        return
    target = parts[-1]
    if isinstance(target, TextPart | ImagePart | FilePart | ToolResultPart):
        target.cache_control = _cache(point)


def _part(block: w.WBlock, path: str) -> Part:
    if block.text is not None:
        return TextPart(text=block.text)
    if block.image is not None:
        return _image(block.image)
    if block.document is not None:
        return _document(block.document, path)
    if block.tool_use is not None:
        use = block.tool_use
        if use.type not in (None, "tool_use"):
            raise _invalid(
                f"toolUse of type {use.type!r} (a server tool) is not supported", f"{path}.toolUse"
            )
        args = msgspec.json.encode(use.input if use.input is not None else {}).decode()
        return ToolCallPart(id=use.tool_use_id, name=use.name, arguments=args)
    if block.reasoning_content is not None:
        return _reasoning(block.reasoning_content, path)
    kinds = [k for k in w.WBlock.__struct_fields__ if getattr(block, k) is not None]
    what = ", ".join(kinds) or "an empty block"
    raise _invalid(
        f"content block {what} is not supported; send text, image, document, toolUse, "
        "toolResult, reasoningContent or cachePoint",
        path,
    )


def _reasoning(block: w.WReasoning, path: str) -> ThinkingPart:
    if block.redacted_content is not None:
        return ThinkingPart(redacted=block.redacted_content)
    if block.reasoning_text is None:
        raise _invalid("reasoningContent needs reasoningText or redactedContent", path)
    text = block.reasoning_text
    return ThinkingPart(text=text.text, signature=text.signature or None)


def _image(image: w.WImage) -> ImagePart:
    media = w.IMAGE_MEDIA.get(image.format, f"image/{image.format}")
    source = image.source
    if source.s3_location is not None:
        return ImagePart(url=source.s3_location.uri, media_type=media)
    return ImagePart(data=source.bytes or "", media_type=media)


def _document(doc: w.WDocument, path: str) -> FilePart:
    media = w.DOCUMENT_MEDIA.get(doc.format or "", "application/octet-stream")
    source = doc.source
    if source.s3_location is not None:
        return FilePart(url=source.s3_location.uri, media_type=media, filename=doc.name)
    if source.bytes is not None:
        return FilePart(data=source.bytes, media_type=media, filename=doc.name)
    if source.text is not None:
        data = base64.b64encode(source.text.encode()).decode()
        return FilePart(data=data, media_type="text/plain", filename=doc.name)
    raise _invalid("document source needs bytes, text or s3Location", f"{path}.document.source")


def _tool_result(result: w.WToolResult, names: dict[str, str], path: str) -> ToolResultPart:
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
            raise _invalid(
                "tool result content must be text, json, image or document",
                f"{path}.toolResult.content[{k}]",
            )
    return ToolResultPart(
        tool_call_id=result.tool_use_id,
        content=content,
        is_error=result.status == "error",
        name=names.get(result.tool_use_id),
    )


def _tools(config: w.WToolConfig | None, request: ChatRequest) -> None:
    if config is None:
        return
    for i, tool in enumerate(config.tools):
        if tool.cache_point is not None:
            if request.tools:
                request.tools[-1].cache_control = _cache(tool.cache_point)
            continue
        spec = tool.tool_spec
        if spec is None:
            raise _invalid(
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
            raise _invalid("top_k must be an integer", "additionalModelRequestFields.top_k")
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
        if isinstance(effort, str) and effort in _EFFORTS:
            request.reasoning = Reasoning(effort=cast(ReasoningEffort, effort))
            rest.pop(name)
    if rest:
        request.extra["additionalModelRequestFields"] = rest


def _output(config: w.WOutputConfig | None, request: ChatRequest) -> None:
    fmt = config.text_format if config is not None else None
    if fmt is None or fmt.structure.json_schema is None:
        return
    spec = fmt.structure.json_schema
    param = "outputConfig.textFormat.structure.jsonSchema.schema"
    try:
        schema = msgspec.json.decode(spec.schema)
    except msgspec.DecodeError:
        raise _invalid("the JSON schema must be JSON text", param) from None
    if not isinstance(schema, dict):
        raise _invalid("the JSON schema must be a JSON object", param)
    request.response_format = ResponseFormat(
        type="json_schema", name=spec.name, schema=schema, description=spec.description
    )
