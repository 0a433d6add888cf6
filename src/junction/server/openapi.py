"""junction's own OpenAPI 3.1 document, served at ``GET /openapi.json``.

Request and response bodies are generated from the codecs' msgspec wire
structs (``msgspec.json.schema_components``): the structs the doors decode
requests into and encode answers from, so the document says what the code
accepts and sends. Bodies that junction builds as plain objects (the model
list, the endpoints page, generation records, Anthropic's ``message``) are
described here by hand. The document is built once, when the app is created.

Request schemas are the decoders' structural view (types, required fields);
values the doors check by hand (a role name, an effort level) are answered
with a 400 in the door's error shape, which every operation documents.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import msgspec

from junction import __version__
from junction.codecs.anthropic_messages import wire as anthropic_wire
from junction.codecs.gemini import wire as gemini_wire
from junction.codecs.openai_chat import wire as chat_wire
from junction.codecs.openai_responses import wire as responses_wire
from junction.server import gemini_door
from junction.server.asgi import Request, Response
from junction.server.errors import OpenRouterErrorEnvelope

JsonSchema = dict[str, Any]

_REF = "#/components/schemas/{name}"


def _components(namespace: str, types: dict[str, Any]) -> tuple[dict[str, JsonSchema], JsonSchema]:
    """Schemas for ``types`` (wire structs by the name the document gives
    them), their sub-structs namespaced ``<namespace>.<struct>``."""
    names = list(types)
    refs, found = msgspec.json.schema_components(
        [types[n] for n in names], ref_template=_REF.format(name=namespace + ".{name}")
    )
    components = {f"{namespace}.{key}": value for key, value in found.items()}
    return components, dict(zip(names, refs, strict=True))


def _wire_schemas() -> tuple[dict[str, JsonSchema], dict[str, JsonSchema]]:
    """Every generated schema (components, and a ref per body name)."""
    sources: dict[str, dict[str, Any]] = {
        "openai_chat": {
            "ChatCompletionRequest": chat_wire.Request,
            "ChatCompletion": chat_wire.Response,
            "EmbeddingRequest": chat_wire.EmbeddingRequest,
            "EmbeddingList": chat_wire.EmbeddingList,
            "OpenAIError": chat_wire.ErrorEnvelope,
        },
        "openai_responses": {
            "ResponseRequest": responses_wire.Request,
            "Response": responses_wire.Response,
            "ResponsesError": responses_wire.ErrorEnvelope,
        },
        "anthropic_messages": {
            "MessagesRequest": anthropic_wire.Request,
            "Usage": anthropic_wire.ServerUsage,
        },
        "openrouter": {"OpenRouterError": OpenRouterErrorEnvelope},
        "gemini": {
            "GenerateContentRequest": gemini_wire.GenerateContentRequest,
            "GenerateContentResponse": gemini_wire.GenerateContentResponse,
            "GeminiContent": gemini_wire.Content,
            "EmbedContentRequest": gemini_wire.EmbedContentRequest,
            "EmbedContentResponse": gemini_wire.EmbedContentResponse,
            "BatchEmbedContentsRequest": gemini_wire.BatchEmbedRequest,
            "BatchEmbedContentsResponse": gemini_wire.BatchEmbedResponse,
            "CountTokensResponse": gemini_door.CountTokensResponse,
            "GeminiModelList": gemini_door.ModelList,
            "GeminiModel": gemini_door.GeminiModel,
            "GeminiErrorBody": gemini_wire.ErrorBody,
        },
    }
    components: dict[str, JsonSchema] = {}
    refs: dict[str, JsonSchema] = {}
    for namespace, types in sources.items():
        found, named = _components(namespace, types)
        components.update(found)
        refs.update(named)
    return components, refs


def _nullable(kind: str) -> JsonSchema:
    return {"type": [kind, "null"]}


def _object(
    required: dict[str, JsonSchema], optional: dict[str, JsonSchema] | None = None
) -> JsonSchema:
    return {
        "type": "object",
        "properties": {**required, **(optional or {})},
        "required": list(required),
    }


_STRING = {"type": "string"}
_INTEGER = {"type": "integer"}
_NUMBER = {"type": "number"}
_BOOLEAN = {"type": "boolean"}
_STRINGS = {"type": "array", "items": _STRING}


def _hand_schemas(refs: dict[str, JsonSchema]) -> dict[str, JsonSchema]:
    """Bodies junction builds as plain objects, as the handlers write them."""
    pricing = _object(
        {"prompt": _STRING, "completion": _STRING, "request": _STRING, "image": _STRING},
        {"overrides": {"type": "array", "items": {"type": "object"}}},
    )
    pricing["additionalProperties"] = _STRING
    architecture = _object(
        {"modality": _STRING, "input_modalities": _STRINGS, "output_modalities": _STRINGS}
    )
    openrouter_fields = {
        "id": _STRING,
        "name": _STRING,
        "created": _INTEGER,
        "context_length": _nullable("integer"),
        "architecture": architecture,
        "pricing": pricing,
        "supported_parameters": _STRINGS,
    }
    openrouter_model = _object(openrouter_fields)
    model = _object(
        {
            **openrouter_fields,
            "object": {"const": "model"},
            "owned_by": _STRING,
            "kind": _STRING,
        }
    )
    endpoint = _object(
        {
            "name": _STRING,
            "model_id": _STRING,
            "context_length": _INTEGER,
            "pricing": pricing,
            "provider_name": _STRING,
            "tag": _STRING,
            "supported_parameters": _STRINGS,
            "status": _INTEGER,
            "uptime_last_30m": _nullable("number"),
            "supports_tool_choice": _object(
                {"auto": _BOOLEAN, "function": _BOOLEAN, "none": _BOOLEAN, "required": _BOOLEAN}
            ),
        }
    )
    anthropic_model = _object(
        {
            "type": {"const": "model"},
            "id": _STRING,
            "display_name": _STRING,
            "created_at": _STRING,
        }
    )
    anthropic_page = _object(
        {
            "data": {"type": "array", "items": anthropic_model},
            "has_more": _BOOLEAN,
            "first_id": _nullable("string"),
            "last_id": _nullable("string"),
        }
    )
    openai_list = _object({"object": {"const": "list"}, "data": {"type": "array", "items": model}})
    anthropic_message = _object(
        {
            "id": _STRING,
            "type": {"const": "message"},
            "role": {"const": "assistant"},
            "model": _STRING,
            "content": {"type": "array", "items": _object({"type": _STRING})},
            "stop_reason": _nullable("string"),
            "stop_sequence": _nullable("string"),
            "usage": refs["Usage"],
        }
    )
    anthropic_error = _object(
        {"type": {"const": "error"}, "error": _object({"type": _STRING, "message": _STRING})}
    )
    generation = _object(
        {
            "id": _STRING,
            "total_cost": _NUMBER,
            "created_at": _STRING,
            "model": _STRING,
            "streamed": _BOOLEAN,
            "cancelled": _BOOLEAN,
            "provider_name": _nullable("string"),
            "latency": _NUMBER,
            "tokens_prompt": _INTEGER,
            "tokens_completion": _INTEGER,
        }
    )
    return {
        "ModelList": {
            "description": "OpenAI's list; Anthropic's page with an anthropic-version header.",
            "anyOf": [openai_list, anthropic_page],
        },
        "Model": {
            "description": "OpenAI's Model; Anthropic's ModelInfo with anthropic-version.",
            "anyOf": [model, anthropic_model],
        },
        "OpenRouterModelList": _object(
            {
                "data": {"type": "array", "items": openrouter_model},
                "total_count": _INTEGER,
                "links": _object({"next": _nullable("string")}),
            }
        ),
        "OpenRouterModel": _object({"data": openrouter_model}),
        "ModelEndpoints": _object(
            {
                "data": _object(
                    {
                        "id": _STRING,
                        "name": _STRING,
                        "architecture": architecture,
                        "endpoints": {"type": "array", "items": endpoint},
                    }
                )
            }
        ),
        "Generation": _object({"data": generation}),
        "AnthropicMessage": anthropic_message,
        "AnthropicError": anthropic_error,
        "TokenCount": _object({"input_tokens": _INTEGER}),
        "GeminiError": _object({"error": refs["GeminiErrorBody"]}),
        "CountTokensGeminiRequest": {
            "type": "object",
            "description": "contents, or a whole generateContentRequest",
            "properties": {
                "contents": {"type": "array", "items": refs["GeminiContent"]},
                "generateContentRequest": refs["GenerateContentRequest"],
            },
        },
        "Health": _object({"status": {"const": "ok"}, "models": _INTEGER}),
    }


@dataclass(frozen=True, slots=True)
class Operation:
    """One operation, served under each of ``paths``."""

    method: str
    paths: tuple[str, ...]
    operation_id: str
    summary: str
    answer: str
    """Name of the 200 body's schema."""
    error: str
    """Name of the error body's schema (the door's error shape)."""
    body: str | None = None
    streams: bool = False
    """The 200 may be ``text/event-stream`` (``"stream": true``)."""
    upstream: bool = True
    """Calls a provider: 502 / 503 / 504 are documented."""
    parameters: tuple[JsonSchema, ...] = ()
    examples: tuple[JsonSchema, ...] = ()
    """Request bodies that work against the demo config (``examples/sim.yaml``)."""
    query_key: bool = False
    """Takes the client key as ``?key=`` too (the Gemini door)."""


