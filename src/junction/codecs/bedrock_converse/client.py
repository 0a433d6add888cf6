"""Bedrock Converse, client side: canonical request -> ``/model/{id}/converse``
(signed or bearer) and what Bedrock sends back (response bodies, errors).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

import msgspec

from junction.codecs._shared.media import arguments_object, split_data_url
from junction.codecs._shared.reasoning import MIN_THINKING_BUDGET, THINKING_BUDGET
from junction.codecs.base import Target, join_url
from junction.codecs.bedrock_converse import auth, wire
from junction.codecs.bedrock_converse.client_stream import (
    BedrockStreamDecoder,
    exception_error,
    new_id,
    usage_from_wire,
)
from junction.codecs.bedrock_converse.embed import (
    decode_embeddings_body,
    embed_family,
    embeddings_body,
)
from junction.codecs.bedrock_converse.eventstream import CONTENT_TYPE as EVENTSTREAM_CONTENT_TYPE
from junction.types import (
    CacheControl,
    ChatRequest,
    ChatResponse,
    Choice,
    EmbeddingRequest,
    EmbeddingResponse,
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
)

_PATH_SAFE = ":@!$&'()*+,;="
"""Characters left literal in the model id path segment (see the module docstring)."""


_JSON = "application/json"


def model_path(model_id: str, operation: str) -> str:
    """``model/<id>/<operation>`` as sent (and signed)."""
    return f"model/{quote(model_id, safe=_PATH_SAFE)}/{operation}"


class BedrockConverseCodec:
    """Client side of Bedrock Converse / ConverseStream and InvokeModel embeddings."""

    name = "bedrock_converse"

    def prepare(self, target: Target) -> None:
        """At build time: botocore's signer, for a target that signs with SigV4."""
        auth.prepare(target)

    def encode_request(self, request: ChatRequest, target: Target) -> HttpRequest:
        operation = "converse-stream" if request.stream else "converse"
        body = msgspec.json.encode(encode_body(request, target))
        accept = EVENTSTREAM_CONTENT_TYPE if request.stream else _JSON
        return self._build(
            target, model_path(target.model, operation), body, accept, request.stream
        )

    def decode_response(self, body: bytes, target: Target) -> ChatResponse:
        return decode_response(body, target)

    def stream_decoder(self, target: Target) -> BedrockStreamDecoder:
        return BedrockStreamDecoder(target)

    def decode_error(
        self, status: int, headers: Mapping[str, str], body: bytes, target: Target
    ) -> UpstreamError:
        return decode_error(status, headers, body, target)

    def encode_embeddings(self, request: EmbeddingRequest, target: Target) -> HttpRequest:
        body = embeddings_body(request, target.model)
        return self._build(target, model_path(target.model, "invoke"), body, _JSON, False)

    def decode_embeddings(self, body: bytes, target: Target) -> EmbeddingResponse:
        return decode_embeddings_body(body, target.model, target.provider)

    def embedding_batch_limit(self, target: Target) -> int | None:
        """Texts per upstream call: Titan takes one, Cohere up to 96."""
        family = embed_family(target.model)
        return 1 if family == "titan" else 96 if family == "cohere" else None

    def _build(
        self, target: Target, path: str, body: bytes, accept: str, stream: bool
    ) -> HttpRequest:
        url = join_url(target.base_url, path)
        headers = {"content-type": _JSON, "accept": accept, **target.headers}
        signed = auth.auth_headers(target, "POST", url, headers, body)
        return HttpRequest(method="POST", url=url, headers=signed, body=body, stream=stream)


EFFORT_BUDGET = THINKING_BUDGET


