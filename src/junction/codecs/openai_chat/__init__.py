"""The OpenAI Chat Completions dialect (``/v1/chat/completions``, ``/v1/embeddings``).

Both directions live behind this module:

- client side (egress, and every OpenAI-compatible vendor via ``Quirks``):
  :class:`OpenAIChatCodec` and its instance :data:`CODEC`;
- server side (junction's main ingress, and the simulator):
  :func:`decode_request`, :func:`encode_response`, :class:`StreamEncoder`,
  :func:`encode_error`, :func:`decode_embeddings_request`,
  :func:`encode_embeddings_response`.

The work is split into the dialect's rooms: ``wire`` (every wire struct),
``client`` (requests to providers, their bodies and errors back),
``client_stream`` (their streams), ``server`` (request bodies in, responses
out) and ``server_stream`` (streams out).
"""

from __future__ import annotations

from junction.codecs._shared.openai_errors import retry_after_seconds
from junction.codecs.base import ServerCodec, ServerDefaults
from junction.codecs.openai_chat.client import AZURE_API_VERSION, OpenAIChatCodec
from junction.codecs.openai_chat.client_stream import OpenAIStreamDecoder
from junction.codecs.openai_chat.server import (
    decode_embeddings_request,
    decode_request,
    encode_embeddings_response,
    encode_error,
    encode_response,
)
from junction.codecs.openai_chat.server_stream import StreamEncoder
from junction.codecs.openai_chat.wire import normalise_finish
from junction.types import ChatRequest, ChatResponse, GatewayError

__all__ = [
    "AZURE_API_VERSION",
    "CODEC",
    "PARAMS",
    "PARAM_NOTES",
    "OpenAIChatCodec",
    "OpenAIStreamDecoder",
    "StreamEncoder",
    "decode_embeddings_request",
    "decode_request",
    "encode_embeddings_response",
    "encode_error",
    "encode_response",
    "normalise_finish",
    "retry_after_seconds",
]

PARAMS: dict[str, str] = {
    "max_tokens": "native",
    "temperature": "native",
    "top_p": "native",
    "frequency_penalty": "native",
    "presence_penalty": "native",
    "seed": "native",
    "stop": "native",
    "n": "native",
    "logprobs": "native",
    "top_logprobs": "native",
    "logit_bias": "native",
    "tools": "native",
    "tool_choice": "native",
    "parallel_tool_calls": "native",
    "response_format": "native",
    "reasoning": "translated",
    "user": "native",
    "metadata": "native",
    "service_tier": "native",
}
"""Canonical optional parameters this dialect carries. ``top_k`` and
``repetition_penalty`` are not OpenAI parameters: they are sent only to
vendors whose ``Quirks.pass_extra`` names them."""


PARAM_NOTES: dict[str, str] = {
    "max_tokens": "sent as max_tokens or max_completion_tokens (Quirks.max_tokens_field)",
    "reasoning": (
        "sent as reasoning_effort ('max' -> 'xhigh', disabled -> 'none', a token budget -> "
        "low/medium/high); vendors listing 'reasoning' in Quirks.pass_extra get the object"
    ),
}

CODEC = OpenAIChatCodec()


class OpenAIChatServer(ServerDefaults):
    """The server side of Chat Completions (a :class:`~junction.codecs.base.ServerCodec`)."""

    name = "openai_chat"
    paths: tuple[str, ...] = ("/v1/chat/completions",)
    finish_after_error = False  # as OpenAI: the error chunk ends the stream, no [DONE]

    def decode_request(self, body: bytes, *, model: str = "", stream: bool = False) -> ChatRequest:
        return decode_request(body)

    def encode_response(self, response: ChatResponse, request: ChatRequest) -> bytes:
        return encode_response(response)

    def stream_encoder(self, request: ChatRequest) -> StreamEncoder:
        return StreamEncoder(include_usage=request.include_usage)

    def encode_error(self, err: GatewayError) -> bytes:
        return encode_error(err)


SERVER: ServerCodec = OpenAIChatServer()