def _openai(path: str) -> tuple[str, ...]:
    return (f"/v1{path}", f"/api/v1{path}", path)


_MODEL_PARAM: JsonSchema = {
    "name": "model",
    "in": "path",
    "required": True,
    "description": "The model's name as listed by /v1/models.",
    "schema": _STRING,
}
_ID_PARAM: JsonSchema = {
    "name": "id",
    "in": "query",
    "required": True,
    "description": "A response id junction returned.",
    "schema": _STRING,
}


def _gemini(method: str) -> tuple[str, ...]:
    return tuple(f"/{v}/models/{{model}}:{method}" for v in gemini_door.VERSIONS)


def _gemini_model(example: str) -> JsonSchema:
    return {
        "name": "model",
        "in": "path",
        "required": True,
        "description": "The model's name as listed by /v1/models (slashes kept).",
        "schema": _STRING,
        "example": example,
    }


_ALT_SSE: JsonSchema = {
    "name": "alt",
    "in": "query",
    "required": True,
    "description": "The stream's framing: server-sent events, the only one served.",
    "schema": {"enum": ["sse"]},
}

_HELLO = [{"role": "user", "content": "Say hello."}]
_CHAT = {"model": "sim/openai", "messages": _HELLO}
_RESPONSE = {"model": "sim/responses", "input": "Say hello."}
_MESSAGE = {"model": "sim/anthropic", "max_tokens": 64, "messages": _HELLO}
_CONTENTS = {"contents": [{"role": "user", "parts": [{"text": "Say hello."}]}]}
_EMBED_CONTENT = {"content": {"parts": [{"text": "Say hello."}]}}


