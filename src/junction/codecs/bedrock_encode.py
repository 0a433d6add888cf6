"""Canonical ChatRequest -> Bedrock Converse request body (the egress side)."""

from __future__ import annotations

import re
from typing import Any

import msgspec

from junction.codecs import bedrock_wire as w
from junction.codecs.base import Target, arguments_object, split_data_url
from junction.types import (
    CacheControl,
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

EFFORT_BUDGET: dict[str, int] = {
    "minimal": 1024,
    "low": 1024,
    "medium": 4096,
    "high": 16384,
    "xhigh": 32768,
    "max": 65536,
}
"""Anthropic-on-Bedrock ``budget_tokens`` for an effort without an explicit budget."""

MIN_BUDGET = 1024
EFFORT_LEVEL: dict[str, str] = {
    "minimal": "low",
    "low": "low",
    "medium": "medium",
    "high": "high",
    "xhigh": "high",
    "max": "high",
}
"""Effort for models that take ``low|medium|high`` (gpt-oss ``reasoning_effort``,
Qwen ``reasoning_config``)."""

JSON_OBJECT_INSTRUCTION = "Respond with a single JSON object only."
SERVICE_TIERS = frozenset({"default", "priority", "flex", "reserved"})
_NAME_BAD = re.compile(r"[^A-Za-z0-9\s\-\(\)\[\]]+")
_SPACES = re.compile(r"\s+")


def encode_body(request: ChatRequest, target: Target) -> dict[str, Any]:
    """The Converse body as JSON-ready builtins (``modelId`` is in the URL)."""
    state = _State(target)
    system = _system(request)
    messages = _messages(request.messages, state)
    family = w.model_family(target.model)
    inference = w.WInference(
        max_tokens=request.max_tokens,
        temperature=request.temperature,
        top_p=request.top_p,
        stop_sequences=list(request.stop) or None,
    )
    extra_fields = _additional(request, family, inference)
    body = w.WRequest(
        messages=messages,
        system=system or None,
        inference_config=inference,
        tool_config=_tool_config(request, state.has_tool_blocks),
        additional_model_request_fields=extra_fields or None,
        output_config=_output_config(request),
        request_metadata=dict(request.metadata) if request.metadata else None,
    )
    tier = request.service_tier
    if tier in SERVICE_TIERS:
        body.service_tier = w.WServiceTier(type=tier)
    out: dict[str, Any] = msgspec.to_builtins(body)
    _pass_extra(request, target, out)
    return out


def _pass_extra(request: ChatRequest, target: Target, out: dict[str, Any]) -> None:
    """Vendor-listed ``extra`` fields (e.g. guardrailConfig) go out unchanged;
    ``additionalModelRequestFields`` merges with the translated ones."""
    for name in target.quirks.pass_extra:
        if name not in request.extra:
            continue
        value = request.extra[name]
        current = out.get(name)
        if isinstance(current, dict) and isinstance(value, dict):
            out[name] = {**value, **current}
        else:
            out[name] = value


class _State:
    def __init__(self, target: Target) -> None:
        self.target = target
        self.documents = 0
        self.has_tool_blocks = False


def cache_point(cache: CacheControl) -> w.WCachePoint:
    ttl = cache.ttl if cache.ttl in ("5m", "1h") else None
    return w.WCachePoint(type="default", ttl=ttl)


def _system(request: ChatRequest) -> list[w.WSystem]:
    out: list[w.WSystem] = []
    for message in request.messages:
        if message.role not in ("system", "developer"):
            continue
        for part in message.content:
            if not isinstance(part, TextPart):
                continue
            if part.text:
                out.append(w.WSystem(text=part.text))
            if part.cache_control is not None:
                out.append(w.WSystem(cache_point=cache_point(part.cache_control)))
    fmt = request.response_format
    if fmt is not None and fmt.type == "json_object":
        out.append(w.WSystem(text=JSON_OBJECT_INSTRUCTION))
    return out


def _messages(messages: list[Message], state: _State) -> list[w.WMessage]:
    turns: list[tuple[str, list[list[w.WBlock]]]] = []
    for i, message in enumerate(messages):
        if message.role in ("system", "developer"):
            continue
        role = "assistant" if message.role == "assistant" else "user"
        units = [
            unit
            for j, part in enumerate(message.content)
            if (unit := _encode_part(part, state, f"messages[{i}].content[{j}]"))
        ]
        if not units:
            continue
        if turns and turns[-1][0] == role:
            turns[-1][1].extend(units)
        else:
            turns.append((role, units))
    out: list[w.WMessage] = []
    for role, units in turns:
        if role == "user":
            # Tool results open the user turn that answers a toolUse.
            units.sort(key=lambda u: u[0].tool_result is None)
        blocks = [b for unit in units for b in unit]
        out.append(w.WMessage(role="assistant" if role == "assistant" else "user", content=blocks))
    return out


def _encode_part(part: Part, state: _State, path: str) -> list[w.WBlock]:
    """One part as its block, followed by a cachePoint when it has cache_control."""
    block = _block(part, state, path)
    out = [block] if block is not None else []
    cache = getattr(part, "cache_control", None)
    if isinstance(cache, CacheControl) and out:
        out.append(w.WBlock(cache_point=cache_point(cache)))
    return out


def _block(part: Part, state: _State, path: str) -> w.WBlock | None:
    if isinstance(part, TextPart):
        return w.WBlock(text=part.text) if part.text else None
    if isinstance(part, ImagePart):
        return w.WBlock(image=_image(part, path))
    if isinstance(part, FilePart):
        return w.WBlock(document=_document(part, state, path))
    if isinstance(part, ThinkingPart):
        return _reasoning(part, state.target)
    if isinstance(part, ToolCallPart):
        state.has_tool_blocks = True
        use = w.WToolUse(
            tool_use_id=part.id,
            name=part.name,
            input=arguments_object(part, path, "Bedrock needs toolUse input"),
        )
        return w.WBlock(tool_use=use)
    if isinstance(part, ToolResultPart):
        state.has_tool_blocks = True
        return w.WBlock(tool_result=_tool_result(part, state, path))
    raise GatewayError(
        "invalid_request",
        f"Bedrock Converse cannot take {part.__class__.__name__} content here; "
        "send text, images, documents or tool calls",
        param=path,
    )


def _reasoning(part: ThinkingPart, target: Target) -> w.WBlock | None:
    """Signed or redacted reasoning goes back to the provider that made it;
    unsigned reasoning (another vendor's, or a model that does not sign) is dropped."""
    if part.provider is not None and part.provider != target.provider:
        return None
    if part.redacted:
        return w.WBlock(reasoning_content=w.WReasoning(redacted_content=part.redacted))
    if part.signature:
        text = w.WReasoningText(text=part.text, signature=part.signature)
        return w.WBlock(reasoning_content=w.WReasoning(reasoning_text=text))
    return None


def _source(
    data: str | None, media_type: str | None, url: str | None, path: str
) -> tuple[w.WSource, str | None]:
    """A base64 or S3 source and the media type it has (None: unknown)."""
    if data is not None:
        return w.WSource(bytes=data), media_type
    if url:
        inline = split_data_url(url)
        if inline is not None:
            return w.WSource(bytes=inline[1]), inline[0]
        if url.startswith("s3://"):
            return w.WSource(s3_location=w.WS3Location(uri=url)), media_type
    raise GatewayError(
        "invalid_request",
        "Bedrock takes media inline (base64 or a data: URL) or from S3 (s3:// URL); "
        f"it cannot fetch {url!r}"
        if url
        else "the part has neither data nor url",
        param=path,
    )


def _image(part: ImagePart, path: str) -> w.WImage:
    source, media = _source(part.data, part.media_type, part.url, path)
    fmt = w.IMAGE_FORMATS.get((media or "").lower())
    if fmt is None and source.s3_location is not None:
        fmt = _extension(source.s3_location.uri, w.IMAGE_MEDIA)
    if fmt is None:
        raise GatewayError(
            "invalid_request",
            f"Bedrock takes png, jpeg, gif or webp images, not {media or 'an unknown type'}",
            param=path,
        )
    return w.WImage(format=fmt, source=source)


def _extension(uri: str, known: dict[str, str]) -> str | None:
    ext = uri.rsplit(".", 1)[-1].lower()
    ext = "jpeg" if ext == "jpg" else ext
    return ext if ext in known else None


def _document(part: FilePart, state: _State, path: str) -> w.WDocument:
    if part.file_id:
        raise GatewayError(
            "invalid_request",
            "Bedrock has no file ids: send the document inline (base64) or as an s3:// URL",
            param=path,
        )
    source, media = _source(part.data, part.media_type, part.url, path)
    fmt = w.DOCUMENT_FORMATS.get((media or "").lower())
    if fmt is None and source.s3_location is not None:
        fmt = _extension(source.s3_location.uri, w.DOCUMENT_MEDIA)
    if fmt is None:
        raise GatewayError(
            "invalid_request",
            f"Bedrock documents are pdf, csv, doc(x), xls(x), html, txt or md, "
            f"not {media or 'an unknown type'}",
            param=path,
        )
    state.documents += 1
    return w.WDocument(
        name=_document_name(part.filename, state.documents), source=source, format=fmt
    )


def _document_name(filename: str | None, n: int) -> str:
    """Bedrock allows letters, digits, single spaces, hyphens, parentheses and brackets."""
    if filename:
        cleaned = _SPACES.sub(" ", _NAME_BAD.sub("-", filename)).strip()
        if cleaned:
            return cleaned[:200]
    return f"Document {n}"


def _tool_result(part: ToolResultPart, state: _State, path: str) -> w.WToolResult:
    content: list[w.WResultContent] = []
    for k, item in enumerate(part.content):
        where = f"{path}.content[{k}]"
        if isinstance(item, TextPart):
            content.append(w.WResultContent(text=item.text))
        elif isinstance(item, ImagePart):
            content.append(w.WResultContent(image=_image(item, where)))
        else:
            content.append(w.WResultContent(document=_document(item, state, where)))
    return w.WToolResult(
        tool_use_id=part.tool_call_id,
        content=content,
        status="error" if part.is_error else "success",
    )


def _tool_config(request: ChatRequest, has_tool_blocks: bool) -> w.WToolConfig | None:
    choice = request.tool_choice
    if not request.tools or (choice is not None and choice.mode == "none" and not has_tool_blocks):
        return None
    tools: list[w.WTool] = []
    for t in request.tools:
        spec = w.WToolSpec(
            name=t.name,
            input_schema=w.WInputSchema(json=t.parameters),
            description=t.description or None,
            strict=t.strict,
        )
        tools.append(w.WTool(tool_spec=spec))
        if t.cache_control is not None:
            tools.append(w.WTool(cache_point=cache_point(t.cache_control)))
    wire: w.WToolChoice | None = None
    if choice is not None:
        if choice.mode == "auto":
            wire = w.WToolChoice(auto={})
        elif choice.mode == "required":
            wire = w.WToolChoice(any={})
        elif choice.mode == "tool" and choice.name:
            wire = w.WToolChoice(tool=w.WNamed(name=choice.name))
    return w.WToolConfig(tools=tools, tool_choice=wire)


def _output_config(request: ChatRequest) -> w.WOutputConfig | None:
    fmt = request.response_format
    if fmt is None or fmt.type != "json_schema" or fmt.schema is None:
        return None
    schema = w.WJsonSchema(
        schema=msgspec.json.encode(fmt.schema).decode(),
        name=fmt.name,
        description=fmt.description,
    )
    structure = w.WStructure(json_schema=schema)
    return w.WOutputConfig(text_format=w.WTextFormat(type="json_schema", structure=structure))


def _additional(request: ChatRequest, family: str, inference: w.WInference) -> dict[str, Any]:
    """``additionalModelRequestFields``: top_k and reasoning, in the model family's own names."""
    out: dict[str, Any] = {}
    if request.top_k is not None:
        if family == "nova":
            out["inferenceConfig"] = {"topK": request.top_k}
        else:
            out["top_k"] = request.top_k
    reasoning = request.reasoning
    if reasoning is None or not reasoning.enabled or reasoning.effort == "none":
        return out
    if family == "anthropic":
        budget = _budget(reasoning)
        out["thinking"] = {"type": "enabled", "budget_tokens": budget}
        if inference.max_tokens is not None and inference.max_tokens <= budget:
            # Anthropic counts thinking inside maxTokens and wants the budget below it.
            inference.max_tokens = budget + inference.max_tokens
    elif family == "openai":
        out["reasoning_effort"] = EFFORT_LEVEL[reasoning.effort or "medium"]
    elif family == "qwen":
        out["reasoning_config"] = EFFORT_LEVEL[reasoning.effort or "high"]
    return out


def _budget(reasoning: Reasoning) -> int:
    budget = reasoning.max_tokens or EFFORT_BUDGET[reasoning.effort or "medium"]
    return max(budget, MIN_BUDGET)
