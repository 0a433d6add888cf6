"""OpenAI Responses, server side, inbound: ``POST /v1/responses`` bodies -> canonical.

The body is decoded once by msgspec into lenient private wire structs (the
JSON path of a type mistake is reported), then converted. Input items map as:

- message items (``role`` user / system / developer / assistant, ``type``
  ``message`` or absent) -> messages; content is a string or parts
  (``input_text``, ``input_image``, ``input_file``; ``output_text`` and
  ``refusal`` in assistant history);
- ``function_call`` -> a :class:`ToolCallPart` (``id`` = ``call_id``),
  ``reasoning`` -> :class:`ThinkingPart` s; these and assistant messages
  that follow one another become one assistant message (one model turn);
- ``function_call_output`` -> a ``tool`` message with one :class:`ToolResultPart`.

Item ids (``msg_...``, ``fc_...``, ``rs_...``) are not kept: junction stores
nothing, so an id names nothing it could look up (see ``openai_responses``).
"""

from __future__ import annotations

from typing import Any, Literal, cast

import msgspec

from junction.codecs.openai_chat_common import parse_data_url
from junction.codecs.openai_chat_ingress import new_tool_call_id
from junction.types import (
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

# --- wire structs (private; unknown fields are ignored) ---------------------


class _WContent(msgspec.Struct):
    type: str
    text: str | None = None
    image_url: str | None = None
    file_id: str | None = None
    detail: str | None = None
    file_data: str | None = None
    file_url: str | None = None
    filename: str | None = None
    refusal: str | None = None


class _WSummary(msgspec.Struct):
    text: str = ""
    type: str = "summary_text"


class _WItem(msgspec.Struct):
    type: str | None = None
    role: str | None = None
    content: str | list[_WContent] | None = None
    call_id: str | None = None
    name: str | None = None
    arguments: str | None = None
    output: str | list[_WContent] | None = None
    summary: list[_WSummary] | None = None
    encrypted_content: str | None = None


class _WTool(msgspec.Struct):
    type: str
    name: str | None = None
    description: str | None = None
    parameters: dict[str, Any] | None = None
    strict: bool | None = None


class _WToolChoice(msgspec.Struct):
    type: str
    name: str | None = None


class _WFormat(msgspec.Struct):
    type: str
    name: str | None = None
    schema: dict[str, Any] | None = None
    strict: bool | None = None
    description: str | None = None


class _WText(msgspec.Struct):
    format: _WFormat | None = None
    verbosity: str | None = None


class _WReasoning(msgspec.Struct):
    effort: str | None = None
    summary: str | None = None
    generate_summary: str | None = None


class _WRequest(msgspec.Struct):
    model: str | msgspec.UnsetType = msgspec.UNSET
    input: str | list[_WItem] | msgspec.UnsetType = msgspec.UNSET
    instructions: str | None = None
    tools: list[_WTool] | None = None
    tool_choice: str | _WToolChoice | None = None
    parallel_tool_calls: bool | None = None
    max_output_tokens: int | None = None
    temperature: float | None = None
    top_p: float | None = None
    reasoning: _WReasoning | None = None
    text: _WText | None = None
    metadata: dict[str, str] | None = None
    user: str | None = None
    stream: bool | None = None
    store: bool | None = None
    previous_response_id: str | None = None
    conversation: Any = None
    include: list[str] | None = None
    truncation: str | None = None
    service_tier: str | None = None
    prompt_cache_key: str | None = None
    background: bool | None = None
    prompt: Any = None
    stream_options: Any = None


_REQUEST_DECODER = msgspec.json.Decoder(_WRequest)
_TOP_LEVEL_DECODER = msgspec.json.Decoder(dict[str, msgspec.Raw])
_KNOWN_FIELDS = frozenset(_WRequest.__struct_fields__)
_EFFORTS = ("none", "minimal", "low", "medium", "high", "xhigh", "max")
_ROLES = ("user", "assistant", "system", "developer")
_PARTS_BY_ROLE = {
    "user": ("input_text", "input_image", "input_file"),
    "system": ("input_text",),
    "developer": ("input_text",),
    "assistant": ("output_text", "input_text", "refusal"),
}
_STATEFUL_ITEMS = ("item_reference", "compaction")
_TRUNCATIONS = ("auto", "disabled")


def _bad(message: str, param: str | None = None) -> GatewayError:
    return GatewayError("invalid_request", message, param=param)


def _decode_error(exc: msgspec.DecodeError) -> GatewayError:
    if not isinstance(exc, msgspec.ValidationError):
        return _bad(f"Request body is not valid JSON: {exc}")
    text = str(exc)
    _, sep, path = text.rpartition(" - at `$")
    param = (path.rstrip("`").lstrip(".") or None) if sep else None
    return _bad(f"Invalid request body: {text}", param)


# --- the request ---------------------------------------------------------------


def decode_request(body: bytes) -> ChatRequest:
    """An OpenAI ``CreateResponse`` body as a canonical request.

    Raises :class:`GatewayError` (``invalid_request`` with ``param``) for
    anything the client must fix, including the stateful features junction
    does not offer (``previous_response_id``, ``conversation``, ``background``,
    stored ``prompt`` templates, ``item_reference`` items).
    """
    try:
        wire = _REQUEST_DECODER.decode(body)
    except msgspec.DecodeError as exc:
        raise _decode_error(exc) from None
    if not wire.model:
        raise _bad("The request has no `model`: name the model to use.", "model")
    _refuse_state(wire)
    if wire.input is msgspec.UNSET:
        raise _bad("The request has no `input`: send a string or a list of input items.", "input")
    messages = _instructions(wire.instructions) + _input(wire.input)
    if not messages:
        raise _bad("`input` is empty: send at least one input item.", "input")
    if wire.truncation is not None and wire.truncation not in _TRUNCATIONS:
        raise _bad(
            f"`truncation` {wire.truncation!r} is not valid: use 'auto' or 'disabled'.",
            "truncation",
        )
    stream = bool(wire.stream)
    request = ChatRequest(
        model=wire.model,
        messages=messages,
        stream=stream,
        include_usage=stream,
        max_tokens=wire.max_output_tokens,
        temperature=wire.temperature,
        top_p=wire.top_p,
        parallel_tool_calls=wire.parallel_tool_calls,
        user=wire.user,
        metadata=wire.metadata,
        service_tier=wire.service_tier,
        prompt_cache_key=wire.prompt_cache_key,
        extra=_extra(body),
    )
    if wire.max_output_tokens is not None and wire.max_output_tokens < 1:
        raise _bad("`max_output_tokens` must be at least 1.", "max_output_tokens")
    if wire.tools:
        request.tools = [_tool(i, t) for i, t in enumerate(wire.tools)]
    if wire.tool_choice is not None:
        request.tool_choice = _tool_choice(wire.tool_choice)
    if wire.text is not None:
        if wire.text.format is not None:
            request.response_format = _format(wire.text.format)
        if wire.text.verbosity is not None:
            request.extra["verbosity"] = wire.text.verbosity
    if wire.reasoning is not None:
        request.reasoning = _reasoning(wire.reasoning)
    return request


def _refuse_state(wire: _WRequest) -> None:
    stateless = "junction keeps no conversation state: send the whole conversation in `input`"
    if wire.previous_response_id is not None:
        raise _bad(f"`previous_response_id` is not supported: {stateless}.", "previous_response_id")
    if wire.conversation is not None:
        raise _bad(f"`conversation` is not supported: {stateless}.", "conversation")
    if wire.background:
        raise _bad(
            "`background` mode is not supported: junction stores no responses to poll; "
            "send the request without it (stream it if it is long).",
            "background",
        )
    if wire.prompt is not None:
        raise _bad(
            "`prompt` (a stored prompt template) is not supported: send the prompt's text in "
            "`instructions` and `input`.",
            "prompt",
        )


def _extra(body: bytes) -> dict[str, Any]:
    fields = _TOP_LEVEL_DECODER.decode(body)
    return {k: msgspec.json.decode(v) for k, v in fields.items() if k not in _KNOWN_FIELDS}


def _instructions(text: str | None) -> list[Message]:
    return [Message(role="system", content=[TextPart(text=text)])] if text else []


# --- tools and formats -----------------------------------------------------------


def _tool(i: int, tool: _WTool) -> Tool:
    if tool.type != "function":
        raise _bad(
            f"Tool type {tool.type!r} is not supported: junction forwards function tools "
            "only (built-in tools such as web_search, file_search, code_interpreter, "
            'computer use, image generation or mcp are not); send {"type": "function", '
            '"name": ..., "parameters": ...}.',
            f"tools[{i}].type",
        )
    if not tool.name:
        raise _bad("A function tool needs a `name`.", f"tools[{i}].name")
    out = Tool(name=tool.name, description=tool.description, strict=tool.strict)
    if tool.parameters is not None:
        out.parameters = tool.parameters
    return out


def _tool_choice(choice: str | _WToolChoice) -> ToolChoice:
    if isinstance(choice, str):
        if choice in ("auto", "none", "required"):
            return ToolChoice(mode=cast(Literal["auto", "none", "required"], choice))
        raise _bad(
            f"`tool_choice` {choice!r} is not valid: use 'auto', 'none', 'required' or "
            '{"type": "function", "name": ...}.',
            "tool_choice",
        )
    if choice.type != "function" or not choice.name:
        raise _bad(
            f"`tool_choice` of type {choice.type!r} is not supported: name one function with "
            '{"type": "function", "name": ...}.',
            "tool_choice",
        )
    return ToolChoice(mode="tool", name=choice.name)


def _format(fmt: _WFormat) -> ResponseFormat:
    if fmt.type in ("text", "json_object"):
        return ResponseFormat(type=cast(Literal["text", "json_object"], fmt.type))
    if fmt.type != "json_schema":
        raise _bad(
            f"`text.format.type` {fmt.type!r} is not valid: use 'text', 'json_object' or "
            "'json_schema'.",
            "text.format.type",
        )
    if fmt.schema is None:
        raise _bad("`text.format` of type 'json_schema' needs `schema`.", "text.format.schema")
    return ResponseFormat(
        type="json_schema",
        name=fmt.name,
        schema=fmt.schema,
        strict=fmt.strict,
        description=fmt.description,
    )


def _reasoning(wire: _WReasoning) -> Reasoning:
    effort: ReasoningEffort | None = None
    if wire.effort is not None:
        if wire.effort not in _EFFORTS:
            raise _bad(
                f"`reasoning.effort` {wire.effort!r} is not valid: use one of "
                f"{', '.join(_EFFORTS)}.",
                "reasoning.effort",
            )
        effort = cast(ReasoningEffort, wire.effort)
    return Reasoning(
        enabled=effort != "none",
        effort=effort,
        summary=wire.summary or wire.generate_summary,
    )


# --- input items -----------------------------------------------------------------


def _input(value: str | list[_WItem]) -> list[Message]:
    if isinstance(value, str):
        return [Message(role="user", content=[TextPart(text=value)])]
    out: list[Message] = []
    for i, item in enumerate(value):
        _item(i, item, out)
    return out


def _turn(out: list[Message]) -> Message:
    """The assistant message the next model-turn item joins (a new one if the
    last message is not the assistant's)."""
    if out and out[-1].role == "assistant":
        return out[-1]
    message = Message(role="assistant")
    out.append(message)
    return message


def _item(i: int, item: _WItem, out: list[Message]) -> None:
    kind = item.type or ("message" if item.role is not None else None)
    path = f"input[{i}]"
    if kind == "message":
        _message_item(i, item, out)
    elif kind == "function_call":
        if not item.name:
            raise _bad("A function_call item needs a `name`.", f"{path}.name")
        call = ToolCallPart(
            id=item.call_id or new_tool_call_id(), name=item.name, arguments=item.arguments or "{}"
        )
        _turn(out).content.append(call)
    elif kind == "function_call_output":
        out.append(_tool_output(i, item))
    elif kind == "reasoning":
        _turn(out).content.extend(_reasoning_parts(item))
    elif kind in _STATEFUL_ITEMS:
        raise _bad(
            f"Input items of type {kind!r} are not supported: junction keeps no stored items; "
            "send the full content of the conversation instead.",
            f"{path}.type",
        )
    elif kind is None:
        raise _bad("An input item needs a `type` (or a `role` for a message).", f"{path}.type")
    else:
        raise _bad(
            f"Input items of type {kind!r} are not supported: send message, function_call, "
            "function_call_output or reasoning items (built-in tool calls are not carried).",
            f"{path}.type",
        )


def _reasoning_parts(item: _WItem) -> list[Part]:
    """One ThinkingPart per summary part (reasoning text when there is no
    summary); the encrypted content rides as ``signature`` on the last one."""
    texts = [s.text for s in item.summary or ()]
    if not texts and isinstance(item.content, list):
        texts = [c.text or "" for c in item.content if c.type == "reasoning_text"]
    if not texts and not item.encrypted_content:
        return []
    parts: list[Part] = [ThinkingPart(text=t) for t in texts] or [ThinkingPart()]
    last = parts[-1]
    if isinstance(last, ThinkingPart):
        last.signature = item.encrypted_content
    return parts


def _message_item(i: int, item: _WItem, out: list[Message]) -> None:
    role = item.role
    path = f"input[{i}]"
    if role not in _ROLES:
        raise _bad(
            f"Message role {role!r} is not valid: use one of {', '.join(_ROLES)}.",
            f"{path}.role",
        )
    if item.content is None:
        raise _bad(f"A {role} message needs `content`.", f"{path}.content")
    if role == "assistant":
        turn = _turn(out)
        if isinstance(item.content, str):
            if item.content:
                turn.content.append(TextPart(text=item.content))
            return
        for j, part in enumerate(item.content):
            _check_part(role, part, f"{path}.content[{j}]")
            if part.type == "refusal":
                turn.refusal = (turn.refusal or "") + (part.refusal or "")
            else:
                turn.content.append(TextPart(text=part.text or ""))
        return
    content = _user_parts(role, item.content, path)
    out.append(Message(role=cast(Literal["user", "system", "developer"], role), content=content))


def _check_part(role: str, part: _WContent, path: str) -> None:
    allowed = _PARTS_BY_ROLE[role]
    if part.type not in allowed:
        raise _bad(
            f"Content part type {part.type!r} is not supported in a {role} message: use "
            f"{', '.join(allowed)}.",
            f"{path}.type",
        )


def _user_parts(role: str, content: str | list[_WContent], path: str) -> list[Part]:
    if isinstance(content, str):
        return [TextPart(text=content)]
    out: list[Part] = []
    for j, part in enumerate(content):
        where = f"{path}.content[{j}]"
        _check_part(role, part, where)
        out.append(_input_part(part, where))
    return out


def _input_part(part: _WContent, path: str) -> TextPart | ImagePart | FilePart:
    if part.type == "input_text":
        if part.text is None:
            raise _bad("An input_text part needs `text`.", f"{path}.text")
        return TextPart(text=part.text)
    if part.type == "input_image":
        return _image(part, path)
    return _file(part, path)


def _image(part: _WContent, path: str) -> ImagePart | FilePart:
    if part.image_url:
        inline = parse_data_url(part.image_url)
        if inline is not None:
            return ImagePart(data=inline[0], media_type=inline[1], detail=part.detail)
        return ImagePart(url=part.image_url, detail=part.detail)
    if part.file_id:
        # An uploaded image: canonical images have no file id, so it travels as a
        # file whose media type says image (the Responses egress sends it back
        # as input_image).
        return FilePart(file_id=part.file_id, media_type="image/*")
    raise _bad("An input_image part needs `image_url` or `file_id`.", path)


def _file(part: _WContent, path: str) -> FilePart:
    if part.file_id is None and part.file_data is None and part.file_url is None:
        raise _bad("An input_file part needs `file_id`, `file_data` or `file_url`.", path)
    out = FilePart(file_id=part.file_id, filename=part.filename, url=part.file_url)
    if part.file_data is not None:
        inline = parse_data_url(part.file_data)
        if inline is not None:
            out.data, out.media_type = inline
        else:
            out.data = part.file_data
    return out


def _tool_output(i: int, item: _WItem) -> Message:
    path = f"input[{i}]"
    if not item.call_id:
        raise _bad(
            "A function_call_output item needs the `call_id` of the call it answers.",
            f"{path}.call_id",
        )
    output = item.output
    if output is None:
        raise _bad("A function_call_output item needs `output`.", f"{path}.output")
    if isinstance(output, str):
        content: list[TextPart | ImagePart | FilePart] = [TextPart(text=output)]
    else:
        content = []
        for j, part in enumerate(output):
            where = f"{path}.output[{j}]"
            _check_part("user", part, where)
            content.append(_input_part(part, where))
    return Message(
        role="tool", content=[ToolResultPart(tool_call_id=item.call_id, content=content)]
    )
