"""OpenAI Responses, server side, outbound: canonical -> ``Response`` objects and errors.

The Response object echoes the request's settings (``tools``, ``tool_choice``,
``text``, ``reasoning``...), which a :class:`ChatResponse` does not carry, so
:func:`encode_response` takes the canonical request too; without it the
spec's defaults are written. Fields the spec requires (even as ``null``) have
no default in the structs below and are always written.

Canonical content becomes output items in order: consecutive thinking parts
-> one ``reasoning`` item (a part with a ``signature`` closes it; the
signature is its ``encrypted_content``), consecutive text parts -> one
``message`` item of ``output_text`` parts (plus a ``refusal`` part), each tool
call -> a ``function_call`` item (``call_id`` = the canonical call id).
Anthropic's redacted thinking has no Responses form and is left out.
"""

from __future__ import annotations

import time
from typing import Any

import msgspec

from junction.codecs.openai_chat_common import ERROR_TYPES
from junction.codecs.openai_responses_common import (
    ERROR_CODES,
    FINISH_TO_INCOMPLETE,
    item_id,
    response_id,
)
from junction.types import (
    ChatRequest,
    ChatResponse,
    FinishReason,
    GatewayError,
    Message,
    Part,
    TextPart,
    ThinkingPart,
    ToolCallPart,
    Usage,
)

# --- wire structs ----------------------------------------------------------------


class OText(msgspec.Struct):
    text: str
    type: str = "output_text"
    annotations: list[Any] = msgspec.field(default_factory=list)
    logprobs: list[Any] = msgspec.field(default_factory=list)


class ORefusal(msgspec.Struct):
    refusal: str
    type: str = "refusal"


class OMessage(msgspec.Struct):
    id: str
    content: list[OText | ORefusal]
    status: str = "completed"
    type: str = "message"
    role: str = "assistant"


class OFunctionCall(msgspec.Struct):
    id: str
    call_id: str
    name: str
    arguments: str
    status: str = "completed"
    type: str = "function_call"


class OSummary(msgspec.Struct):
    text: str
    type: str = "summary_text"


class OReasoning(msgspec.Struct):
    id: str
    summary: list[OSummary]
    type: str = "reasoning"
    encrypted_content: str | None = None


OutputItem = OMessage | OFunctionCall | OReasoning


class _OInputDetails(msgspec.Struct):
    cached_tokens: int
    cache_write_tokens: int


class _OOutputDetails(msgspec.Struct):
    reasoning_tokens: int


class OUsage(msgspec.Struct, omit_defaults=True):
    input_tokens: int
    input_tokens_details: _OInputDetails
    output_tokens: int
    output_tokens_details: _OOutputDetails
    total_tokens: int
    cost: float | None = None
    """OpenRouter's extension, as in the chat dialect."""


class OError(msgspec.Struct):
    code: str
    message: str


class OIncomplete(msgspec.Struct):
    reason: str


class OResponse(msgspec.Struct, omit_defaults=True):
    id: str
    object: str
    created_at: int
    status: str
    error: OError | None
    incomplete_details: OIncomplete | None
    instructions: str | None
    max_output_tokens: int | None
    model: str
    output: list[Any]
    parallel_tool_calls: bool
    previous_response_id: None
    reasoning: dict[str, Any] | None
    service_tier: str | None
    temperature: float | None
    text: dict[str, Any]
    tool_choice: str | dict[str, Any]
    tools: list[dict[str, Any]]
    top_p: float | None
    truncation: str
    metadata: dict[str, str]
    usage: OUsage | None = None
    user: str | None = None
    """``usage`` and ``user`` are not nullable in the spec: left out when unset."""


class _OErrorBody(msgspec.Struct):
    message: str
    type: str
    param: str | None
    code: str | None


class _OErrorEnvelope(msgspec.Struct):
    error: _OErrorBody


encode_json = msgspec.json.Encoder().encode
_SERVICE_TIERS = frozenset({"auto", "default", "flex", "scale", "priority"})

# --- the request echo ----------------------------------------------------------------