def _streamed(*bodies: JsonSchema) -> tuple[JsonSchema, ...]:
    return (*bodies, *({**b, "stream": True} for b in bodies))


OPERATIONS: tuple[Operation, ...] = (
    Operation(
        "post", _openai("/chat/completions"), "createChatCompletion",
        "OpenAI Chat Completions", "ChatCompletion", "OpenAIError",
        body="ChatCompletionRequest", streams=True,
        examples=_streamed(_CHAT, {**_CHAT, "model": "sim/gemini"}),
    ),
    Operation(
        "post", _openai("/embeddings"), "createEmbedding", "OpenAI embeddings",
        "EmbeddingList", "OpenAIError", body="EmbeddingRequest",
        examples=({"model": "sim/embedding", "input": ["Say hello.", "Bye."]},),
    ),
    Operation(
        "post", _openai("/responses"), "createResponse", "OpenAI Responses (stateless)",
        "Response", "ResponsesError", body="ResponseRequest", streams=True,
        examples=_streamed(_RESPONSE, {**_RESPONSE, "model": "sim/bedrock"}),
    ),
    Operation(
        "post", ("/v1/messages", "/api/v1/messages"), "createMessage", "Anthropic Messages",
        "AnthropicMessage", "AnthropicError", body="MessagesRequest", streams=True,
        examples=_streamed(_MESSAGE, {**_MESSAGE, "model": "sim/openai"}),
    ),
    Operation(
        "post", ("/v1/messages/count_tokens", "/api/v1/messages/count_tokens"), "countTokens",
        "Anthropic token count (the provider's, else an estimate)", "TokenCount",
        "AnthropicError", body="CountTokensRequest",
        examples=({"model": "sim/anthropic", "messages": _HELLO},),
    ),
    Operation(
        "get", ("/v1/models", "/models"), "listModels",
        "Models, in OpenAI's shape (with OpenRouter's fields) or Anthropic's",
        "ModelList", "OpenAIError", upstream=False,
    ),
    Operation(
        "get", ("/api/v1/models",), "listModels", "Models, in OpenRouter's shape",
        "OpenRouterModelList", "OpenAIError", upstream=False,
    ),
    Operation(
        "get", ("/v1/models/{model}", "/models/{model}"), "getModel",
        "One model, in OpenAI's shape or Anthropic's", "Model", "OpenAIError",
        upstream=False, parameters=(_MODEL_PARAM,),
    ),
    Operation(
        "get", ("/api/v1/model/{model}",), "getModel", "One model, in OpenRouter's shape",
        "OpenRouterModel", "OpenAIError", upstream=False, parameters=(_MODEL_PARAM,),
    ),
    Operation(
        "get", tuple(p + "/{model}/endpoints" for p in _openai("/models")), "listEndpoints",
        "A model's endpoints with live statistics (OpenRouter's shape)", "ModelEndpoints",
        "OpenAIError", upstream=False, parameters=(_MODEL_PARAM,),
    ),
    Operation(
        "get", _openai("/generation"), "getGeneration",
        "Cost, tokens and attempts of one response (OpenRouter's shape)", "Generation",
        "OpenAIError", upstream=False, parameters=(_ID_PARAM,),
    ),
    Operation(
        "post", _gemini("generateContent"), "geminiGenerateContent", "Gemini generateContent",
        "GenerateContentResponse", "GeminiError", body="GenerateContentRequest",
        parameters=(_gemini_model("sim/gemini"),), examples=(_CONTENTS,), query_key=True,
    ),
    Operation(
        "post", _gemini("streamGenerateContent"), "geminiStreamGenerateContent",
        "Gemini streamGenerateContent (alt=sse)", "GenerateContentResponse", "GeminiError",
        body="GenerateContentRequest", streams=True,
        parameters=(_gemini_model("sim/openai"), _ALT_SSE), examples=(_CONTENTS,), query_key=True,
    ),
    Operation(
        "post", _gemini("countTokens"), "geminiCountTokens",
        "Gemini token count (the provider's, else an estimate)", "CountTokensResponse",
        "GeminiError", body="CountTokensGeminiRequest",
        parameters=(_gemini_model("sim/anthropic"),), examples=(_CONTENTS,), query_key=True,
    ),
    Operation(
        "post", _gemini("embedContent"), "geminiEmbedContent", "Gemini embedContent",
        "EmbedContentResponse", "GeminiError", body="EmbedContentRequest",
        parameters=(_gemini_model("sim/embedding"),), examples=(_EMBED_CONTENT,), query_key=True,
    ),
    Operation(
        "post", _gemini("batchEmbedContents"), "geminiBatchEmbedContents",
        "Gemini batchEmbedContents", "BatchEmbedContentsResponse", "GeminiError",
        body="BatchEmbedContentsRequest", parameters=(_gemini_model("sim/embedding"),),
        examples=({"requests": [_EMBED_CONTENT, _EMBED_CONTENT]},), query_key=True,
    ),
    Operation(
        "get", ("/v1beta/models",), "geminiListModels",
        "Models, in Gemini's shape (also GET /v1/models from a Gemini client)",
        "GeminiModelList", "GeminiError", upstream=False, query_key=True,
    ),
    Operation(
        "get", ("/v1beta/models/{model}",), "geminiGetModel", "One model, in Gemini's shape",
        "GeminiModel", "GeminiError", upstream=False, query_key=True,
        parameters=(_gemini_model("sim/gemini"),),
    ),
)  # fmt: skip

