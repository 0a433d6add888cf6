"""OpenAI Chat Completions, server side, inbound: request bodies -> canonical.

This is junction's main door, so it is on the hot path: the body is decoded
once by msgspec into private typed wire structs (which also validates types
and reports the JSON path of a mistake), then converted to canonical values.
A second, shallow pass (values kept as raw bytes) finds the top-level fields
this dialect does not map; they go to ``ChatRequest.extra``.
"""

from __future__ import annotations

import uuid
from typing import Any, Literal, cast

import msgspec

from junction.codecs.openai_chat_common import parse_data_url
from junction.types import (
    AudioPart,
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
from junction.types.embeddings import EmbeddingRequest

# --- wire structs (private; unknown fields are ignored) ---------------------


class _WImageURL(msgspec.Struct):
    url: str
    detail: str | None = None


class _WInputAudio(msgspec.Struct):
    data: str
    format: str


class _WFile(msgspec.Struct):
    file_data: str | None = None
    file_id: str | None = None
    filename: str | None = None


class _WTextItem(msgspec.Struct):
    text: str = ""


class _WPart(msgspec.Struct):
    type: str
    text: str | None = None
    image_url: _WImageURL | str | None = None
    input_audio: _WInputAudio | None = None
    file: _WFile | None = None
    refusal: str | None = None
    thinking: str | list[_WTextItem] | None = None
    signature: str | None = None
    cache_control: CacheControl | None = None


class _WFunctionCall(msgspec.Struct):
    name: str
    arguments: str | dict[str, Any] = "{}"


class _WToolCall(msgspec.Struct):
    function: _WFunctionCall
    id: str = ""
    type: str = "function"


class _WMessage(msgspec.Struct):
    role: str
    content: str | list[_WPart] | None = None
    name: str | None = None
    tool_calls: list[_WToolCall] | None = None
    tool_call_id: str | None = None
    refusal: str | None = None
    reasoning: str | None = None
    reasoning_content: str | None = None


class _WFunctionDef(msgspec.Struct):
    name: str
    description: str | None = None
    parameters: dict[str, Any] | None = None
    strict: bool | None = None


class _WTool(msgspec.Struct):
    type: str = "function"
    function: _WFunctionDef | None = None
    cache_control: CacheControl | None = None


class _WNamed(msgspec.Struct):
    name: str


class _WToolChoice(msgspec.Struct):
    type: str
    function: _WNamed | None = None


class _WJsonSchema(msgspec.Struct):
    name: str | None = None
    schema: dict[str, Any] | None = None
    strict: bool | None = None
    description: str | None = None


class _WResponseFormat(msgspec.Struct):
    type: str
    json_schema: _WJsonSchema | None = None


class _WReasoning(msgspec.Struct):
    effort: str | None = None
    max_tokens: int | None = None
    exclude: bool | None = None
    enabled: bool | None = None
    summary: str | None = None


class _WStreamOptions(msgspec.Struct):
    include_usage: bool | None = None


class _WRequest(msgspec.Struct):
    model: str | msgspec.UnsetType = msgspec.UNSET
    messages: list[_WMessage] | msgspec.UnsetType = msgspec.UNSET
    stream: bool | None = None
    stream_options: _WStreamOptions | None = None
    max_tokens: int | None = None
    max_completion_tokens: int | None = None
    temperature: float | None = None
    top_p: float | None = None
    top_k: int | None = None
    frequency_penalty: float | None = None
    presence_penalty: float | None = None
    repetition_penalty: float | None = None
    seed: int | None = None
    stop: str | list[str] | None = None
    n: int | None = None
    logprobs: bool | None = None
    top_logprobs: int | None = None
    logit_bias: dict[str, float] | None = None
    tools: list[_WTool] | None = None
    tool_choice: str | _WToolChoice | None = None
    parallel_tool_calls: bool | None = None
    response_format: _WResponseFormat | None = None
    reasoning_effort: str | None = None
    reasoning: _WReasoning | None = None
    user: str | None = None
    metadata: dict[str, str] | None = None
    service_tier: str | None = None
    prompt_cache_key: str | None = None
    cache_control: CacheControl | None = None
    functions: Any = None
    function_call: Any = None


_REQUEST_DECODER = msgspec.json.Decoder(_WRequest)
_TOP_LEVEL_DECODER = msgspec.json.Decoder(dict[str, msgspec.Raw])
_KNOWN_FIELDS = frozenset(_WRequest.__struct_fields__)
_EFFORTS = ("none", "minimal", "low", "medium", "high", "xhigh", "max")
_ROLES = ("system", "developer", "user", "assistant", "tool")
_PARTS_BY_ROLE = {
    "system": ("text",),
    "developer": ("text",),
    "user": ("text", "image_url", "input_audio", "file"),
    "assistant": ("text", "refusal", "thinking"),
    "tool": ("text", "image_url", "file"),
}


def _bad(message: str, param: str | None = None) -> GatewayError:
    return GatewayError("invalid_request", message, param=param)


def _decode_error(exc: msgspec.DecodeError) -> GatewayError:
    """A msgspec error as a 400 that names the JSON path of the mistake."""
    if not isinstance(exc, msgspec.ValidationError):
        return _bad(f"Request body is not valid JSON: {exc}")
    text = str(exc)
    param = None
    _, sep, path = text.rpartition(" - at `$")
    if sep:
        param = path.rstrip("`").lstrip(".") or None
    return _bad(f"Invalid request body: {text}", param)


def new_tool_call_id() -> str:
    return "call_" + uuid.uuid4().hex[:24]


# --- chat request ------------------------------------------------------------


def decode_request(body: bytes) -> ChatRequest:
    """An OpenAI ``CreateChatCompletionRequest`` body as a canonical request.

    Raises :class:`GatewayError` (``invalid_request``, with ``param`` set to
    the offending field's path) for anything a client must fix.
    """
    try:
        wire = _REQUEST_DECODER.decode(body)
    except msgspec.DecodeError as exc:
        raise _decode_error(exc) from None
    if not wire.model:
        raise _bad("The request has no `model`: name the model to use.", "model")
    if wire.messages is msgspec.UNSET:
        raise _bad("The request has no `messages`: send a list of chat messages.", "messages")
    if not wire.messages:
        raise _bad("`messages` is empty: send at least one message.", "messages")
    if wire.functions is not None or wire.function_call is not None:
        param = "functions" if wire.functions is not None else "function_call"
        raise _bad(f"`{param}` is deprecated and not supported; use `tools` instead.", param)
    request = ChatRequest(
        model=wire.model,
        messages=[_message(i, m) for i, m in enumerate(wire.messages)],
        stream=bool(wire.stream),
        include_usage=bool(wire.stream_options and wire.stream_options.include_usage),
        extra=_extra(body),
    )
    _sampling(request, wire)
    _tooling(request, wire)
    request.reasoning = _reasoning(wire)
    return request


def _extra(body: bytes) -> dict[str, Any]:
    fields = _TOP_LEVEL_DECODER.decode(body)
    return {k: msgspec.json.decode(v) for k, v in fields.items() if k not in _KNOWN_FIELDS}


def _sampling(request: ChatRequest, wire: _WRequest) -> None:
    request.max_tokens = (
        wire.max_completion_tokens if wire.max_completion_tokens is not None else wire.max_tokens
    )
    request.temperature = wire.temperature
    request.top_p = wire.top_p
    request.top_k = wire.top_k
    request.frequency_penalty = wire.frequency_penalty
    request.presence_penalty = wire.presence_penalty
    request.repetition_penalty = wire.repetition_penalty
    request.seed = wire.seed
    if isinstance(wire.stop, str):
        request.stop = [wire.stop]
    elif wire.stop:
        request.stop = wire.stop
    if wire.n is not None:
        if wire.n < 1:
            raise _bad(f"`n` must be at least 1, got {wire.n}.", "n")
        request.n = wire.n
    request.logprobs = bool(wire.logprobs)
    request.top_logprobs = wire.top_logprobs
    request.logit_bias = wire.logit_bias
    request.user = wire.user
    request.metadata = wire.metadata
    request.service_tier = wire.service_tier
    request.prompt_cache_key = wire.prompt_cache_key
    request.cache_control = wire.cache_control


def _tooling(request: ChatRequest, wire: _WRequest) -> None:
    if wire.tools:
        request.tools = [_tool(i, t) for i, t in enumerate(wire.tools)]
    if wire.tool_choice is not None:
        request.tool_choice = _tool_choice(wire.tool_choice)
    request.parallel_tool_calls = wire.parallel_tool_calls
    if wire.response_format is not None:
        request.response_format = _response_format(wire.response_format)


def _tool(i: int, tool: _WTool) -> Tool:
    if tool.type != "function" or tool.function is None:
        raise _bad(
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


def _tool_choice(choice: str | _WToolChoice) -> ToolChoice:
    if isinstance(choice, str):
        if choice in ("auto", "none", "required"):
            return ToolChoice(mode=cast(Literal["auto", "none", "required"], choice))
        if choice == "any":
            return ToolChoice(mode="required")
        raise _bad(
            f"`tool_choice` {choice!r} is not valid: use 'auto', 'none', 'required' or "
            '{"type": "function", "function": {"name": ...}}.',
            "tool_choice",
        )
    if choice.type != "function" or choice.function is None:
        raise _bad(
            f"`tool_choice` of type {choice.type!r} is not supported: name one function with "
            '{"type": "function", "function": {"name": ...}}.',
            "tool_choice",
        )
    return ToolChoice(mode="tool", name=choice.function.name)


def _response_format(fmt: _WResponseFormat) -> ResponseFormat:
    if fmt.type in ("text", "json_object"):
        return ResponseFormat(type=cast(Literal["text", "json_object"], fmt.type))
    if fmt.type != "json_schema":
        raise _bad(
            f"`response_format.type` {fmt.type!r} is not valid: use 'text', 'json_object' "
            "or 'json_schema'.",
            "response_format.type",
        )
    js = fmt.json_schema
    if js is None or js.schema is None:
        raise _bad(
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
    if value not in _EFFORTS:
        raise _bad(f"`{param}` {value!r} is not valid: use one of {', '.join(_EFFORTS)}.", param)
    return cast(ReasoningEffort, value)


def _reasoning(wire: _WRequest) -> Reasoning | None:
    effort = _effort(wire.reasoning_effort, "reasoning_effort") if wire.reasoning_effort else None
    obj = wire.reasoning
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


# --- messages ----------------------------------------------------------------


def _message(i: int, m: _WMessage) -> Message:
    role = m.role
    if role not in _ROLES:
        if role == "function":
            raise _bad(
                "The legacy 'function' role is not supported: send tool results as "
                "role 'tool' messages with a `tool_call_id`.",
                f"messages[{i}].role",
            )
        raise _bad(
            f"Message role {role!r} is not valid: use one of {', '.join(_ROLES)}.",
            f"messages[{i}].role",
        )
    if role == "tool":
        return _tool_message(i, m)
    if role == "assistant":
        return _assistant_message(i, m)
    if m.content is None:
        raise _bad(f"A {role} message needs `content`.", f"messages[{i}].content")
    return Message(
        role=cast(Literal["system", "developer", "user"], role),
        content=_content(i, role, m.content),
        name=m.name,
    )


def _tool_message(i: int, m: _WMessage) -> Message:
    if not m.tool_call_id:
        raise _bad(
            "A tool message needs the `tool_call_id` of the call it answers.",
            f"messages[{i}].tool_call_id",
        )
    parts = _content(i, "tool", m.content) if m.content is not None else []
    result = ToolResultPart(
        tool_call_id=m.tool_call_id,
        content=cast(list[TextPart | ImagePart | FilePart], parts),
        name=m.name,
    )
    return Message(role="tool", content=[result])


def _assistant_message(i: int, m: _WMessage) -> Message:
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


def _content(i: int, role: str, content: str | list[_WPart]) -> list[Part]:
    if isinstance(content, str):
        return [TextPart(text=content)]
    allowed = _PARTS_BY_ROLE[role]
    out: list[Part] = []
    for j, part in enumerate(content):
        if part.type not in allowed:
            raise _bad(
                f"Content part type {part.type!r} is not supported in a {role} message: "
                f"use {', '.join(allowed)}.",
                f"messages[{i}].content[{j}].type",
            )
        out.append(_part(part, f"messages[{i}].content[{j}]"))
    return out


def _part(part: _WPart, path: str) -> Part:
    kind = part.type
    if kind == "text":
        if part.text is None:
            raise _bad("A text part needs `text`.", f"{path}.text")
        return TextPart(text=part.text, cache_control=part.cache_control)
    if kind == "image_url":
        return _image(part, path)
    if kind == "input_audio":
        if part.input_audio is None:
            raise _bad("An input_audio part needs `input_audio`.", f"{path}.input_audio")
        return AudioPart(data=part.input_audio.data, format=part.input_audio.format)
    if kind == "file":
        return _file(part, path)
    return _thinking(part)


def _image(part: _WPart, path: str) -> ImagePart:
    image = part.image_url
    if image is None:
        raise _bad("An image_url part needs `image_url.url`.", f"{path}.image_url")
    url, detail = (image, None) if isinstance(image, str) else (image.url, image.detail)
    inline = parse_data_url(url)
    if inline is not None:
        return ImagePart(
            data=inline[0], media_type=inline[1], detail=detail, cache_control=part.cache_control
        )
    return ImagePart(url=url, detail=detail, cache_control=part.cache_control)


def _file(part: _WPart, path: str) -> FilePart:
    f = part.file
    if f is None or (f.file_data is None and f.file_id is None):
        raise _bad("A file part needs `file.file_data` or `file.file_id`.", f"{path}.file")
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


def _thinking(part: _WPart) -> ThinkingPart:
    thinking = part.thinking
    if isinstance(thinking, list):
        text = "".join(item.text for item in thinking)
    else:
        text = thinking or part.text or ""
    return ThinkingPart(text=text, signature=part.signature)


# --- embeddings --------------------------------------------------------------


class _WEmbeddingRequest(msgspec.Struct):
    model: str | None = None
    input: str | list[Any] | None = None
    dimensions: int | None = None
    encoding_format: str | None = None
    user: str | None = None


_EMBEDDING_DECODER = msgspec.json.Decoder(_WEmbeddingRequest)


def decode_embeddings_request(body: bytes) -> EmbeddingRequest:
    """An OpenAI ``CreateEmbeddingRequest`` body as a canonical request."""
    try:
        wire = _EMBEDDING_DECODER.decode(body)
    except msgspec.DecodeError as exc:
        raise _decode_error(exc) from None
    if not wire.model:
        raise _bad("The request has no `model`: name the embedding model to use.", "model")
    if wire.input is None:
        raise _bad("The request has no `input`: send a string or a list of strings.", "input")
    fmt = wire.encoding_format or "float"
    if fmt not in ("float", "base64"):
        raise _bad(
            f"`encoding_format` {fmt!r} is not valid: use 'float' or 'base64'.",
            "encoding_format",
        )
    if wire.dimensions is not None and wire.dimensions < 1:
        raise _bad("`dimensions` must be at least 1.", "dimensions")
    return EmbeddingRequest(
        model=wire.model,
        input=_embedding_input(wire.input),
        dimensions=wire.dimensions,
        encoding_format=cast(Literal["float", "base64"], fmt),
        user=wire.user,
    )


def _embedding_input(value: str | list[Any]) -> list[str] | list[list[int]]:
    if isinstance(value, str):
        return [value]
    if not value:
        raise _bad("`input` is empty: send at least one string.", "input")
    if all(isinstance(v, str) for v in value):
        return cast(list[str], value)
    if all(_is_int(v) for v in value):
        return [cast(list[int], value)]
    if all(isinstance(v, list) and v and all(_is_int(t) for t in v) for v in value):
        return cast(list[list[int]], value)
    raise _bad(
        "`input` must be a string, a list of strings, a list of token ids or a list of "
        "lists of token ids.",
        "input",
    )


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)
