"""A throwaway dialect built from docs/architecture.md's "How to add a
dialect" recipe: a tiny echo API, ``POST /echo/v1/say``.

Request ``{"model", "text", "stream"}``; answer ``{"id", "model", "reply",
"tokens": {"in", "out"}}``; a stream is SSE ``data: {"delta": ...}`` frames
then ``data: {"done": true, "tokens": ...}``; an error is ``{"problem":
{"kind", "message"}}``. tests/codecs/test_add_a_dialect.py serves it
through a door and through the simulator.
"""

from __future__ import annotations

from echo_dialect.client import EchoCodec
from echo_dialect.server import decode_request, encode_error, encode_response
from echo_dialect.server_stream import StreamEncoder
from junction.codecs.base import ServerCodec, ServerDefaults
from junction.types import ChatRequest, ChatResponse, GatewayError

__all__ = ["CODEC", "PARAMS", "PARAM_NOTES", "SERVER"]

PARAMS: dict[str, str] = {"max_tokens": "native"}
PARAM_NOTES: dict[str, str] = {"max_tokens": "sent as max_words"}

CODEC = EchoCodec()


class EchoServer(ServerDefaults):
    name = "echo"
    paths: tuple[str, ...] = ("/echo/v1/say",)

    def decode_request(self, body: bytes, *, model: str = "", stream: bool = False) -> ChatRequest:
        return decode_request(body)

    def encode_response(self, response: ChatResponse, request: ChatRequest) -> bytes:
        return encode_response(response)

    def stream_encoder(self, request: ChatRequest) -> StreamEncoder:
        return StreamEncoder(request.model)

    def encode_error(self, err: GatewayError) -> bytes:
        return encode_error(err)


SERVER: ServerCodec = EchoServer()
