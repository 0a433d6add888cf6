"""OpenAI Chat Completions, server side (junction's main door and the
simulator): request bodies in (chat and embeddings), responses, errors and
embeddings out."""

from __future__ import annotations

import base64
import struct
import time
from typing import Any, Literal, cast

import msgspec

from junction.codecs._shared.media import new_tool_call_id, parse_data_url
from junction.codecs._shared.openai_errors import ERROR_TYPES
from junction.codecs._shared.reasoning import EFFORTS
from junction.codecs._shared.validation import decode_error, invalid, unknown_fields
from junction.codecs.openai_chat import wire
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
    Reasoning,
    ReasoningEffort,
    ResponseFormat,
    RouterChoice,
    TextPart,
    ThinkingPart,
    TokenLogprob,
    Tool,
    ToolCallPart,
    ToolChoice,
    ToolResultPart,
    Usage,
)
from junction.types.embeddings import EmbeddingRequest, EmbeddingResponse

_REQUEST_DECODER = msgspec.json.Decoder(wire.Request)


_KNOWN_FIELDS = frozenset(wire.Request.__struct_fields__)


_ROLES = ("system", "developer", "user", "assistant", "tool")


_PARTS_BY_ROLE = {
    "system": ("text",),
    "developer": ("text",),
    "user": ("text", "image_url", "input_audio", "file"),
    "assistant": ("text", "refusal", "thinking"),
    "tool": ("text", "image_url", "file"),
}


def decode_request(body: bytes) -> ChatRequest:
    """An OpenAI ``CreateChatCompletionRequest`` body as a canonical request.

    Raises :class:`GatewayError` (``invalid_request``, with ``param`` set to
    the offending field's path) for anything a client must fix.
    """
    try:
        incoming = _REQUEST_DECODER.decode(body)
    except msgspec.DecodeError as exc:
        raise decode_error(exc) from None
    extra = unknown_fields(body, _KNOWN_FIELDS)
    model = incoming.model or _first_fallback(extra.get("models"))
    if not model:
        raise invalid(
            "The request has no `model`: name the model to use (or list them in `models`).",
            "model",
        )
    if incoming.messages is msgspec.UNSET:
        raise invalid("The request has no `messages`: send a list of chat messages.", "messages")
    if not incoming.messages:
        raise invalid("`messages` is empty: send at least one message.", "messages")
    if incoming.functions is not None or incoming.function_call is not None:
        param = "functions" if incoming.functions is not None else "function_call"
        raise invalid(f"`{param}` is deprecated and not supported; use `tools` instead.", param)
    request = ChatRequest(
        model=model,
        messages=[_message(i, m) for i, m in enumerate(incoming.messages)],
        stream=bool(incoming.stream),
        include_usage=bool(incoming.stream_options and incoming.stream_options.include_usage),
        extra=extra,
    )
    _sampling(request, incoming)
    _tooling(request, incoming)
    request.reasoning = _reasoning(incoming)
    return request


def _first_fallback(models: Any) -> str:
    """OpenRouter's ``models`` without ``model``: the first is the model, the
    rest its fallbacks ("" when ``models`` is no list of names)."""
    if isinstance(models, list) and models and isinstance(models[0], str):
        return models[0]
    return ""


def _sampling(request: ChatRequest, incoming: wire.Request) -> None:
    request.max_tokens = (
        incoming.max_completion_tokens
        if incoming.max_completion_tokens is not None
        else incoming.max_tokens
    )
    request.temperature = incoming.temperature
    request.top_p = incoming.top_p
    request.top_k = incoming.top_k
    request.frequency_penalty = incoming.frequency_penalty
    request.presence_penalty = incoming.presence_penalty
    request.repetition_penalty = incoming.repetition_penalty
    request.seed = incoming.seed
    if isinstance(incoming.stop, str):
        request.stop = [incoming.stop]
    elif incoming.stop:
        request.stop = incoming.stop
    if incoming.n is not None:
        if incoming.n < 1:
            raise invalid(f"`n` must be at least 1, got {incoming.n}.", "n")
        request.n = incoming.n
    request.logprobs = bool(incoming.logprobs)
    request.top_logprobs = incoming.top_logprobs
    request.logit_bias = incoming.logit_bias
    request.user = incoming.user
    request.metadata = incoming.metadata
    request.service_tier = incoming.service_tier
    request.prompt_cache_key = incoming.prompt_cache_key
    request.cache_control = incoming.cache_control


def _tooling(request: ChatRequest, incoming: wire.Request) -> None:
    if incoming.tools:
        request.tools = [_tool(i, t) for i, t in enumerate(incoming.tools)]
    if incoming.tool_choice is not None:
        request.tool_choice = _tool_choice(incoming.tool_choice)
    request.parallel_tool_calls = incoming.parallel_tool_calls
    if incoming.response_format is not None:
        request.response_format = _response_format(incoming.response_format)


