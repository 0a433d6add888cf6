"""ChatRequest <-> Gemini ``GenerateContentRequest`` (private to the Gemini codec).

Tool schemas are sent as ``parametersJsonSchema`` and structured output as
``responseJsonSchema``: both take full JSON Schema, which is what canonical
tools and response formats hold, so no lossy conversion to Gemini's
OpenAPI-subset ``Schema`` is needed. The server side also reads the older
``parameters`` / ``responseSchema`` (converted to JSON Schema).
"""

from __future__ import annotations

from typing import Any

import msgspec

from junction.codecs.gemini_parts import (
    call_id,
    decode_part,
    encode_messages,
)
from junction.codecs.gemini_wire import (
    Content,
    FunctionCallingConfig,
    FunctionDeclaration,
    FunctionResponse,
    GenerateContentRequest,
    GenerationConfig,
    ThinkingConfig,
    ToolConfig,
    openapi_to_json_schema,
)
from junction.codecs.gemini_wire import Tool as GeminiTool
from junction.types import (
    ChatRequest,
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

EFFORT_BUDGET: dict[str, int] = {
    "none": 0,
    "minimal": 512,
    "low": 2048,
    "medium": 8192,
    "high": 24576,
    "xhigh": 24576,
    "max": 24576,
}
"""``reasoning.effort`` as a ``thinkingBudget``. 24576 is the largest budget
every Gemini 2.5 model accepts (Flash's maximum), so xhigh / max stop there."""

_MODES = {"auto": "AUTO", "none": "NONE", "required": "ANY", "tool": "ANY"}
_json_encode = msgspec.json.Encoder().encode


# -- canonical -> Gemini (client side) ------------------------------------------------


def _thinking(reasoning: Reasoning) -> ThinkingConfig:
    budget: int | None = reasoning.max_tokens
    if not reasoning.enabled:
        budget = 0
    elif budget is None and reasoning.effort is not None:
        budget = EFFORT_BUDGET[reasoning.effort]
    # includeThoughts defaults to false: sent only when thoughts are wanted.
    include = True if budget != 0 and not reasoning.exclude else None
    return ThinkingConfig(include_thoughts=include, thinking_budget=budget)


def _response_format(config: GenerationConfig, fmt: ResponseFormat) -> None:
    if fmt.type == "text":
        return
    config.response_mime_type = "application/json"
    if fmt.type == "json_schema" and fmt.schema is not None:
        config.response_json_schema = fmt.schema


def generation_config(req: ChatRequest) -> GenerationConfig | None:
    config = GenerationConfig(
        max_output_tokens=req.max_tokens,
        temperature=req.temperature,
        top_p=req.top_p,
        top_k=req.top_k,
        stop_sequences=req.stop or None,
        candidate_count=req.n if req.n != 1 else None,
        seed=req.seed,
        presence_penalty=req.presence_penalty,
        frequency_penalty=req.frequency_penalty,
        response_logprobs=True if req.logprobs else None,
        logprobs=req.top_logprobs if req.logprobs else None,
    )
    if req.response_format is not None:
        _response_format(config, req.response_format)
    if req.reasoning is not None:
        config.thinking_config = _thinking(req.reasoning)
    return config if config != GenerationConfig() else None


def _tools(tools: list[Tool]) -> list[GeminiTool] | None:
    if not tools:
        return None
    decls = [
        FunctionDeclaration(
            name=t.name, description=t.description, parameters_json_schema=t.parameters
        )
        for t in tools
    ]
    return [GeminiTool(function_declarations=decls)]


def _tool_config(choice: ToolChoice | None) -> ToolConfig | None:
    if choice is None:
        return None
    names = [choice.name] if choice.mode == "tool" and choice.name else None
    return ToolConfig(
        function_calling_config=FunctionCallingConfig(
            mode=_MODES[choice.mode], allowed_function_names=names
        )
    )


def encode_chat_request(req: ChatRequest) -> GenerateContentRequest:
    system, contents = encode_messages(req.messages)
    return GenerateContentRequest(
        contents=contents,
        system_instruction=system,
        tools=_tools(req.tools),
        tool_config=_tool_config(req.tool_choice) if req.tools else None,
        generation_config=generation_config(req),
    )


# -- Gemini -> canonical (server side) ---------------------------------------------------


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


def decode_chat_request(wire: GenerateContentRequest, model: str, stream: bool) -> ChatRequest:
    tools = _decode_tools(wire.tools)
    choice, tools = _decode_tool_choice(wire.tool_config, tools)
    req = ChatRequest(
        model=model,
        messages=decode_messages(wire),
        stream=stream,
        include_usage=stream,
        tools=tools,
        tool_choice=choice if tools else None,
    )
    if wire.generation_config is not None:
        _apply_generation(req, wire.generation_config)
    return req