MIN_BUDGET = MIN_THINKING_BUDGET


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
    family = wire.model_family(target.model)
    inference = wire.Inference(
        max_tokens=request.max_tokens,
        temperature=request.temperature,
        top_p=request.top_p,
        stop_sequences=list(request.stop) or None,
    )
    extra_fields = _additional(request, family, inference)
    body = wire.Request(
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
        body.service_tier = wire.ServiceTier(type=tier)
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


def cache_point(cache: CacheControl) -> wire.CachePoint:
    ttl = cache.ttl if cache.ttl in ("5m", "1h") else None
    return wire.CachePoint(type="default", ttl=ttl)


def _system(request: ChatRequest) -> list[wire.System]:
    out: list[wire.System] = []
    for message in request.messages:
        if message.role not in ("system", "developer"):
            continue
        for part in message.content:
            if not isinstance(part, TextPart):
                continue
            if part.text:
                out.append(wire.System(text=part.text))
            if part.cache_control is not None:
                out.append(wire.System(cache_point=cache_point(part.cache_control)))
    fmt = request.response_format
    if fmt is not None and fmt.type == "json_object":
        out.append(wire.System(text=JSON_OBJECT_INSTRUCTION))
    return out


def _messages(messages: list[Message], state: _State) -> list[wire.Message]:
    turns: list[tuple[str, list[list[wire.Block]]]] = []
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
    out: list[wire.Message] = []
    for role, units in turns:
        if role == "user":
            # Tool results open the user turn that answers a toolUse.
            units.sort(key=lambda u: u[0].tool_result is None)
        blocks = [b for unit in units for b in unit]
        out.append(
            wire.Message(role="assistant" if role == "assistant" else "user", content=blocks)
        )
    return out


def _encode_part(part: Part, state: _State, path: str) -> list[wire.Block]:
    """One part as its block, followed by a cachePoint when it has cache_control."""
    block = _block(part, state, path)
    out = [block] if block is not None else []
    cache = getattr(part, "cache_control", None)
    if isinstance(cache, CacheControl) and out:
        out.append(wire.Block(cache_point=cache_point(cache)))
    return out


def _block(part: Part, state: _State, path: str) -> wire.Block | None:
    if isinstance(part, TextPart):
        return wire.Block(text=part.text) if part.text else None
    if isinstance(part, ImagePart):
        return wire.Block(image=_image(part, path))
    if isinstance(part, FilePart):
        return wire.Block(document=_document(part, state, path))
    if isinstance(part, ThinkingPart):
        return _reasoning(part, state.target)
    if isinstance(part, ToolCallPart):
        state.has_tool_blocks = True
        use = wire.ToolUse(
            tool_use_id=part.id,
            name=part.name,
            input=arguments_object(part, path, "Bedrock needs toolUse input"),
        )
        return wire.Block(tool_use=use)
    if isinstance(part, ToolResultPart):
        state.has_tool_blocks = True
        return wire.Block(tool_result=_tool_result(part, state, path))
    raise GatewayError(
        "invalid_request",
        f"Bedrock Converse cannot take {part.__class__.__name__} content here; "
        "send text, images, documents or tool calls",
        param=path,
    )


def _reasoning(part: ThinkingPart, target: Target) -> wire.Block | None:
    """Signed or redacted reasoning goes back to the provider that made it;
    unsigned reasoning (another vendor's, or a model that does not sign) is dropped."""
    if part.provider is not None and part.provider != target.provider:
        return None
    if part.redacted:
        return wire.Block(reasoning_content=wire.Reasoning(redacted_content=part.redacted))
    if part.signature:
        text = wire.ReasoningText(text=part.text, signature=part.signature)
        return wire.Block(reasoning_content=wire.Reasoning(reasoning_text=text))
    return None


def _source(
    data: str | None, media_type: str | None, url: str | None, path: str
) -> tuple[wire.Source, str | None]:
    """A base64 or S3 source and the media type it has (None: unknown)."""
    if data is not None:
        return wire.Source(bytes=data), media_type
    if url:
        inline = split_data_url(url)
        if inline is not None:
            return wire.Source(bytes=inline[1]), inline[0]
        if url.startswith("s3://"):
            return wire.Source(s3_location=wire.S3Location(uri=url)), media_type
    raise GatewayError(
        "invalid_request",
        "Bedrock takes media inline (base64 or a data: URL) or from S3 (s3:// URL); "
        f"it cannot fetch {url!r}"
        if url
        else "the part has neither data nor url",
        param=path,
    )


def _image(part: ImagePart, path: str) -> wire.Image:
    source, media = _source(part.data, part.media_type, part.url, path)
    fmt = wire.IMAGE_FORMATS.get((media or "").lower())
    if fmt is None and source.s3_location is not None:
        fmt = _extension(source.s3_location.uri, wire.IMAGE_MEDIA)
    if fmt is None:
        raise GatewayError(
            "invalid_request",
            f"Bedrock takes png, jpeg, gif or webp images, not {media or 'an unknown type'}",
            param=path,
        )
    return wire.Image(format=fmt, source=source)


def _extension(uri: str, known: dict[str, str]) -> str | None:
    ext = uri.rsplit(".", 1)[-1].lower()
    ext = "jpeg" if ext == "jpg" else ext
    return ext if ext in known else None


def _document(part: FilePart, state: _State, path: str) -> wire.Document:
    if part.file_id:
        raise GatewayError(
            "invalid_request",
            "Bedrock has no file ids: send the document inline (base64) or as an s3:// URL",
            param=path,
        )
    source, media = _source(part.data, part.media_type, part.url, path)
    fmt = wire.DOCUMENT_FORMATS.get((media or "").lower())
    if fmt is None and source.s3_location is not None:
        fmt = _extension(source.s3_location.uri, wire.DOCUMENT_MEDIA)
    if fmt is None:
        raise GatewayError(
            "invalid_request",
            f"Bedrock documents are pdf, csv, doc(x), xls(x), html, txt or md, "
            f"not {media or 'an unknown type'}",
            param=path,
        )
    state.documents += 1
    return wire.Document(
        name=_document_name(part.filename, state.documents), source=source, format=fmt
    )


def _document_name(filename: str | None, n: int) -> str:
    """Bedrock allows letters, digits, single spaces, hyphens, parentheses and brackets."""
    if filename:
        cleaned = _SPACES.sub(" ", _NAME_BAD.sub("-", filename)).strip()
        if cleaned:
            return cleaned[:200]
    return f"Document {n}"


def _tool_result(part: ToolResultPart, state: _State, path: str) -> wire.ToolResult:
    content: list[wire.ResultContent] = []
    for k, item in enumerate(part.content):
        where = f"{path}.content[{k}]"
        if isinstance(item, TextPart):
            content.append(wire.ResultContent(text=item.text))
        elif isinstance(item, ImagePart):
            content.append(wire.ResultContent(image=_image(item, where)))
        else:
            content.append(wire.ResultContent(document=_document(item, state, where)))
    return wire.ToolResult(
        tool_use_id=part.tool_call_id,
        content=content,
        status="error" if part.is_error else "success",
    )


def _tool_config(request: ChatRequest, has_tool_blocks: bool) -> wire.ToolConfig | None:
    choice = request.tool_choice
    if not request.tools or (choice is not None and choice.mode == "none" and not has_tool_blocks):
        return None
    tools: list[wire.Tool] = []
    for t in request.tools:
        spec = wire.ToolSpec(
            name=t.name,
            input_schema=wire.InputSchema(json=t.parameters),
            description=t.description or None,
            strict=t.strict,
        )
        tools.append(wire.Tool(tool_spec=spec))
        if t.cache_control is not None:
            tools.append(wire.Tool(cache_point=cache_point(t.cache_control)))
    incoming: wire.ToolChoice | None = None
    if choice is not None:
        if choice.mode == "auto":
            incoming = wire.ToolChoice(auto={})
        elif choice.mode == "required":
            incoming = wire.ToolChoice(any={})
        elif choice.mode == "tool" and choice.name:
            incoming = wire.ToolChoice(tool=wire.Named(name=choice.name))
    return wire.ToolConfig(tools=tools, tool_choice=incoming)


def _output_config(request: ChatRequest) -> wire.OutputConfig | None:
    fmt = request.response_format
    if fmt is None or fmt.type != "json_schema" or fmt.schema is None:
        return None
    schema = wire.JsonSchema(
        schema=msgspec.json.encode(fmt.schema).decode(),
        name=fmt.name,
        description=fmt.description,
    )
    structure = wire.Structure(json_schema=schema)
    return wire.OutputConfig(text_format=wire.TextFormat(type="json_schema", structure=structure))


def _additional(request: ChatRequest, family: str, inference: wire.Inference) -> dict[str, Any]:
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


_response_decoder = msgspec.json.Decoder(wire.Response)


def decode_response(body: bytes, target: Target) -> ChatResponse:
    try:
        incoming = _response_decoder.decode(body)
    except (msgspec.DecodeError, msgspec.ValidationError) as exc:
        raise UpstreamError(
            "provider_unavailable",
            f"{target.provider} sent a response that is not a Converse response: {exc}",
            provider=target.provider,
            status=502,
            retryable=True,
        ) from None
    message = incoming.output.message if incoming.output is not None else None
    parts: list[Part] = []
    warnings: list[str] = []
    for block in message.content if message is not None else []:
        part = block_to_part(block, target.provider)
        if part is None:
            warnings.append(f"dropped Bedrock content block {_kind(block)!r}")
        elif not (isinstance(part, TextPart) and not part.text):
            parts.append(part)
    choice = Choice(
        index=0,
        message=Message(role="assistant", content=parts),
        finish_reason=wire.finish_reason(incoming.stop_reason),
        native_finish_reason=incoming.stop_reason,
    )
    return ChatResponse(
        id=new_id(),
        model=target.model,
        choices=[choice],
        usage=usage_from_wire(incoming.usage) if incoming.usage is not None else None,
        provider=target.provider,
        warnings=warnings,
    )


def _kind(block: wire.Block) -> str:
    kinds = [k for k in wire.Block.__struct_fields__ if getattr(block, k) is not None]
    if block.tool_use is not None and block.tool_use.type:
        return f"toolUse ({block.tool_use.type})"
    if block.tool_result is not None and block.tool_result.type:
        return f"toolResult ({block.tool_result.type})"
    return ",".join(kinds) or "empty"


def block_to_part(block: wire.Block, provider: str) -> Part | None:
    """A response content block as a canonical part (None: not one junction
    carries: server-tool use and results, citations, images...)."""
    if block.text is not None:
        return TextPart(text=block.text)
    if block.reasoning_content is not None:
        reasoning = block.reasoning_content
        if reasoning.redacted_content is not None:
            return ThinkingPart(redacted=reasoning.redacted_content, provider=provider)
        text = reasoning.reasoning_text or wire.ReasoningText()
        return ThinkingPart(text=text.text, signature=text.signature or None, provider=provider)
    use = block.tool_use
    if use is not None and use.type in (None, "tool_use"):
        args = msgspec.json.encode(use.input if use.input is not None else {}).decode()
        return ToolCallPart(id=use.tool_use_id, name=use.name, arguments=args)
    return None


def _header(headers: Mapping[str, str], name: str) -> str | None:
    for key, value in headers.items():
        if key.lower() == name:
            return value
    return None


def _retry_after(headers: Mapping[str, str]) -> float | None:
    value = _header(headers, "retry-after")
    if value is None:
        return None
    try:
        return max(float(value), 0.0)
    except ValueError:
        return None


def decode_error(
    status: int, headers: Mapping[str, str], body: bytes, target: Target
) -> UpstreamError:
    """``{"message": ...}`` with the exception name in ``x-amzn-errortype``
    (``ThrottlingException:http://internal.amazon.com/...``); the body's
    ``__type`` / ``code`` is read when the header is absent."""
    try:
        data = msgspec.json.decode(body)
    except msgspec.DecodeError:
        data = None
    data = data if isinstance(data, dict) else {}
    name = _header(headers, "x-amzn-errortype") or data.get("__type") or data.get("code")
    code = str(name).split(":", 1)[0].rsplit("#", 1)[-1] if name else None
    message = data.get("message") or data.get("Message")
    if not isinstance(message, str) or not message:
        message = body.decode("utf-8", errors="replace").strip()[:500] or "(empty body)"
    detail = f"{code}: {message}" if code else message
    return exception_error(target.provider, code, detail, status, _retry_after(headers))