def _tool(i: int, tool: wire.Tool) -> Tool:
    if tool.type != "function" or tool.function is None:
        raise invalid(
            f"Tool type {tool.type!r} is not supported: send "
            '{"type": "function", "function": {"name": ..., "parameters": ...}}.',
            f"tools[{i}]",
        )
    fn = tool.function
    out = Tool(
        name=fn.name,
        description=fn.description,
        strict=fn.strict,
        cache_control=tool.cache_control,
    )
    if fn.parameters is not None:
        out.parameters = fn.parameters
    return out


def _tool_choice(choice: str | wire.ToolChoice) -> ToolChoice:
    if isinstance(choice, str):
        if choice in ("auto", "none", "required"):
            return ToolChoice(mode=cast("Literal['auto', 'none', 'required']", choice))
        if choice == "any":
            return ToolChoice(mode="required")
        raise invalid(
            f"`tool_choice` {choice!r} is not valid: use 'auto', 'none', 'required' or "
            '{"type": "function", "function": {"name": ...}}.',
            "tool_choice",
        )
    if choice.type != "function" or choice.function is None:
        raise invalid(
            f"`tool_choice` of type {choice.type!r} is not supported: name one function with "
            '{"type": "function", "function": {"name": ...}}.',
            "tool_choice",
        )
    return ToolChoice(mode="tool", name=choice.function.name)


def _response_format(fmt: wire.ResponseFormat) -> ResponseFormat:
    if fmt.type in ("text", "json_object"):
        return ResponseFormat(type=cast("Literal['text', 'json_object']", fmt.type))
    if fmt.type != "json_schema":
        raise invalid(
            f"`response_format.type` {fmt.type!r} is not valid: use 'text', 'json_object' "
            "or 'json_schema'.",
            "response_format.type",
        )
    js = fmt.json_schema
    if js is None or js.schema is None:
        raise invalid(
            "`response_format` of type 'json_schema' needs `json_schema.schema`.",
            "response_format.json_schema",
        )
    return ResponseFormat(
        type="json_schema",
        name=js.name,
        schema=js.schema,
        strict=js.strict,
        description=js.description,
    )


def _effort(value: str, param: str) -> ReasoningEffort:
    if value not in EFFORTS:
        raise invalid(f"`{param}` {value!r} is not valid: use one of {', '.join(EFFORTS)}.", param)
    return cast(ReasoningEffort, value)


def _reasoning(incoming: wire.Request) -> Reasoning | None:
    effort = (
        _effort(incoming.reasoning_effort, "reasoning_effort")
        if incoming.reasoning_effort
        else None
    )
    obj = incoming.reasoning
    if obj is None:
        if effort is None:
            return None
        return Reasoning(enabled=effort != "none", effort=effort)
    if obj.effort is not None:
        effort = _effort(obj.effort, "reasoning.effort")
    enabled = obj.enabled if obj.enabled is not None else effort != "none"
    return Reasoning(
        enabled=enabled,
        effort=effort,
        max_tokens=obj.max_tokens,
        exclude=bool(obj.exclude),
        summary=obj.summary,
    )


def _message(i: int, m: wire.Message) -> Message:
    role = m.role
    if role not in _ROLES:
        if role == "function":
            raise invalid(
                "The legacy 'function' role is not supported: send tool results as "
                "role 'tool' messages with a `tool_call_id`.",
                f"messages[{i}].role",
            )
        raise invalid(
            f"Message role {role!r} is not valid: use one of {', '.join(_ROLES)}.",
            f"messages[{i}].role",
        )
    if role == "tool":
        return _tool_message(i, m)
    if role == "assistant":
        return _assistant_message(i, m)
    if m.content is None:
        raise invalid(f"A {role} message needs `content`.", f"messages[{i}].content")
    return Message(
        role=cast("Literal['system', 'developer', 'user']", role),
        content=_content(i, role, m.content),
        name=m.name,
    )


def _tool_message(i: int, m: wire.Message) -> Message:
    if not m.tool_call_id:
        raise invalid(
            "A tool message needs the `tool_call_id` of the call it answers.",
            f"messages[{i}].tool_call_id",
        )
    parts = _content(i, "tool", m.content) if m.content is not None else []
    result = ToolResultPart(
        tool_call_id=m.tool_call_id,
        content=cast("list[TextPart | ImagePart | FilePart]", parts),
        name=m.name,
    )
    return Message(role="tool", content=[result])


