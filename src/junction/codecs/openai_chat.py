"""The OpenAI Chat Completions dialect (``/v1/chat/completions``, ``/v1/embeddings``).

Both directions live behind this module:

- client side (egress, and every OpenAI-compatible vendor via ``Quirks``):
  :class:`OpenAIChatCodec` and its instance :data:`CODEC`;
- server side (junction's main ingress, and the simulator):
  :func:`decode_request`, :func:`encode_response`, :class:`StreamEncoder`,
  :func:`encode_error`, :func:`decode_embeddings_request`,
  :func:`encode_embeddings_response`.

The work is split into private siblings: ``openai_chat_ingress`` (request
bodies in), ``openai_chat_render`` (responses out), ``openai_chat_client``
(requests to providers), ``openai_chat_decode`` (what providers send back)
and ``openai_chat_common`` (shared facts).
"""

from __future__ import annotations

from junction.codecs.openai_chat_client import OpenAIChatCodec
from junction.codecs.openai_chat_common import normalise_finish
from junction.codecs.openai_chat_decode import OpenAIStreamDecoder, retry_after_seconds
from junction.codecs.openai_chat_ingress import decode_embeddings_request, decode_request
from junction.codecs.openai_chat_render import (
    StreamEncoder,
    encode_embeddings_response,
    encode_error,
    encode_response,
)

__all__ = [
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

CODEC = OpenAIChatCodec()

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
