"""Google Gemini ``generateContent`` / ``streamGenerateContent`` and
``embedContent`` / ``batchEmbedContents``, both directions.

Client side: :class:`GeminiCodec` (``CODEC``). ``target.base_url`` is the API
root without a version (``https://generativelanguage.googleapis.com``); the
version is ``target.api_version`` or ``v1beta``. The key travels in
``x-goog-api-key`` (vendor quirk ``auth = "x-goog-api-key"``).

Choices made where the wire formats differ:

- Tools go out as ``parametersJsonSchema`` and structured output as
  ``responseJsonSchema`` (full JSON Schema, as canonical requests hold it).
- Reasoning: ``reasoning.max_tokens`` is the ``thinkingBudget``; else
  ``effort`` maps through :data:`EFFORT_BUDGET`; ``enabled=False`` is budget 0;
  ``includeThoughts`` is ``not reasoning.exclude``.
- Thinking parts go back to Gemini only when Gemini made them
  (``provider == "gemini"``, or no provider but a signature); others are dropped.
- A function call without ``id`` gets ``call_<responseId>_<candidate>_<n>``.
- Finish reasons: see :func:`junction.codecs.gemini.wire.finish_reason`
  (STOP with a function call is ``tool_calls``; unusual failures are ``error``).
- Usage: prompt = promptTokenCount + toolUsePromptTokenCount, completion =
  candidatesTokenCount + thoughtsTokenCount. Gemini reports no embedding usage.

Server side (simulator, Gemini ingress): :func:`decode_request`,
:func:`encode_response`, :class:`StreamEncoder`, :func:`encode_error`,
:func:`decode_embed_request`, :func:`encode_embed_response`.
"""

from __future__ import annotations

from junction.codecs.base import ServerCodec, ServerDefaults
from junction.codecs.gemini.client import EFFORT_BUDGET, GeminiCodec
from junction.codecs.gemini.client_stream import GeminiStreamDecoder
from junction.codecs.gemini.server import (
    decode_embed_request,
    decode_request,
    encode_embed_response,
    encode_error,
    encode_response,
)
from junction.codecs.gemini.server_stream import StreamEncoder
from junction.types import ChatRequest, ChatResponse, GatewayError

__all__ = [
    "CODEC",
    "EFFORT_BUDGET",
    "PARAMS",
    "PARAM_NOTES",
    "SERVER",
    "GeminiCodec",
    "GeminiStreamDecoder",
    "StreamEncoder",
    "decode_embed_request",
    "decode_request",
    "encode_embed_response",
    "encode_error",
    "encode_response",
]

PARAMS: dict[str, str] = {
    "max_tokens": "native",
    "temperature": "native",
    "top_p": "native",
    "top_k": "native",
    "frequency_penalty": "native",
    "presence_penalty": "native",
    "seed": "native",
    "stop": "native",
    "n": "native",
    "logprobs": "native",
    "top_logprobs": "native",
    "tools": "translated",
    "tool_choice": "translated",
    "response_format": "translated",
    "reasoning": "translated",
}


PARAM_NOTES: dict[str, str] = {
    "n": "candidateCount",
    "logprobs": "responseLogprobs; top_logprobs is generationConfig.logprobs",
    "tool_choice": "functionCallingConfig.mode AUTO/NONE/ANY (+ allowedFunctionNames)",
    "response_format": "responseMimeType application/json + responseJsonSchema",
    "reasoning": "thinkingConfig.thinkingBudget (effort mapped) and includeThoughts",
}


CODEC = GeminiCodec()


class GeminiServer(ServerDefaults):
    """The server side of the generateContent API (a :class:`~junction.codecs.base.ServerCodec`)."""

    name = "gemini"
    paths: tuple[str, ...] = ()

    def decode_request(self, body: bytes, *, model: str = "", stream: bool = False) -> ChatRequest:
        return decode_request(body, model=model, stream=stream)

    def encode_response(self, response: ChatResponse, request: ChatRequest) -> bytes:
        return encode_response(response)

    def stream_encoder(self, request: ChatRequest) -> StreamEncoder:
        return StreamEncoder()

    def encode_error(self, err: GatewayError) -> bytes:
        return encode_error(err)


SERVER: ServerCodec = GeminiServer()
