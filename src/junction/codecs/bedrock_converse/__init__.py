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
  ``target.api_version``, else ``us-east-1``. See :mod:`junction.codecs.bedrock_converse.auth`.
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

from junction.codecs.base import ServerCodec, ServerDefaults
from junction.codecs.bedrock_converse.client import (
    EFFORT_BUDGET,
    EFFORT_LEVEL,
    JSON_OBJECT_INSTRUCTION,
    BedrockConverseCodec,
    model_path,
)
from junction.codecs.bedrock_converse.client_stream import BedrockStreamDecoder
from junction.codecs.bedrock_converse.embed import (
    decode_embeddings_request,
    encode_embeddings_response,
)
from junction.codecs.bedrock_converse.eventstream import CONTENT_TYPE as EVENTSTREAM_CONTENT_TYPE
from junction.codecs.bedrock_converse.server import (
    decode_request,
    encode_error,
    encode_response,
    error_headers,
)
from junction.codecs.bedrock_converse.server_stream import StreamEncoder
from junction.types import ChatRequest, ChatResponse, GatewayError

__all__ = [
    "CODEC",
    "EFFORT_BUDGET",
    "EVENTSTREAM_CONTENT_TYPE",
    "PARAMS",
    "PARAM_NOTES",
    "SERVER",
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


CODEC = BedrockConverseCodec()


class BedrockConverseServer(ServerDefaults):
    """The server side of the Converse API (a :class:`~junction.codecs.base.ServerCodec`)."""

    name = "bedrock_converse"
    paths: tuple[str, ...] = ()
    stream_content_type = EVENTSTREAM_CONTENT_TYPE

    def decode_request(self, body: bytes, *, model: str = "", stream: bool = False) -> ChatRequest:
        return decode_request(body, model=model, stream=stream)

    def encode_response(self, response: ChatResponse, request: ChatRequest) -> bytes:
        return encode_response(response)

    def stream_encoder(self, request: ChatRequest) -> StreamEncoder:
        return StreamEncoder()

    def encode_error(self, err: GatewayError) -> bytes:
        return encode_error(err)

    def error_headers(self, err: GatewayError) -> dict[str, str]:
        return error_headers(err)


SERVER: ServerCodec = BedrockConverseServer()
