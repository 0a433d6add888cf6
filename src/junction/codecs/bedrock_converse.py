"""The AWS Bedrock Converse dialect (``/model/{modelId}/converse`` and
``/converse-stream``), plus embeddings through InvokeModel, both directions.

Client side (egress): :class:`BedrockConverseCodec` / ``CODEC`` (a ``ChatCodec``
and an ``EmbeddingCodec``). Server side (simulator, a Bedrock door):
:func:`decode_request`, :func:`encode_response`, :class:`StreamEncoder`,
:func:`encode_error` (+ :func:`error_headers`), :func:`decode_embeddings_request`,
:func:`encode_embeddings_response`.

Conventions:

- ``target.base_url`` is the runtime endpoint, e.g.
  ``https://bedrock-runtime.us-east-1.amazonaws.com``; ``target.model`` is the
  model id, inference-profile id or ARN (``us.anthropic.claude-sonnet-4-5-20250929-v1:0``).
- The model id is percent-encoded in the path except for the characters a
  path segment may hold literally (``:`` and the RFC 3986 sub-delims): the
  HTTP client (aiohttp/yarl) would decode ``%3A`` back to ``:`` anyway, and
  the SigV4 signature must cover the path actually sent. ``/`` (in ARNs)
  stays ``%2F``.
- Credentials: ``target.api_key`` is ``ACCESS_KEY_ID:SECRET_ACCESS_KEY[:SESSION_TOKEN]``
  (SigV4, service ``bedrock``) or a Bedrock API key (no colon; sent as
  ``Authorization: Bearer``). Region: from an AWS host, else
  ``target.api_version``, else ``us-east-1``. See :mod:`junction.codecs.bedrock_auth`.
- ``target.headers`` are added before signing (so they are signed too).
- Model-specific request fields go in ``additionalModelRequestFields`` by model
  family (from the id): Anthropic ``thinking`` / ``top_k``, Nova
  ``inferenceConfig.topK``, gpt-oss ``reasoning_effort``, Qwen ``reasoning_config``.
- Usage: Bedrock's ``inputTokens`` excludes cache reads and writes (recorded:
  totalTokens = inputTokens + cacheRead + cacheWrite + outputTokens), so
  prompt_tokens = inputTokens + cacheReadInputTokens + cacheWriteInputTokens.
- ``ChatRequest.extra`` fields named in ``Quirks.pass_extra`` (e.g.
  ``guardrailConfig``, ``performanceConfig``) are sent unchanged.
"""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import quote

import msgspec

from junction.codecs import bedrock_auth
from junction.codecs.base import Target, join_url
from junction.codecs.bedrock_decode import decode_request
from junction.codecs.bedrock_embed import (
    decode_embeddings_body,
    decode_embeddings_request,
    embed_family,
    embeddings_body,
    encode_embeddings_response,
)
from junction.codecs.bedrock_encode import (
    EFFORT_BUDGET,
    EFFORT_LEVEL,
    JSON_OBJECT_INSTRUCTION,
    encode_body,
)
from junction.codecs.bedrock_eventstream import CONTENT_TYPE as EVENTSTREAM_CONTENT_TYPE
from junction.codecs.bedrock_response import (
    decode_error,
    decode_response,
    encode_error,
    encode_response,
    error_headers,
)
from junction.codecs.bedrock_stream import BedrockStreamDecoder, StreamEncoder
from junction.types import (
    ChatRequest,
    ChatResponse,
    EmbeddingRequest,
    EmbeddingResponse,
    HttpRequest,
    UpstreamError,
)

__all__ = [
    "CODEC",
    "EFFORT_BUDGET",
    "EVENTSTREAM_CONTENT_TYPE",
    "PARAMS",
    "PARAM_NOTES",
    "BedrockConverseCodec",
    "BedrockStreamDecoder",
    "StreamEncoder",
    "decode_embeddings_request",
    "decode_request",
    "encode_embeddings_response",
    "encode_error",
    "encode_response",
    "error_headers",
    "model_path",
]

PARAMS: dict[str, str] = {
    "max_tokens": "native",
    "temperature": "native",
    "top_p": "native",
    "top_k": "translated",
    "stop": "translated",
    "tools": "translated",
    "tool_choice": "translated",
    "response_format": "translated",
    "reasoning": "translated",
    "metadata": "translated",
    "service_tier": "translated",
}
"""Canonical parameters this dialect carries. Absent, hence unsupported: n > 1,
seed, frequency_penalty, presence_penalty, repetition_penalty, logprobs,
top_logprobs, logit_bias, parallel_tool_calls (Converse cannot turn parallel
calls off), user (Converse has no end-user field)."""

PARAM_NOTES: dict[str, str] = {
    "max_tokens": "inferenceConfig.maxTokens",
    "temperature": "inferenceConfig.temperature",
    "top_p": "inferenceConfig.topP",
    "top_k": (
        "additionalModelRequestFields: Nova -> inferenceConfig.topK, others -> top_k "
        "(model-specific; some model families reject it)"
    ),
    "stop": "inferenceConfig.stopSequences",
    "tools": "toolConfig.tools[].toolSpec {name, description, inputSchema.json, strict}; "
    "cache_control -> a cachePoint entry after the tool",
    "tool_choice": (
        "auto -> {auto: {}}, required -> {any: {}}, tool -> {tool: {name}}; none -> tools "
        "are not sent, unless the conversation holds tool calls (Bedrock then requires "
        "toolConfig, so the tools are sent without a toolChoice)"
    ),
    "response_format": (
        "json_schema -> outputConfig.textFormat {type: json_schema, structure.jsonSchema "
        "{schema (JSON text), name, description}} (Converse structured output); json_object "
        f"-> a system instruction {JSON_OBJECT_INSTRUCTION!r}; text -> nothing"
    ),
    "reasoning": (
        "additionalModelRequestFields by model family: Anthropic -> thinking {type: enabled, "
        "budget_tokens} (reasoning.max_tokens, else by effort "
        + ", ".join(f"{k} {v}" for k, v in EFFORT_BUDGET.items())
        + "; at least 1024; maxTokens becomes budget + maxTokens when not above it); "
        "gpt-oss -> reasoning_effort, Qwen -> reasoning_config ("
        + ", ".join(f"{k} {v}" for k, v in EFFORT_LEVEL.items())
        + "); other families -> not sent"
    ),
    "metadata": "requestMetadata (invocation-log filter tags, at most 16)",
    "service_tier": "serviceTier {type}: default | priority | flex | reserved; others not sent",
}

_PATH_SAFE = ":@!$&'()*+,;="
"""Characters left literal in the model id path segment (see the module docstring)."""
_JSON = "application/json"


def model_path(model_id: str, operation: str) -> str:
    """``model/<id>/<operation>`` as sent (and signed)."""
    return f"model/{quote(model_id, safe=_PATH_SAFE)}/{operation}"


class BedrockConverseCodec:
    """Client side of Bedrock Converse / ConverseStream and InvokeModel embeddings."""

    name = "bedrock_converse"

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
        signed = bedrock_auth.auth_headers(target, "POST", url, headers, body)
        return HttpRequest(method="POST", url=url, headers=signed, body=body, stream=stream)


CODEC = BedrockConverseCodec()
