"""The OpenAI Responses dialect (``POST /v1/responses``).

Both directions live behind this module:

- client side (egress to OpenAI's ``/v1/responses``, for models that live
  only there): :class:`OpenAIResponsesCodec` and its instance :data:`CODEC`;
- server side (junction's second OpenAI door, and the simulator):
  :func:`decode_request`, :func:`encode_response`, :class:`StreamEncoder`,
  :func:`encode_error`.

Stored state: the codec keeps none; the door may (server/stored_responses.py,
docs/responses.md).

- Ingress: ``store`` is accepted whether true or false (true is OpenAI's
  default). With no response store configured nothing is kept and what
  needs stored state is refused with a 400 that says to send the whole
  conversation in ``input``: ``previous_response_id``, ``conversation``,
  ``background``, stored ``prompt`` templates and ``item_reference`` items.
  With one, ``previous_response_id`` is accepted: the door passes the stored
  turns to :func:`decode_request` as ``history``.
  Item ids a client sends back (``msg_``, ``fc_``, ``rs_``) are ignored;
  reasoning is carried by its ``encrypted_content``, kept in
  ``ThinkingPart.signature`` (``redacted`` stays Anthropic's).
  ``include`` and ``truncation`` are accepted and ignored (encrypted
  reasoning is always returned when there is some; input is never truncated).
- Egress: every request says ``store: false``, sends no item ids and asks for
  ``reasoning.encrypted_content`` when reasoning is on, so a conversation can
  be replayed statelessly (see ``client``).

The work is split into the dialect's rooms: ``wire`` (every wire struct and
vocabulary), ``client`` (requests to OpenAI, bodies and errors back),
``client_stream`` (OpenAI's event stream), ``server`` (request bodies in,
Response objects and errors out) and ``server_stream`` (SSE events out).
"""

from __future__ import annotations

from junction.codecs.base import ServerCodec, ServerDefaults
from junction.codecs.openai_responses.client import OpenAIResponsesCodec, encode_body
from junction.codecs.openai_responses.client_stream import ResponsesStreamDecoder
from junction.codecs.openai_responses.server import decode_request, encode_error, encode_response
from junction.codecs.openai_responses.server_stream import StreamEncoder
from junction.types import ChatRequest, ChatResponse, GatewayError

__all__ = [
    "CODEC",
    "PARAMS",
    "PARAM_NOTES",
    "SERVER",
    "OpenAIResponsesCodec",
    "ResponsesStreamDecoder",
    "StreamEncoder",
    "decode_request",
    "encode_body",
    "encode_error",
    "encode_response",
]

PARAMS: dict[str, str] = {
    "max_tokens": "translated",
    "temperature": "native",
    "top_p": "native",
    "tools": "translated",
    "tool_choice": "translated",
    "parallel_tool_calls": "native",
    "response_format": "translated",
    "reasoning": "translated",
    "user": "native",
    "metadata": "native",
    "service_tier": "native",
}
"""Canonical optional parameters this dialect carries. The Responses API has no
``stop``, ``seed``, ``n``, penalties, ``logit_bias`` or chat-style
``logprobs``; ``top_k`` and ``repetition_penalty`` are not OpenAI's."""


PARAM_NOTES: dict[str, str] = {
    "max_tokens": "sent as max_output_tokens",
    "tools": (
        "function tools only, flat ({type, name, description, parameters, strict}); strict is "
        "sent as false when the tool does not say (the Responses API defaults it to true)"
    ),
    "tool_choice": "a named tool is {type: function, name}",
    "response_format": "sent as text.format (json_schema fields at that level)",
    "reasoning": (
        "sent as reasoning {effort, summary} ('max' -> 'xhigh', disabled -> 'none', a token "
        "budget -> low/medium/high) with include reasoning.encrypted_content"
    ),
}

CODEC = OpenAIResponsesCodec()


class OpenAIResponsesServer(ServerDefaults):
    """The server side of the Responses API (a :class:`~junction.codecs.base.ServerCodec`)."""

    name = "openai_responses"
    paths: tuple[str, ...] = ("/v1/responses",)

    def decode_request(self, body: bytes, *, model: str = "", stream: bool = False) -> ChatRequest:
        return decode_request(body)

    def encode_response(self, response: ChatResponse, request: ChatRequest) -> bytes:
        return encode_response(response, request)

    def stream_encoder(self, request: ChatRequest) -> StreamEncoder:
        return StreamEncoder(request)

    def encode_error(self, err: GatewayError) -> bytes:
        return encode_error(err)


SERVER: ServerCodec = OpenAIResponsesServer()