class Echo(msgspec.Struct):
    """What a Response repeats of the request that made it."""

    instructions: str | None = None
    max_output_tokens: int | None = None
    parallel_tool_calls: bool = True
    reasoning: dict[str, Any] | None = None
    temperature: float | None = None
    text: dict[str, Any] = msgspec.field(default_factory=lambda: {"format": {"type": "text"}})
    tool_choice: str | dict[str, Any] = "auto"
    tools: list[dict[str, Any]] = msgspec.field(default_factory=list)
    top_p: float | None = None
    user: str | None = None
    metadata: dict[str, str] = msgspec.field(default_factory=dict)


def _format(request: ChatRequest) -> dict[str, Any]:
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


def echo(request: ChatRequest | None) -> Echo:
    if request is None:
        return Echo()
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
        text=_format(request),
        tool_choice=tool_choice,
        tools=tools,
        top_p=request.top_p,
        user=request.user,
        metadata=request.metadata or {},
    )


# --- building blocks ------------------------------------------------------------------


def usage(u: Usage) -> OUsage:
    return OUsage(
        input_tokens=u.prompt_tokens,
        input_tokens_details=_OInputDetails(
            cached_tokens=u.cached_tokens, cache_write_tokens=u.cache_write_tokens
        ),
        output_tokens=u.completion_tokens,
        output_tokens_details=_OOutputDetails(reasoning_tokens=u.reasoning_tokens),
        total_tokens=u.total_tokens,
        cost=u.cost,
    )


def error_object(err: GatewayError) -> OError:
    return OError(code=ERROR_CODES.get(err.kind, "server_error"), message=err.message)


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
    error: OError | None = None,
    service_tier: str | None = None,
) -> OResponse:
    reason = FINISH_TO_INCOMPLETE.get(finish) if finish is not None else None
    return OResponse(
        id=rid,
        object="response",
        created_at=created,
        status=status,
        error=error,
        incomplete_details=OIncomplete(reason) if reason is not None else None,
        instructions=echoed.instructions,
        max_output_tokens=echoed.max_output_tokens,
        model=model,
        output=output,
        parallel_tool_calls=echoed.parallel_tool_calls,
        previous_response_id=None,
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
        self._text: list[OText | ORefusal] = []
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
            self._text.append(OText(text=part.text))
        elif isinstance(part, ToolCallPart):
            self._flush()
            self.items.append(
                OFunctionCall(
                    id=item_id("fc"), call_id=part.id, name=part.name, arguments=part.arguments
                )
            )

    def refusal(self, text: str) -> None:
        self._flush_thinking()
        self._text.append(ORefusal(refusal=text))

    def _flush_text(self) -> None:
        if self._text:
            self.items.append(OMessage(id=item_id("msg"), content=self._text, status=self._status))
            self._text = []

    def _flush_thinking(self) -> None:
        if self._thinking:
            parts = self._thinking
            self.items.append(
                OReasoning(
                    id=item_id("rs"),
                    summary=[OSummary(text=p.text) for p in parts if p.text],
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


# --- whole bodies -----------------------------------------------------------------------


def encode_response(response: ChatResponse, request: ChatRequest | None = None) -> bytes:
    """A canonical response as an OpenAI ``Response`` object (the first choice:
    the Responses API has no ``n``)."""
    choice = response.choices[0] if response.choices else None
    finish = choice.finish_reason if choice is not None else None
    status = status_for(finish)
    error = None
    if status == "failed":
        error = OError(code="server_error", message="the model stopped with an error")
    output = output_items(choice.message, status) if choice is not None else []
    return encode_json(
        response_object(
            rid=response_id(response.id),
            model=response.model,
            created=response.created or int(time.time()),
            status=status,
            output=output,
            echoed=echo(request),
            usage_=response.usage,
            finish=finish,
            error=error,
            service_tier=response.service_tier,
        )
    )


def encode_error(err: GatewayError) -> bytes:
    """``{"error": {"message", "type", "param", "code"}}`` (OpenAI's ``Error``)."""
    body = _OErrorBody(
        message=err.message,
        type=ERROR_TYPES.get(err.kind, "invalid_request_error"),
        param=err.param,
        code=err.code or err.kind,
    )
    return encode_json(_OErrorEnvelope(error=body))
