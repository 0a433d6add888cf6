"""Gemini dialect, server side: what a Gemini-speaking door (and the
simulator) needs. Re-exported by :mod:`junction.codecs.gemini`."""

from __future__ import annotations

from typing import Any, TypeVar

import msgspec

from junction.codecs._shared.validation import invalid_body
from junction.codecs.gemini.client import EFFORT_BUDGET
from junction.codecs.gemini.parts import (
    call_id,
    decode_part,
    encode_parts,
    encode_usage,
)
from junction.codecs.gemini.wire import (
    BatchEmbedRequest,
    BatchEmbedResponse,
    Candidate,
    Content,
    ContentEmbedding,
    EmbedContentRequest,
    EmbedContentResponse,
    FunctionResponse,
    GenerateContentRequest,
    GenerateContentResponse,
    GenerationConfig,
    ThinkingConfig,
    ToolConfig,
    camelize_keys,
    error_body,
    has_snake_keys,
    native_finish,
    openapi_to_json_schema,
)
from junction.codecs.gemini.wire import Tool as GeminiTool
from junction.types import (
    ChatRequest,
    ChatResponse,
    EmbeddingRequest,
    EmbeddingResponse,
    GatewayError,
    Message,
    Reasoning,
    ResponseFormat,
    TextPart,
    Tool,
    ToolChoice,
    ToolResultPart,
)
from junction.types import Part as CanonicalPart

_json_encode = msgspec.json.Encoder().encode


T = TypeVar("T")


_encode = msgspec.json.Encoder().encode


def _decode(body: bytes, type_: type[T], what: str) -> T:
    """Validate a request body; snake_case field names (proto JSON) are accepted."""
    try:
        if not has_snake_keys(body):
            return msgspec.json.decode(body, type=type_)
        raw: Any = msgspec.json.decode(body)
        return msgspec.convert(camelize_keys(raw), type_)
    except msgspec.DecodeError as exc:
        if isinstance(exc, msgspec.ValidationError):
            raise invalid_body(exc, f"invalid Gemini {what}") from None
        raise GatewayError("invalid_request", f"the {what} body is not valid JSON: {exc}") from None


def decode_request(body: bytes, *, model: str, stream: bool) -> ChatRequest:
    """A ``generateContent`` body as a ChatRequest (model and stream come from the URL)."""
    incoming = _decode(body, GenerateContentRequest, "generateContent request")
    if not incoming.contents:
        raise GatewayError(
            "invalid_request",
            "contents must hold at least one turn ({role: 'user', parts: [{text: ...}]})",
            param="contents",
        )
    return decode_chat_request(incoming, model, stream)


def encode_response(response: ChatResponse) -> bytes:
    """A ChatResponse as a Gemini ``GenerateContentResponse``."""
    candidates = [
        Candidate(
            content=Content(
                role="model",
                parts=encode_parts(choice.message.content, "choices", response=True),
            ),
            finish_reason=native_finish(choice.finish_reason, choice.native_finish_reason),
            index=choice.index,
        )
        for choice in response.choices
    ]
    incoming = GenerateContentResponse(
        candidates=candidates,
        usage_metadata=encode_usage(response.usage) if response.usage else None,
        model_version=response.model,
        response_id=response.id or None,
    )
    return _encode(incoming)


def encode_error(err: GatewayError) -> bytes:
    """``{"error": {"code", "message", "status"}}`` (google.rpc status names)."""
    return error_body(err)


def _text(request: EmbedContentRequest) -> str:
    return "".join(p.text for p in request.content.parts if p.text)


def decode_embed_request(body: bytes, *, model: str, batch: bool) -> EmbeddingRequest:
    """An ``embedContent`` (or ``batchEmbedContents`` when ``batch``) body."""
    if batch:
        incoming = _decode(body, BatchEmbedRequest, "batchEmbedContents request")
        requests = incoming.requests
        if not requests:
            raise GatewayError(
                "invalid_request", "requests must hold at least one item", param="requests"
            )
    else:
        requests = [_decode(body, EmbedContentRequest, "embedContent request")]
    dims = requests[0].output_dimensionality
    return EmbeddingRequest(model=model, input=[_text(r) for r in requests], dimensions=dims)


def encode_embed_response(response: EmbeddingResponse, *, batch: bool) -> bytes:
    """The ``embedContent`` / ``batchEmbedContents`` answer."""
    embeddings = [ContentEmbedding(values=v) for v in response.data]
    if batch:
        return _encode(BatchEmbedResponse(embeddings=embeddings))
    if len(embeddings) != 1:
        raise GatewayError("server", f"embedContent answers one embedding, not {len(embeddings)}")
    return _encode(EmbedContentResponse(embedding=embeddings[0]))


def _result_part(resp: FunctionResponse, tool_call_id: str) -> ToolResultPart:
    body: dict[str, Any] = resp.response or {}
    is_error = set(body) == {"error"}
    only = (
        body.get("error") if is_error else body.get("result") if set(body) == {"result"} else None
    )
    text = only if isinstance(only, str) else _json_encode(body).decode()
    return ToolResultPart(
        tool_call_id=tool_call_id,
        content=[TextPart(text=text)],
        is_error=is_error,
        name=resp.name,
    )