_CLIENT_ERRORS = {
    "400": "The request is malformed or a value is out of range; the message says which.",
    "401": "No client key, or an unknown one (when keys are configured).",
    "404": "No such model, route or record.",
    "413": "The body is larger than server.max_body_bytes.",
    "429": "Rate limited (by junction or the provider); see retry-after.",
    "4XX": "Another client error a provider answered with, relayed.",
}
_UPSTREAM_ERRORS = {
    "502": "The provider failed or sent something unreadable.",
    "503": "The provider is overloaded, or junction is starting up.",
    "504": "The provider did not answer in time.",
}


_SSE_EVENT = _object({"data": _STRING}, {"event": _STRING, "id": _STRING})
"""One server-sent event (OpenAPI 3.1 reads an event stream's schema per event):
``data`` is the door's JSON chunk, or OpenAI's ``[DONE]``."""


def _json(ref: JsonSchema) -> JsonSchema:
    return {"application/json": {"schema": ref}}


def _error_shape(op: Operation, path: str) -> str:
    """The door's error shape: OpenRouter's under ``/api/v1`` (but Anthropic's
    Messages, which keep Anthropic's, as OpenRouter's do)."""
    if path.startswith("/api/v1/") and op.error != "AnthropicError":
        return "OpenRouterError"
    return op.error