def _assistant_message(i: int, m: wire.Message) -> Message:
    parts: list[Part] = []
    reasoning = m.reasoning or m.reasoning_content
    if reasoning:
        parts.append(ThinkingPart(text=reasoning))
    refusal = m.refusal
    content = m.content
    if isinstance(content, list):
        refusals = [p.refusal or "" for p in content if p.type == "refusal"]
        if refusals:
            refusal = "".join(refusals)
            content = [p for p in content if p.type != "refusal"]
    if content is not None:
        parts.extend(_content(i, "assistant", content))
    for call in m.tool_calls or ():
        args = call.function.arguments
        parts.append(
            ToolCallPart(
                id=call.id or new_tool_call_id(),
                name=call.function.name,
                arguments=args if isinstance(args, str) else msgspec.json.encode(args).decode(),
            )
        )
    return Message(role="assistant", content=parts, name=m.name, refusal=refusal)


def _content(i: int, role: str, content: str | list[wire.Part]) -> list[Part]:
    if isinstance(content, str):
        return [TextPart(text=content)]
    allowed = _PARTS_BY_ROLE[role]
    out: list[Part] = []
    for j, part in enumerate(content):
        if part.type not in allowed:
            raise invalid(
                f"Content part type {part.type!r} is not supported in a {role} message: "
                f"use {', '.join(allowed)}.",
                f"messages[{i}].content[{j}].type",
            )
        out.append(_part(part, f"messages[{i}].content[{j}]"))
    return out


def _part(part: wire.Part, path: str) -> Part:
    kind = part.type
    if kind == "text":
        if part.text is None:
            raise invalid("A text part needs `text`.", f"{path}.text")
        return TextPart(text=part.text, cache_control=part.cache_control)
    if kind == "image_url":
        return _image(part, path)
    if kind == "input_audio":
        if part.input_audio is None:
            raise invalid("An input_audio part needs `input_audio`.", f"{path}.input_audio")
        return AudioPart(data=part.input_audio.data, format=part.input_audio.format)
    if kind == "file":
        return _file(part, path)
    return _thinking(part)


def _image(part: wire.Part, path: str) -> ImagePart:
    image = part.image_url
    if image is None:
        raise invalid("An image_url part needs `image_url.url`.", f"{path}.image_url")
    url, detail = (image, None) if isinstance(image, str) else (image.url, image.detail)
    inline = parse_data_url(url)
    if inline is not None:
        return ImagePart(
            data=inline[0], media_type=inline[1], detail=detail, cache_control=part.cache_control
        )
    return ImagePart(url=url, detail=detail, cache_control=part.cache_control)


def _file(part: wire.Part, path: str) -> FilePart:
    f = part.file
    if f is None or (f.file_data is None and f.file_id is None):
        raise invalid("A file part needs `file.file_data` or `file.file_id`.", f"{path}.file")
    out = FilePart(file_id=f.file_id, filename=f.filename, cache_control=part.cache_control)
    if f.file_data is not None:
        inline = parse_data_url(f.file_data)
        if inline is not None:
            out.data, out.media_type = inline
        elif f.file_data.startswith(("http://", "https://")):
            out.url = f.file_data
        else:
            out.data = f.file_data
    return out


def _thinking(part: wire.Part) -> ThinkingPart:
    thinking = part.thinking
    if isinstance(thinking, list):
        text = "".join(item.text for item in thinking)
    else:
        text = thinking or part.text or ""
    return ThinkingPart(text=text, signature=part.signature)


_EMBEDDING_DECODER = msgspec.json.Decoder(wire.EmbeddingRequest)


def decode_embeddings_request(body: bytes) -> EmbeddingRequest:
    """An OpenAI ``CreateEmbeddingRequest`` body as a canonical request."""
    try:
        incoming = _EMBEDDING_DECODER.decode(body)
    except msgspec.DecodeError as exc:
        raise decode_error(exc) from None
    if not incoming.model:
        raise invalid("The request has no `model`: name the embedding model to use.", "model")
    if incoming.input is None:
        raise invalid("The request has no `input`: send a string or a list of strings.", "input")
    fmt = incoming.encoding_format or "float"
    if fmt not in ("float", "base64"):
        raise invalid(
            f"`encoding_format` {fmt!r} is not valid: use 'float' or 'base64'.",
            "encoding_format",
        )
    if incoming.dimensions is not None and incoming.dimensions < 1:
        raise invalid("`dimensions` must be at least 1.", "dimensions")
    return EmbeddingRequest(
        model=incoming.model,
        input=_embedding_input(incoming.input),
        dimensions=incoming.dimensions,
        encoding_format=cast("Literal['float', 'base64']", fmt),
        user=incoming.user,
    )


