"""OpenAI Responses, server side (the ``/v1/responses`` door and the
simulator): request bodies in, responses and errors out."""

from __future__ import annotations

import time
from typing import Any, Literal, cast

import msgspec

from junction.codecs._shared.media import new_tool_call_id, parse_data_url
from junction.codecs._shared.openai_errors import ERROR_TYPES
from junction.codecs._shared.reasoning import EFFORTS
from junction.codecs._shared.validation import decode_error, invalid, unknown_fields
from junction.codecs.openai_responses import wire
from junction.codecs.openai_responses.wire import (
    ERROR_CODES,
    FINISH_TO_INCOMPLETE,
    Echo,
    item_id,
    response_id,
)
from junction.types import (
    ChatRequest,
    ChatResponse,
    FilePart,
    FinishReason,
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

_REQUEST_DECODER = msgspec.json.Decoder(wire.Request)


_KNOWN_FIELDS = frozenset(wire.Request.__struct_fields__)


_ROLES = ("user", "assistant", "system", "developer")


_PARTS_BY_ROLE = {
    "user": ("input_text", "input_image", "input_file"),
    "system": ("input_text",),
    "developer": ("input_text",),
    "assistant": ("output_text", "input_text", "refusal"),
}


_STATEFUL_ITEMS = ("item_reference", "compaction")


_TRUNCATIONS = ("auto", "disabled")


def decode_request(body: bytes, history: list[wire.Item] | None = None) -> ChatRequest:
    """An OpenAI ``CreateResponse`` body as a canonical request.

    ``history`` is the conversation a stored ``previous_response_id`` stands
    for (its turns' input and output items, oldest first; see
    server/stored_responses.py): given, it goes after the instructions and
    before the input, and ``previous_response_id`` is accepted. Without it
    (no response store), ``previous_response_id`` is refused.

    Raises :class:`GatewayError` (``invalid_request`` with ``param``) for
    anything the client must fix, including the stateful features junction
    does not offer (``previous_response_id`` without a store, ``conversation``,
    ``background``, stored ``prompt`` templates, ``item_reference`` items).
    """
    try:
        incoming = _REQUEST_DECODER.decode(body)
    except msgspec.DecodeError as exc:
        raise decode_error(exc) from None
    if not incoming.model:
        raise invalid("The request has no `model`: name the model to use.", "model")
    _refuse_state(incoming, stored=history is not None)
    if incoming.input is msgspec.UNSET:
        raise invalid(
            "The request has no `input`: send a string or a list of input items.", "input"
        )
    messages = _instructions(incoming.instructions)
    if history:
        _items(history, messages, "history")
    messages += _input(incoming.input)
    if not messages:
        raise invalid("`input` is empty: send at least one input item.", "input")
    if incoming.truncation is not None and incoming.truncation not in _TRUNCATIONS:
        raise invalid(
            f"`truncation` {incoming.truncation!r} is not valid: use 'auto' or 'disabled'.",
            "truncation",
        )
    stream = bool(incoming.stream)
    request = ChatRequest(
        model=incoming.model,
        messages=messages,
        stream=stream,
        include_usage=stream,
        max_tokens=incoming.max_output_tokens,
        temperature=incoming.temperature,
        top_p=incoming.top_p,
        parallel_tool_calls=incoming.parallel_tool_calls,
        user=incoming.user,
        metadata=incoming.metadata,
        service_tier=incoming.service_tier,
        prompt_cache_key=incoming.prompt_cache_key,
        extra=unknown_fields(body, _KNOWN_FIELDS),
    )
    if incoming.max_output_tokens is not None and incoming.max_output_tokens < 1:
        raise invalid("`max_output_tokens` must be at least 1.", "max_output_tokens")
    if incoming.tools:
        request.tools = [_tool(i, t) for i, t in enumerate(incoming.tools)]
    if incoming.tool_choice is not None:
        request.tool_choice = _tool_choice(incoming.tool_choice)
    if incoming.text is not None:
        if incoming.text.format is not None:
            request.response_format = _format(incoming.text.format)
        if incoming.text.verbosity is not None:
            request.extra["verbosity"] = incoming.text.verbosity
    if incoming.reasoning is not None:
        request.reasoning = _reasoning(incoming.reasoning)
    return request


def _refuse_state(incoming: wire.Request, stored: bool) -> None:
    stateless = "junction keeps no conversation state: send the whole conversation in `input`"
    if incoming.previous_response_id is not None and not stored:
        raise invalid(
            f"`previous_response_id` is not supported: {stateless}.", "previous_response_id"
        )
    if incoming.conversation is not None:
        raise invalid(f"`conversation` is not supported: {stateless}.", "conversation")
    if incoming.background:
        raise invalid(
            "`background` mode is not supported: junction stores no responses to poll; "
            "send the request without it (stream it if it is long).",
            "background",
        )
    if incoming.prompt is not None:
        raise invalid(
            "`prompt` (a stored prompt template) is not supported: send the prompt's text in "
            "`instructions` and `input`.",
            "prompt",
        )


def _instructions(text: str | None) -> list[Message]:
    return [Message(role="system", content=[TextPart(text=text)])] if text else []


def _tool(i: int, tool: wire.Tool) -> Tool:
    if tool.type != "function":
        raise invalid(
            f"Tool type {tool.type!r} is not supported: junction forwards function tools "
            "only (built-in tools such as web_search, file_search, code_interpreter, "
            'computer use, image generation or mcp are not); send {"type": "function", '
            '"name": ..., "parameters": ...}.',
            f"tools[{i}].type",
        )
    if not tool.name:
        raise invalid("A function tool needs a `name`.", f"tools[{i}].name")
    out = Tool(name=tool.name, description=tool.description, strict=tool.strict)
    if tool.parameters is not None:
        out.parameters = tool.parameters
    return out


def _tool_choice(choice: str | wire.ToolChoice) -> ToolChoice:
    if isinstance(choice, str):
        if choice in ("auto", "none", "required"):
            return ToolChoice(mode=cast("Literal['auto', 'none', 'required']", choice))
        raise invalid(
            f"`tool_choice` {choice!r} is not valid: use 'auto', 'none', 'required' or "
            '{"type": "function", "name": ...}.',
            "tool_choice",
        )
    if choice.type != "function" or not choice.name:
        raise invalid(
            f"`tool_choice` of type {choice.type!r} is not supported: name one function with "
            '{"type": "function", "name": ...}.',
            "tool_choice",
        )
    return ToolChoice(mode="tool", name=choice.name)


def _format(fmt: wire.Format) -> ResponseFormat:
    if fmt.type in ("text", "json_object"):
        return ResponseFormat(type=cast("Literal['text', 'json_object']", fmt.type))
    if fmt.type != "json_schema":
        raise invalid(
            f"`text.format.type` {fmt.type!r} is not valid: use 'text', 'json_object' or "
            "'json_schema'.",
            "text.format.type",
        )
    if fmt.schema is None:
        raise invalid("`text.format` of type 'json_schema' needs `schema`.", "text.format.schema")
    return ResponseFormat(
        type="json_schema",
        name=fmt.name,
        schema=fmt.schema,
        strict=fmt.strict,
        description=fmt.description,
    )


def _reasoning(incoming: wire.Reasoning) -> Reasoning:
    effort: ReasoningEffort | None = None
    if incoming.effort is not None:
        if incoming.effort not in EFFORTS:
            raise invalid(
                f"`reasoning.effort` {incoming.effort!r} is not valid: use one of "
                f"{', '.join(EFFORTS)}.",
                "reasoning.effort",
            )
        effort = cast(ReasoningEffort, incoming.effort)
    return Reasoning(
        enabled=effort != "none",
        effort=effort,
        summary=incoming.summary or incoming.generate_summary,
    )


def _input(value: str | list[wire.Item]) -> list[Message]:
    if isinstance(value, str):
        return [Message(role="user", content=[TextPart(text=value)])]
    out: list[Message] = []
    _items(value, out, "input")
    return out


def _items(items: list[wire.Item], out: list[Message], where: str) -> None:
    for i, item in enumerate(items):
        _item(i, item, out, where)


def _turn(out: list[Message]) -> Message:
    """The assistant message the next model-turn item joins (a new one if the
    last message is not the assistant's)."""
    if out and out[-1].role == "assistant":
        return out[-1]
    message = Message(role="assistant")
    out.append(message)
    return message


def _item(i: int, item: wire.Item, out: list[Message], where: str = "input") -> None:
    kind = item.type or ("message" if item.role is not None else None)
    path = f"{where}[{i}]"
    if kind == "message":
        _message_item(i, item, out, where)
    elif kind == "function_call":
        if not item.name:
            raise invalid("A function_call item needs a `name`.", f"{path}.name")
        call = ToolCallPart(
            id=item.call_id or new_tool_call_id(), name=item.name, arguments=item.arguments or "{}"
        )
        _turn(out).content.append(call)
    elif kind == "function_call_output":
        out.append(_tool_output(i, item, where))
    elif kind == "reasoning":
        _turn(out).content.extend(_reasoning_parts(item))
    elif kind in _STATEFUL_ITEMS:
        raise invalid(
            f"Input items of type {kind!r} are not supported: junction keeps no stored items; "
            "send the full content of the conversation instead.",
            f"{path}.type",
        )
    elif kind is None:
        raise invalid("An input item needs a `type` (or a `role` for a message).", f"{path}.type")
    else:
        raise invalid(
            f"Input items of type {kind!r} are not supported: send message, function_call, "
            "function_call_output or reasoning items (built-in tool calls are not carried).",
            f"{path}.type",
        )


def _reasoning_parts(item: wire.Item) -> list[Part]:
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


def _message_item(i: int, item: wire.Item, out: list[Message], where: str) -> None:
    role = item.role
    path = f"{where}[{i}]"
    if role not in _ROLES:
        raise invalid(
            f"Message role {role!r} is not valid: use one of {', '.join(_ROLES)}.",
            f"{path}.role",
        )
    if item.content is None:
        raise invalid(f"A {role} message needs `content`.", f"{path}.content")
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
    out.append(Message(role=cast("Literal['user', 'system', 'developer']", role), content=content))


def _check_part(role: str, part: wire.Content, path: str) -> None:
    allowed = _PARTS_BY_ROLE[role]
    if part.type not in allowed:
        raise invalid(
            f"Content part type {part.type!r} is not supported in a {role} message: use "
            f"{', '.join(allowed)}.",
            f"{path}.type",
        )


def _user_parts(role: str, content: str | list[wire.Content], path: str) -> list[Part]:
    if isinstance(content, str):
        return [TextPart(text=content)]
    out: list[Part] = []
    for j, part in enumerate(content):
        where = f"{path}.content[{j}]"
        _check_part(role, part, where)
        out.append(_input_part(part, where))
    return out


def _input_part(part: wire.Content, path: str) -> TextPart | ImagePart | FilePart:
    if part.type == "input_text":
        if part.text is None:
            raise invalid("An input_text part needs `text`.", f"{path}.text")
        return TextPart(text=part.text)
    if part.type == "input_image":
        return _image(part, path)
    return _file(part, path)


def _image(part: wire.Content, path: str) -> ImagePart | FilePart:
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
    raise invalid("An input_image part needs `image_url` or `file_id`.", path)


def _file(part: wire.Content, path: str) -> FilePart:
    if part.file_id is None and part.file_data is None and part.file_url is None:
        raise invalid("An input_file part needs `file_id`, `file_data` or `file_url`.", path)
    out = FilePart(file_id=part.file_id, filename=part.filename, url=part.file_url)
    if part.file_data is not None:
        inline = parse_data_url(part.file_data)
        if inline is not None:
            out.data, out.media_type = inline
        else:
            out.data = part.file_data
    return out


def _tool_output(i: int, item: wire.Item, where: str) -> Message:
    path = f"{where}[{i}]"
    if not item.call_id:
        raise invalid(
            "A function_call_output item needs the `call_id` of the call it answers.",
            f"{path}.call_id",
        )
    output = item.output
    if output is None:
        raise invalid("A function_call_output item needs `output`.", f"{path}.output")
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


encode_json = msgspec.json.Encoder().encode


_SERVICE_TIERS = frozenset({"auto", "default", "flex", "scale", "priority"})


def _echo_format(request: ChatRequest) -> dict[str, Any]:
    fmt = request.response_format
    if fmt is None or fmt.type != "json_schema":
        return {"format": {"type": fmt.type if fmt else "text"}}
    out: dict[str, Any] = {
        "type": "json_schema",
        "name": fmt.name or "response",
        "schema": fmt.schema or {},
        "strict": fmt.strict,
    }
    if fmt.description is not None:
        out["description"] = fmt.description
    return {"format": out}


def echo(request: ChatRequest | None, previous_response_id: str | None = None) -> Echo:
    if request is None:
        return Echo(previous_response_id=previous_response_id)
    first = request.messages[0] if request.messages else None
    instructions = first.text() if first is not None and first.role == "system" else None
    choice = request.tool_choice
    tool_choice: str | dict[str, Any] = "auto"
    if choice is not None:
        tool_choice = (
            {"type": "function", "name": choice.name} if choice.mode == "tool" else choice.mode
        )
    reasoning = None
    if request.reasoning is not None:
        r = request.reasoning
        effort = r.effort if r.enabled else "none"
        reasoning = {"effort": effort, "summary": r.summary}
    tools = [
        {
            "type": "function",
            "name": t.name,
            "description": t.description,
            "parameters": t.parameters,
            "strict": t.strict,
        }
        for t in request.tools
    ]
    return Echo(
        instructions=instructions,
        max_output_tokens=request.max_tokens,
        parallel_tool_calls=request.parallel_tool_calls is not False,
        reasoning=reasoning,
        temperature=request.temperature,
        text=_echo_format(request),
        tool_choice=tool_choice,
        tools=tools,
        top_p=request.top_p,
        user=request.user,
        metadata=request.metadata or {},
        previous_response_id=previous_response_id,
    )


def usage(u: Usage) -> wire.Usage:
    return wire.Usage(
        input_tokens=u.prompt_tokens,
        input_tokens_details=wire.InputDetails(
            cached_tokens=u.cached_tokens, cache_write_tokens=u.cache_write_tokens
        ),
        output_tokens=u.completion_tokens,
        output_tokens_details=wire.OutputDetails(reasoning_tokens=u.reasoning_tokens),
        total_tokens=u.total_tokens,
        cost=u.cost,
    )


def error_object(err: GatewayError) -> wire.Error:
    return wire.Error(code=ERROR_CODES.get(err.kind, "server_error"), message=err.message)


def response_object(
    *,
    rid: str,
    model: str,
    created: int,
    status: str,
    output: list[Any],
    echoed: Echo,
    usage_: Usage | None = None,
    finish: FinishReason | None = None,
    error: wire.Error | None = None,
    service_tier: str | None = None,
) -> wire.Response:
    reason = FINISH_TO_INCOMPLETE.get(finish) if finish is not None else None
    return wire.Response(
        id=rid,
        object="response",
        created_at=created,
        status=status,
        error=error,
        incomplete_details=wire.Incomplete(reason) if reason is not None else None,
        instructions=echoed.instructions,
        max_output_tokens=echoed.max_output_tokens,
        model=model,
        output=output,
        parallel_tool_calls=echoed.parallel_tool_calls,
        previous_response_id=echoed.previous_response_id,
        reasoning=echoed.reasoning,
        service_tier=service_tier if service_tier in _SERVICE_TIERS else None,
        temperature=echoed.temperature,
        text=echoed.text,
        tool_choice=echoed.tool_choice,
        tools=echoed.tools,
        top_p=echoed.top_p,
        truncation="disabled",
        usage=usage(usage_) if usage_ is not None else None,
        user=echoed.user,
        metadata=echoed.metadata,
    )


def status_for(finish: FinishReason | None) -> str:
    if finish == "error":
        return "failed"
    return "incomplete" if finish in FINISH_TO_INCOMPLETE else "completed"


class _Items:
    """Canonical parts -> output items, grouping as the module docstring says."""

    def __init__(self, item_status: str) -> None:
        self.items: list[Any] = []
        self._status = item_status
        self._text: list[wire.OutputText | wire.OutputRefusal] = []
        self._thinking: list[ThinkingPart] = []

    def add(self, part: Part) -> None:
        if isinstance(part, ThinkingPart):
            if part.redacted:
                return
            self._flush_text()
            self._thinking.append(part)
            if part.signature:
                self._flush_thinking()
        elif isinstance(part, TextPart):
            self._flush_thinking()
            self._text.append(wire.OutputText(text=part.text))
        elif isinstance(part, ToolCallPart):
            self._flush()
            self.items.append(
                wire.OutputFunctionCall(
                    id=item_id("fc"), call_id=part.id, name=part.name, arguments=part.arguments
                )
            )

    def refusal(self, text: str) -> None:
        self._flush_thinking()
        self._text.append(wire.OutputRefusal(refusal=text))

    def _flush_text(self) -> None:
        if self._text:
            self.items.append(
                wire.OutputMessage(id=item_id("msg"), content=self._text, status=self._status)
            )
            self._text = []

    def _flush_thinking(self) -> None:
        if self._thinking:
            parts = self._thinking
            self.items.append(
                wire.OutputReasoning(
                    id=item_id("rs"),
                    summary=[wire.OutputSummary(text=p.text) for p in parts if p.text],
                    encrypted_content=parts[-1].signature,
                )
            )
            self._thinking = []

    def _flush(self) -> list[Any]:
        self._flush_thinking()
        self._flush_text()
        return self.items


def output_items(message: Message, status: str = "completed") -> list[Any]:
    """The output items of one assistant message."""
    items = _Items("incomplete" if status == "incomplete" else "completed")
    for part in message.content:
        items.add(part)
    if message.refusal:
        items.refusal(message.refusal)
    return items._flush()


def encode_response(response: ChatResponse, request: ChatRequest | None = None) -> bytes:
    """A canonical response as an OpenAI ``Response`` object (the first choice:
    the Responses API has no ``n``)."""
    return encode_json(response_struct(response, request))


def response_struct(
    response: ChatResponse, request: ChatRequest | None, previous_response_id: str | None = None
) -> wire.Response:
    """The ``Response`` object :func:`encode_response` writes (the stored
    Responses door keeps it and echoes ``previous_response_id``)."""
    choice = response.choices[0] if response.choices else None
    finish = choice.finish_reason if choice is not None else None
    status = status_for(finish)
    error = None
    if status == "failed":
        error = wire.Error(code="server_error", message="the model stopped with an error")
    output = output_items(choice.message, status) if choice is not None else []
    return response_object(
        rid=response_id(response.id),
        model=response.model,
        created=response.created or int(time.time()),
        status=status,
        output=output,
        echoed=echo(request, previous_response_id),
        usage_=response.usage,
        finish=finish,
        error=error,
        service_tier=response.service_tier,
    )


def encode_error(err: GatewayError) -> bytes:
    """``{"error": {"message", "type", "param", "code"}}`` (OpenAI's ``Error``)."""
    body = wire.ErrorBody(
        message=err.message,
        type=ERROR_TYPES.get(err.kind, "invalid_request_error"),
        param=err.param,
        code=err.code or err.kind,
    )
    return encode_json(wire.ErrorEnvelope(error=body))