class _Ids:
    """Ids for calls and results that Gemini sent without one."""

    def __init__(self) -> None:
        self.n = 0
        self.open: dict[str, list[str]] = {}

    def new(self) -> str:
        self.n += 1
        return call_id(None, 0, self.n - 1)

    def called(self, name: str, id_: str) -> None:
        self.open.setdefault(name, []).append(id_)

    def answer(self, resp: FunctionResponse) -> str:
        pending = self.open.get(resp.name) or []
        if resp.id:
            if resp.id in pending:
                pending.remove(resp.id)
            return resp.id
        return pending.pop(0) if pending else f"call_{resp.name}"


def _user_turn(content: Content, ids: _Ids) -> list[Message]:
    results: list[CanonicalPart] = []
    others: list[CanonicalPart] = []
    for part in content.parts:
        if part.function_response is not None:
            resp = part.function_response
            results.append(_result_part(resp, ids.answer(resp)))
        else:
            others.extend(decode_part(part, ids.new))
    out = [Message(role="tool", content=results)] if results else []
    if others:
        out.append(Message(role="user", content=others))
    return out


def _model_turn(content: Content, ids: _Ids) -> Message:
    parts: list[CanonicalPart] = []
    for part in content.parts:
        decoded = decode_part(part, ids.new)
        if part.function_call is not None:
            ids.called(part.function_call.name, decoded[0].id)  # type: ignore[union-attr]
        parts.extend(decoded)
    return Message(role="assistant", content=parts)


def decode_messages(req: GenerateContentRequest) -> list[Message]:
    messages: list[Message] = []
    if req.system_instruction is not None:
        texts: list[CanonicalPart] = [
            TextPart(text=p.text) for p in req.system_instruction.parts if p.text
        ]
        if texts:
            messages.append(Message(role="system", content=texts))
    ids = _Ids()
    for i, content in enumerate(req.contents):
        role = content.role or "user"
        if role == "model":
            messages.append(_model_turn(content, ids))
        elif role == "user":
            messages.extend(_user_turn(content, ids))
        else:
            raise GatewayError(
                "invalid_request",
                f"contents[{i}].role must be 'user' or 'model', not {role!r}",
                param=f"contents[{i}].role",
            )
    return messages


def _decode_tools(tools: list[GeminiTool] | None) -> list[Tool]:
    out: list[Tool] = []
    for tool in tools or []:
        for d in tool.function_declarations or []:
            schema = d.parameters_json_schema
            if schema is None and d.parameters is not None:
                schema = openapi_to_json_schema(d.parameters)
            params = schema if schema is not None else {"type": "object", "properties": {}}
            out.append(Tool(name=d.name, description=d.description or None, parameters=params))
    return out


def _decode_tool_choice(
    config: ToolConfig | None, tools: list[Tool]
) -> tuple[ToolChoice | None, list[Tool]]:
    fcc = config.function_calling_config if config else None
    if fcc is None or fcc.mode is None:
        return None, tools
    if fcc.mode == "NONE":
        return ToolChoice(mode="none"), tools
    if fcc.mode != "ANY":
        return ToolChoice(mode="auto"), tools
    names = fcc.allowed_function_names or []
    if len(names) == 1:
        return ToolChoice(mode="tool", name=names[0]), tools
    if names:
        # ANY limited to several functions: the same as offering only those.
        tools = [t for t in tools if t.name in names]
    return ToolChoice(mode="required"), tools


def _decode_reasoning(tc: ThinkingConfig) -> Reasoning:
    budget = tc.thinking_budget
    effort = tc.thinking_level.lower() if tc.thinking_level else None
    return Reasoning(
        enabled=budget != 0,
        effort=effort if effort in EFFORT_BUDGET else None,  # type: ignore[arg-type]
        max_tokens=budget if budget is not None and budget > 0 else None,
        exclude=not tc.include_thoughts,
    )


def _decode_format(gc: GenerationConfig) -> ResponseFormat | None:
    if gc.response_mime_type != "application/json":
        return None
    schema = gc.response_json_schema
    if schema is None and gc.response_schema is not None:
        schema = openapi_to_json_schema(gc.response_schema)
    if schema is None:
        return ResponseFormat(type="json_object")
    return ResponseFormat(type="json_schema", schema=schema)


def _apply_generation(req: ChatRequest, gc: GenerationConfig) -> None:
    req.max_tokens = gc.max_output_tokens
    req.temperature = gc.temperature
    req.top_p = gc.top_p
    req.top_k = int(gc.top_k) if gc.top_k is not None else None
    req.stop = gc.stop_sequences or []
    req.n = gc.candidate_count or 1
    req.seed = gc.seed
    req.presence_penalty = gc.presence_penalty
    req.frequency_penalty = gc.frequency_penalty
    req.logprobs = bool(gc.response_logprobs)
    req.top_logprobs = gc.logprobs
    req.response_format = _decode_format(gc)
    if gc.thinking_config is not None:
        req.reasoning = _decode_reasoning(gc.thinking_config)


def decode_chat_request(incoming: GenerateContentRequest, model: str, stream: bool) -> ChatRequest:
    tools = _decode_tools(incoming.tools)
    choice, tools = _decode_tool_choice(incoming.tool_config, tools)
    req = ChatRequest(
        model=model,
        messages=decode_messages(incoming),
        stream=stream,
        include_usage=stream,
        tools=tools,
        tool_choice=choice if tools else None,
    )
    if incoming.generation_config is not None:
        _apply_generation(req, incoming.generation_config)
    return req