def _embedding_input(value: str | list[Any]) -> list[str] | list[list[int]]:
    if isinstance(value, str):
        return [value]
    if not value:
        raise invalid("`input` is empty: send at least one string.", "input")
    if all(isinstance(v, str) for v in value):
        return cast("list[str]", value)
    if all(_is_int(v) for v in value):
        return [cast("list[int]", value)]
    if all(isinstance(v, list) and v and all(_is_int(t) for t in v) for v in value):
        return cast("list[list[int]]", value)
    raise invalid(
        "`input` must be a string, a list of strings, a list of token ids or a list of "
        "lists of token ids.",
        "input",
    )


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


encode_json = msgspec.json.Encoder().encode


_SERVICE_TIERS = frozenset({"auto", "default", "flex", "scale", "priority", "fast"})
"""OpenAI's ``ServiceTier`` values; a vendor's own (Groq's ``on_demand``) is not repeated."""


def encode_usage(usage: Usage) -> wire.Usage:
    return wire.Usage(
        prompt_tokens=usage.prompt_tokens,
        completion_tokens=usage.completion_tokens,
        total_tokens=usage.total_tokens,
        prompt_tokens_details=wire.PromptDetails(
            cached_tokens=usage.cached_tokens,
            cache_write_tokens=usage.cache_write_tokens,
            audio_tokens=usage.audio_prompt_tokens,
        ),
        completion_tokens_details=wire.CompletionDetails(reasoning_tokens=usage.reasoning_tokens),
        cost=usage.cost,
    )


def _token(lp: TokenLogprob) -> wire.TokenLogprob:
    return wire.TokenLogprob(
        token=lp.token,
        logprob=lp.logprob,
        bytes=lp.bytes,
        top_logprobs=[wire.TopLogprob(t.token, t.logprob, t.bytes) for t in lp.top_logprobs],
    )


def _choice(choice: Choice) -> wire.Choice:
    message = choice.message
    calls = [
        wire.ResponseToolCall(id=c.id, function=wire.Function(name=c.name, arguments=c.arguments))
        for c in message.tool_calls()
    ]
    thinking = "".join(p.text for p in message.thinking())
    text = message.text()
    logprobs = None
    if choice.logprobs is not None:
        logprobs = wire.Logprobs(content=[_token(t) for t in choice.logprobs])
    return wire.Choice(
        index=choice.index,
        message=wire.ResponseMessage(
            role="assistant",
            content=text if text or not calls else None,
            refusal=message.refusal,
            tool_calls=calls or None,
            reasoning=thinking or None,
        ),
        finish_reason=choice.finish_reason or "stop",
        native_finish_reason=choice.native_finish_reason,
        logprobs=logprobs,
    )


def encode_response(response: ChatResponse, *, null_fingerprint: bool = False) -> bytes:
    """A canonical response as an OpenAI ``chat.completion`` object; an
    unknown ``system_fingerprint`` is left out, or (``null_fingerprint``,
    OpenRouter's form) written null."""
    fingerprint = response.system_fingerprint
    return encode_json(
        wire.Response(
            id=response.id,
            created=response.created or int(time.time()),
            model=response.model,
            choices=[_choice(c) for c in response.choices],
            object="chat.completion",
            usage=encode_usage(response.usage) if response.usage is not None else None,
            provider=response.provider,
            system_fingerprint=fingerprint
            if fingerprint is not None or null_fingerprint
            else msgspec.UNSET,
            service_tier=response.service_tier if response.service_tier in _SERVICE_TIERS else None,
            warnings=response.warnings or None,
            router=router_choice(response.router),
        )
    )


def router_choice(choice: RouterChoice | None) -> wire.RouterChoice | None:
    if choice is None:
        return None
    return wire.RouterChoice(choice.name, choice.model, choice.score, choice.shadow)


def error_body(err: GatewayError) -> wire.ErrorBody:
    return wire.ErrorBody(
        message=err.message,
        type=ERROR_TYPES.get(err.kind, "invalid_request_error"),
        param=err.param,
        code=err.code or err.kind,
    )


def encode_error(err: GatewayError) -> bytes:
    """``{"error": {"message", "type", "param", "code"}}`` (OpenAI's ``Error``)."""
    return encode_json(wire.ErrorEnvelope(error=error_body(err)))


def _b64_floats(vector: list[float]) -> str:
    return base64.b64encode(struct.pack(f"<{len(vector)}f", *vector)).decode("ascii")


def encode_embeddings_response(response: EmbeddingResponse, encoding_format: str) -> bytes:
    """An OpenAI ``CreateEmbeddingResponse``; ``base64`` packs little-endian float32."""
    pack = _b64_floats if encoding_format == "base64" else None
    data = [
        wire.Embedding(index=i, embedding=pack(v) if pack else v)
        for i, v in enumerate(response.data)
    ]
    tokens = response.usage.prompt_tokens
    return encode_json(
        wire.EmbeddingList(
            data=data,
            model=response.model,
            usage=wire.EmbeddingUsage(prompt_tokens=tokens, total_tokens=tokens),
        )
    )