def _operation(op: Operation, path: str, refs: dict[str, JsonSchema]) -> JsonSchema:
    content = _json(refs[op.answer])
    if op.streams:
        content["text/event-stream"] = {"schema": _SSE_EVENT}
    responses: JsonSchema = {"200": {"description": op.summary, "content": content}}
    errors = _CLIENT_ERRORS | (_UPSTREAM_ERRORS if op.upstream else {})
    for status, why in errors.items():
        responses[status] = {"description": why, "content": _json(refs[_error_shape(op, path)])}
    out: JsonSchema = {
        "operationId": op.operation_id + _alias(path),
        "summary": op.summary,
        "responses": responses,
    }
    if op.query_key:
        out["security"] = [*_CLIENT_KEY, {"key": []}, {}]
    if op.parameters:
        out["parameters"] = list(op.parameters)
    if op.body is not None:
        body = _json(refs[op.body])
        if op.examples:
            body["application/json"]["examples"] = {
                f"example{i}": {"value": value} for i, value in enumerate(op.examples)
            }
        out["requestBody"] = {"required": True, "content": body}
    return out


def _alias(path: str) -> str:
    """Operation ids are unique per path: the ``/api/v1`` and bare aliases get a suffix."""
    if path.startswith("/api/v1/"):
        return "OpenRouter"
    if path.startswith("/v1beta/"):
        return "V1beta"
    return "" if path.startswith("/v1/") else "Bare"


def _count_tokens(request: JsonSchema, components: dict[str, JsonSchema]) -> JsonSchema:
    """The Messages request without ``max_tokens`` required (count_tokens takes none)."""
    name = request["$ref"].rsplit("/", 1)[1]
    schema = dict(components[name])
    schema["required"] = [f for f in schema.get("required", []) if f != "max_tokens"]
    schema["title"] = "CountTokensRequest"
    components["anthropic_messages.CountTokensRequest"] = schema
    return {"$ref": _REF.format(name="anthropic_messages.CountTokensRequest")}


def build_document(version: str) -> JsonSchema:
    """The OpenAPI 3.1 document for every route junction serves."""
    components, refs = _wire_schemas()
    refs["CountTokensRequest"] = _count_tokens(refs["MessagesRequest"], components)
    for name, schema in _hand_schemas(refs).items():
        components[name] = schema
        refs[name] = {"$ref": _REF.format(name=name)}
    paths: dict[str, JsonSchema] = {}
    for op in OPERATIONS:
        for path in op.paths:
            paths.setdefault(path, {})[op.method] = _operation(op, path, refs)
    paths["/health"] = {
        "get": _plain("health", "Liveness and the number of models", refs["Health"])
    }
    paths["/openapi.json"] = {"get": _plain("openapi", "This document", {"type": "object"})}
    return {
        "openapi": "3.1.0",
        "info": {"title": "junction", "version": version},
        "paths": paths,
        "components": {"schemas": components, "securitySchemes": _SECURITY},
        "security": [*_CLIENT_KEY, {}],
    }


def _plain(operation_id: str, summary: str, schema: JsonSchema) -> JsonSchema:
    return {
        "operationId": operation_id,
        "summary": summary,
        "security": [],
        "responses": {"200": {"description": summary, "content": _json(schema)}},
    }


_SECURITY = {
    "bearer": {"type": "http", "scheme": "bearer"},
    "x-api-key": {"type": "apiKey", "in": "header", "name": "x-api-key"},
    "x-goog-api-key": {"type": "apiKey", "in": "header", "name": "x-goog-api-key"},
    "key": {"type": "apiKey", "in": "query", "name": "key"},
}
"""The client key (when keys are configured), in any of the three headers
(or, at the Gemini door only, ``?key=``)."""
_CLIENT_KEY: list[JsonSchema] = [{"bearer": []}, {"x-api-key": []}, {"x-goog-api-key": []}]


def endpoint() -> Callable[[object, Request], Awaitable[Response]]:
    """The ``GET /openapi.json`` handler, with the document encoded once."""
    body = msgspec.json.encode(build_document(__version__))

    async def openapi(state: object, request: Request) -> Response:
        return Response(body)

    return openapi
